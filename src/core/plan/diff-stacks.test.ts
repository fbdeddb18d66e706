import { describe, expect, test } from 'vitest'
import type { RenderedStack } from '../model/desired-state.ts'
import { diffStacks } from './diff-stacks.ts'
import { protectedTypes } from './protected.ts'

const isProtected = protectedTypes([])

function stack(template: Record<string, unknown>, extra: Partial<RenderedStack> = {}): RenderedStack {
  return {
    address: '111111111111/global/dns',
    stackName: 'dns',
    region: 'eu-central-1',
    scope: 'global',
    source: 'stacks/dns.yaml',
    parameters: {},
    template,
    ...extra,
  }
}

const zones = (condition: Record<string, unknown>) => ({
  Conditions: { Wanted: condition },
  Resources: {
    Zone: { Type: 'AWS::Route53::HostedZone', Condition: 'Wanted', Properties: { Name: 'example.org.' } },
    Record: {
      Type: 'AWS::Route53::RecordSet',
      Properties: { HostedZoneId: { Ref: 'Zone' }, Name: 'www.example.org.', Type: 'A' },
    },
  },
})

describe('diffStacks', () => {
  test('a condition turned false deletes its resource, and says which condition', () => {
    const yes = { 'Fn::Equals': ['a', 'a'] }
    const no = { 'Fn::Not': [yes] }
    const [change, ...rest] = diffStacks([stack(zones(yes))], [stack(zones(no))], isProtected).filter(
      (c) => c.type === 'AWS::Route53::HostedZone',
    )
    expect(rest).toEqual([])
    expect(change).toMatchObject({
      action: 'delete',
      protected: true,
      condition: { name: 'Wanted', value: false },
    })
  })

  test('a global stack whose account changes its first region is replaced, every resource with it', () => {
    const template = zones({ 'Fn::Equals': ['a', 'a'] })
    const changes = diffStacks([stack(template)], [stack(template, { region: 'eu-west-1' })], isProtected)
    expect(changes.map((c) => [c.address, c.action])).toEqual([
      ['111111111111/global/dns', 'replace'],
      ['111111111111/global/dns/Record', 'replace'],
      ['111111111111/global/dns/Zone', 'replace'],
    ])
    expect(changes[2]!.properties).toEqual([
      { path: 'Region', before: 'eu-central-1', after: 'eu-west-1', forcesReplacement: true },
    ])
  })

  test('a resource reading a replaced resource may be replaced with it (dependsOn), transitively', () => {
    const base = {
      Resources: {
        Zone: { Type: 'AWS::Route53::HostedZone', Properties: { Name: 'example.org.' } },
        Certificate: {
          Type: 'AWS::CertificateManager::Certificate',
          Properties: {
            DomainName: 'example.org',
            DomainValidationOptions: [{ DomainName: 'example.org', HostedZoneId: { Ref: 'Zone' } }],
          },
        },
      },
    }
    const head = structuredClone(base)
    head.Resources.Zone.Properties.Name = 'example.com.'
    const changes = diffStacks([stack(base)], [stack(head)], isProtected)
    const certificate = changes.find((c) => c.type === 'AWS::CertificateManager::Certificate')!
    expect(certificate).toMatchObject({ action: 'update', mayReplace: true, protected: true })
    expect(certificate.properties).toEqual([
      expect.objectContaining({ path: 'DomainValidationOptions', unknown: true, dependsOn: ['Zone'] }),
    ])
  })

  test('the same template on both sides plans nothing, whatever it evaluates to', () => {
    const template = zones({ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] })
    expect(diffStacks([stack(template)], [stack(structuredClone(template))], isProtected)).toEqual([])
  })

  test('a resource a moved stack leaves behind is deleted at its old address', () => {
    const template = (ids: string[]) => ({
      Resources: Object.fromEntries(
        ids.map((id) => [id, { Type: 'AWS::IAM::Role', Properties: { RoleName: id } }]),
      ),
    })
    const before = stack(template(['Deploy', 'Audit']), {
      address: '111111111111/global/roles',
      stackName: 'roles',
    })
    const after = stack(template(['Audit']), {
      address: '111111111111/global/roles-v2',
      stackName: 'roles-v2',
      movedFrom: 'roles',
    })
    const changes = diffStacks([before], [after], isProtected)
    expect(changes.map((c) => [c.address, c.action, c.movedFrom])).toEqual([
      ['111111111111/global/roles-v2', 'move', '111111111111/global/roles'],
      ['111111111111/global/roles-v2/Audit', 'move', '111111111111/global/roles/Audit'],
      ['111111111111/global/roles/Deploy', 'delete', undefined],
    ])
  })
})
