import { describe, expect, it } from 'vitest'
import type { RenderedManifest, RenderedStack } from '../model/desired-state.ts'
import { CfnTag } from '../yaml/cfn-tags.ts'
import {
  canonicalJson,
  differingAddresses,
  fingerprintsOf,
  manifestFingerprint,
  stackFingerprint,
} from './fingerprint.ts'

function stack(template: unknown, parameters: Record<string, string> = {}): RenderedStack {
  return {
    address: '111111111111/global/dns',
    stackName: 'dns',
    region: 'eu-central-1',
    scope: 'global',
    source: 'stacks/dns.yaml',
    parameters,
    template,
  }
}

function manifest(
  object: Record<string, unknown>,
  address = 'aws:1:eu-west-1:kube-1/_/Namespace/shop',
): RenderedManifest {
  return { address, component: 'namespaces', source: 'cluster/manifests/namespaces/ns.yaml', object }
}

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined properties', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
    )
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }))
    expect(canonicalJson([undefined, null, 'x'])).toBe('[null,null,"x"]')
    expect(canonicalJson(undefined)).toBe('null')
    expect(canonicalJson('a"b')).toBe('"a\\"b"')
  })

  it('orders keys by UTF-16 code units and writes them as JSON does, whatever their form', () => {
    // Digits, upper case before lower case, a key past the BMP before one just below it.
    const value = { b: 1, B: 2, '10': 3, '2': 4, '\uffff': 5, '😀': 6, 'a"b': 7, '': 8 }
    expect(canonicalJson(value)).toBe('{"":8,"10":3,"2":4,"B":2,"a\\"b":7,"b":1,"😀":6,"\uffff":5}')
    expect(canonicalJson({ a: { b: [{}, [], { c: null, d: undefined }] } })).toBe(
      '{"a":{"b":[{},[],{"c":null}]}}',
    )
    expect(canonicalJson([1e21, -0, Number.NaN, true])).toBe('[1e+21,0,null,true]')
  })

  it('keeps array order, which is meaningful', () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]))
  })
})

describe('fingerprints', () => {
  it('do not depend on key order, and do on values', () => {
    const a = stack(
      { Resources: { Zone: { Type: 'AWS::Route53::HostedZone', Properties: { Name: 'x.' } } } },
      { P: '1' },
    )
    const b = stack(
      { Resources: { Zone: { Properties: { Name: 'x.' }, Type: 'AWS::Route53::HostedZone' } } },
      { P: '1' },
    )
    expect(stackFingerprint(a)).toBe(stackFingerprint(b))
    expect(stackFingerprint(a)).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(stackFingerprint(stack(a.template, { P: '2' }))).not.toBe(stackFingerprint(a))
    expect(
      manifestFingerprint(
        manifest({ kind: 'Namespace', metadata: { name: 'shop', labels: { a: '1', b: '2' } } }),
      ),
    ).toBe(
      manifestFingerprint(
        manifest({ metadata: { labels: { b: '2', a: '1' }, name: 'shop' }, kind: 'Namespace' }),
      ),
    )
    expect(manifestFingerprint(manifest({ kind: 'Namespace', metadata: { name: 'a' } }))).not.toBe(
      manifestFingerprint(manifest({ kind: 'Namespace', metadata: { name: 'b' } })),
    )
  })

  it('see a short-form template and its long form as the same stack', () => {
    const short = stack({
      Resources: {
        Zone: {
          Properties: { Name: new CfnTag('!Sub', '${DomainName}.'), Id: new CfnTag('!GetAtt', 'A.B') },
        },
      },
    })
    const long = stack({
      Resources: {
        Zone: { Properties: { Id: { 'Fn::GetAtt': ['A', 'B'] }, Name: { 'Fn::Sub': '${DomainName}.' } } },
      },
    })
    expect(stackFingerprint(short)).toBe(stackFingerprint(long))
  })

  it('are keyed by address for stacks and objects', () => {
    const s = stack({ Description: 'x' })
    const m = manifest({ kind: 'Namespace' })
    expect(fingerprintsOf({ stacks: [s], manifests: [m] })).toEqual({
      [s.address]: stackFingerprint(s),
      [m.address]: manifestFingerprint(m),
    })
    expect(fingerprintsOf({ stacks: [], manifests: [] })).toEqual({})
  })
})

describe('differingAddresses', () => {
  it('lists changed, missing and extra addresses, sorted, each once', () => {
    expect(differingAddresses({ c: '1', a: '1', b: '1' }, { a: '1', b: '2', d: '1' })).toEqual([
      'b',
      'c',
      'd',
    ])
    expect(differingAddresses({ a: '1' }, { a: '1' })).toEqual([])
    expect(differingAddresses({}, {})).toEqual([])
  })
})
