import { describe, expect, it } from 'vitest'
import { NotFoundError } from '../errors.ts'
import type { Target } from '../model/fleet-model.ts'
import type { Provider } from './port.ts'
import { ProviderRegistry } from './registry.ts'

function provider(name: string): Provider {
  const unused = () => Promise.reject(new Error('not called in these tests'))
  return {
    name,
    observe: unused,
    apply: unused,
    settled: unused,
    health: unused,
    snapshots: unused,
    restore: unused,
  }
}

function target(id: string, providerName: string): Target {
  return {
    at: { file: 'inventory/accounts.yaml', line: 1, col: 1 },
    id,
    kind: 'account',
    name: `name-${id}`,
    team: 'teapot',
    environment: 'production',
    criticality: 'tier-1',
    channel: 'stable',
    group: 'teapot',
    lifecycle: 'active',
    provider: providerName,
    account: id,
    regions: ['eu-central-1'],
    tags: {},
    config: {},
  }
}

describe('ProviderRegistry', () => {
  it('rejects a second provider of the same name', () => {
    const registry = new ProviderRegistry([provider('sim')])
    expect(() => registry.register(provider('sim'))).toThrow('provider "sim" is registered twice')
    expect(() => new ProviderRegistry([provider('aws'), provider('aws')])).toThrow(/registered twice/)
  })

  it("finds a target's provider, and says which are available when it is missing", () => {
    const sim = provider('sim')
    const registry = new ProviderRegistry([sim, provider('kubernetes')])
    expect(registry.forTarget(target('1', 'sim'))).toBe(sim)
    expect(registry.named('sim')).toBe(sim)
    expect(registry.named('aws')).toBeUndefined()
    expect(() => registry.forTarget(target('2', 'aws'))).toThrow(NotFoundError)
    expect(() => registry.forTarget(target('2', 'aws'))).toThrow(
      'account "2" (name-2) uses provider "aws", which is not available in this installation (available: sim, kubernetes)',
    )
    expect(() => new ProviderRegistry().forTarget(target('3', 'sim'))).toThrow(/available: none/)
  })

  it('groups targets by provider in the order given', () => {
    const sim = provider('sim')
    const aws = provider('aws')
    const registry = new ProviderRegistry([sim, aws])
    const groups = registry.partition([target('1', 'aws'), target('2', 'sim'), target('3', 'aws')])
    expect([...groups].map(([p, ts]) => [p.name, ts.map((t) => t.id)])).toEqual([
      ['aws', ['1', '3']],
      ['sim', ['2']],
    ])
    expect(registry.all()).toEqual([sim, aws])
    expect(() => registry.partition([target('4', 'gcp')])).toThrow(NotFoundError)
  })
})
