import { describe, expect, it } from 'vitest'
import type { Target } from '../../core/model/fleet-model.ts'
import { InMemoryZones } from './dns-zones.ts'
import { serviceHealth, servicesOf } from './services.ts'

function target(overrides: Partial<Target> & Pick<Target, 'id' | 'kind'>): Target {
  return {
    at: { file: 'inventory/accounts.yaml', line: 1, col: 1 },
    name: overrides.id,
    team: 'teapot',
    environment: 'production',
    criticality: 'tier-1',
    channel: 'stable',
    group: 'teapot',
    lifecycle: overrides.kind === 'account' ? 'active' : 'ready',
    provider: 'sim',
    account: overrides.id,
    regions: ['eu-central-1'],
    tags: {},
    config: {},
    ...overrides,
  }
}

const prod = target({
  id: '111111111111',
  kind: 'account',
  name: 'teapot-prod',
  config: { dns_domain: 'teapot.example.org' },
})
const cluster = target({
  id: 'aws:111111111111:eu-west-1:kube-1',
  kind: 'cluster',
  account: '111111111111',
  regions: ['eu-west-1'],
  config: { ingress_domain: 'kube-1.teapot.example.org' },
})

describe('servicesOf', () => {
  it('runs the shop of a production account behind its first cluster with an ingress domain', () => {
    const other = target({ ...cluster, id: 'aws:111111111111:eu-west-1:kube-0', config: {} })
    expect(servicesOf(prod, [other, cluster])).toEqual([
      {
        name: 'shop',
        hostname: 'shop.kube-1.teapot.example.org',
        region: 'eu-west-1',
        cluster: 'aws:111111111111:eu-west-1:kube-1',
      },
    ])
  })

  it('names an ops account service after the account, and serves from the apex without a cluster', () => {
    const ops = target({
      id: '333333333333',
      kind: 'account',
      name: 'ops-monitoring',
      group: 'ops',
      environment: 'staging',
      regions: ['us-west-2', 'eu-west-1'],
      config: { dns_domain: 'ops.example.org' },
    })
    expect(servicesOf(ops, [cluster])).toEqual([
      { name: 'monitoring', hostname: 'ops.example.org', region: 'us-west-2' },
    ])
  })

  it('runs nothing without a domain, while decommissioning, or outside production and ops', () => {
    expect(servicesOf(target({ ...prod, config: {} }), [cluster])).toEqual([])
    expect(servicesOf(target({ ...prod, config: { dns_domain: 42 } }), [cluster])).toEqual([])
    expect(servicesOf(target({ ...prod, lifecycle: 'decommission-requested' }), [cluster])).toEqual([])
    expect(servicesOf(target({ ...prod, lifecycle: 'decommissioned' }), [cluster])).toEqual([])
    expect(servicesOf(target({ ...prod, environment: 'staging' }), [cluster])).toEqual([])
    expect(servicesOf(target({ ...prod, environment: 'test' }), [cluster])).toEqual([])
  })

  it("ignores other accounts' clusters", () => {
    const foreign = target({ ...cluster, id: 'aws:2:eu-west-1:kube-1', account: '222222222222' })
    expect(servicesOf(prod, [foreign])).toEqual([
      { name: 'shop', hostname: 'teapot.example.org', region: 'eu-central-1' },
    ])
  })
})

describe('serviceHealth', () => {
  const zones = new InMemoryZones()
  zones.addZone('teapot.example.org')
  zones.upsertRecordSet('teapot.example.org', {
    name: '*.kube-1.teapot.example.org',
    type: 'A',
    ttl: 300,
    values: ['203.0.113.9'],
  })
  const shop = { name: 'shop', hostname: 'shop.kube-1.teapot.example.org', region: 'eu-west-1' }

  it('is up while its name resolves', () => {
    expect(serviceHealth(shop, zones, false)).toEqual({
      service: shop,
      healthy: true,
      detail: 'shop.kube-1.teapot.example.org resolves to 203.0.113.9',
    })
    const apex = { ...shop, hostname: 'teapot.example.org' }
    expect(serviceHealth(apex, zones, false)).toMatchObject({
      healthy: true,
      detail: 'teapot.example.org resolves',
    })
  })

  it('is down when its name does not resolve or its region is down', () => {
    expect(serviceHealth({ ...shop, hostname: 'shop.teapot.example.org' }, zones, false)).toMatchObject({
      healthy: false,
      detail: 'shop.teapot.example.org does not resolve (NXDOMAIN)',
    })
    expect(serviceHealth({ ...shop, hostname: 'shop.elsewhere.org' }, zones, false)).toMatchObject({
      healthy: false,
      detail: 'shop.elsewhere.org does not resolve (REFUSED)',
    })
    expect(serviceHealth(shop, zones, true)).toMatchObject({
      healthy: false,
      detail: 'region eu-west-1 is down',
    })
  })
})
