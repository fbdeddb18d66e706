import { describe, expect, test } from 'vitest'
import { DiagnosticSink } from '../diagnostics.ts'
import { CfnTag } from './cfn-tags.ts'
import { type ParsedDocument, parseYamlFile, type ValuePath } from './parse.ts'
import { decodeParseOutcome, encodeParseOutcome, PARSED_FILE_FORMAT } from './parsed-codec.ts'

/** Every path into a value, the root included. */
function pathsOf(value: unknown, path: ValuePath = []): ValuePath[] {
  const out: ValuePath[] = [path]
  const inner = value instanceof CfnTag ? value.value : value
  if (Array.isArray(inner)) {
    for (const [i, v] of inner.entries()) out.push(...pathsOf(v, [...path, i]))
  } else if (inner !== null && typeof inner === 'object')
    for (const [k, v] of Object.entries(inner)) out.push(...pathsOf(v, [...path, k]))
  return out
}

/** What a document says about every path: what a fresh and a stored parse must agree on. */
function positions(doc: ParsedDocument) {
  return pathsOf(doc.value).map((path) => ({
    path,
    at: doc.locate(path),
    key: doc.locateKey(path),
    inString: [0, 3, 7].map((i) => doc.locateInString(path, i)),
    source: doc.sourceText(path),
  }))
}

function roundTrip(path: string, text: string, yaml11Warnings = false) {
  const sink = new DiagnosticSink()
  const file = parseYamlFile(path, text, sink, { yaml11Warnings })
  const outcome = { file, errors: sink.errors, warnings: sink.warnings }
  const encoded = encodeParseOutcome(outcome)
  if (encoded === undefined) throw new Error('a fresh parse is always storable')
  const decoded = decodeParseOutcome(encoded, path, text)
  if (!decoded) throw new Error('a stored parse reads back')
  return { outcome, decoded }
}

const TEXT = `\ufeffdefaults: &defaults
  name: "tab\\there \\u00e9 {{ account.name }}"
  quoted: 'it''s {{ x }}'
  nan: .nan
  inf: -.inf
  zero: -0.0
  big: 123456789012345678901234567890
script: |
  line one
    indented {{ two }}
  three
folded: >
  a
  b
"__proto__": { polluted: true }
"\\0": null-character key
Resources:
  Zone:
    <<: *defaults
    Type: AWS::Route53::HostedZone
    Properties:
      Name: !Sub "\${DomainName}."
      Ids: !GetAtt Zone.NameServers
      List: [a, *defaults, c, { k: v }]
      Empty:
empty-doc-follows: true
---
- second: document
  flag: yes
`

describe('storing a parse', () => {
  test('a stored parse reads back the same values, positions and diagnostics', () => {
    const { outcome, decoded } = roundTrip('cluster/manifests/x/a.yaml', TEXT, true)
    expect(outcome.errors).toEqual([])
    expect(outcome.warnings.length).toBeGreaterThan(0) // `flag: yes`
    expect(decoded.errors).toEqual(outcome.errors)
    expect(decoded.warnings).toEqual(outcome.warnings)
    const fresh = outcome.file!.documents
    const stored = decoded.file!.documents
    expect(stored).toHaveLength(2)
    fresh.forEach((doc, i) => {
      const back = stored[i]!
      expect(back.index).toBe(doc.index)
      expect(back.value).toEqual(doc.value)
      expect(positions(back)).toEqual(positions(doc))
    })
    const value = stored[0]!.value as Record<string, Record<string, unknown>>
    const zone = value.Resources!.Zone as { Properties: Record<string, unknown> }
    expect(zone.Properties.Name).toBeInstanceOf(CfnTag)
    expect(Number.isNaN(value.defaults!.nan)).toBe(true)
    expect(value.defaults!.inf).toBe(Number.NEGATIVE_INFINITY)
    expect(Object.is(value.defaults!.zero, -0)).toBe(true)
    expect(Object.hasOwn(value, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(value['\0']).toBe('null-character key')
  })

  test('a file with errors is stored as its diagnostics alone', () => {
    const { outcome, decoded } = roundTrip('fleet.yaml', 'a: 1\na: 2\n')
    expect(outcome.file).toBeUndefined()
    expect(decoded).toEqual(outcome)
  })

  test('anything that is not a stored parse of this path and format is not read', () => {
    const { outcome } = roundTrip('fleet.yaml', 'a: 1\n')
    const encoded = encodeParseOutcome(outcome)!
    expect(decodeParseOutcome(encoded, 'other.yaml', 'a: 1\n')).toBeUndefined()
    expect(decodeParseOutcome(encoded.slice(0, -5), 'fleet.yaml', 'a: 1\n')).toBeUndefined()
    const older = encoded.replace(`"format":${PARSED_FILE_FORMAT}`, `"format":${PARSED_FILE_FORMAT - 1}`)
    expect(decodeParseOutcome(older, 'fleet.yaml', 'a: 1\n')).toBeUndefined()
    expect(decodeParseOutcome('[]', 'fleet.yaml', 'a: 1\n')).toBeUndefined()
  })
})
