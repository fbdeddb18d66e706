import { describe, expect, it } from 'vitest'
import { InMemoryZones } from './dns-zones.ts'
import type { Fault } from './faults.ts'
import {
  type AccountServices,
  SIMULATED_REQUESTS_PER_SECOND,
  SimulatedLoad,
  serviceHealthSamples,
} from './service-metrics.ts'

/** A clock the load reads; tests move it. */
function clock(start = 1_000_000) {
  let at = start
  return {
    now: () => at,
    advance(ms: number) {
      at += ms
    },
  }
}

const shopUp = { account: '111111111111', service: 'shop', healthy: true }
const shopDown = { ...shopUp, healthy: false }

describe('SimulatedLoad', () => {
  it('hands each service rate × elapsed seconds since the previous scrape, as 200 while healthy and 503 while not', () => {
    const time = clock()
    const load = new SimulatedLoad({ now: time.now })
    time.advance(1500)
    expect(load.advance([shopUp])).toEqual([{ ...shopUp, requests: { '200': 15, '503': 0 } }])
    time.advance(2000)
    expect(load.advance([shopDown])).toEqual([{ ...shopDown, requests: { '200': 0, '503': 20 } }])
    expect(load.advance([shopDown])).toEqual([{ ...shopDown, requests: { '200': 0, '503': 0 } }])
  })

  it('runs at the documented constant rate by default', () => {
    const time = clock()
    const load = new SimulatedLoad({ now: time.now })
    time.advance(60_000)
    expect(SIMULATED_REQUESTS_PER_SECOND).toBe(10)
    expect(load.advance([shopUp])[0]!.requests['200']).toBe(600)
  })

  it('counts whole requests and carries the fractions over, per service, so totals are exact', () => {
    const time = clock()
    const load = new SimulatedLoad({ now: time.now, requestsPerSecond: 3 })
    const other = { account: '222222222222', service: 'monitoring', healthy: true }
    const totals = { shop: 0, monitoring: 0 }
    const seen: number[] = []
    for (let i = 0; i < 10; i++) {
      time.advance(250) // 0.75 requests per service per scrape
      for (const t of load.advance([shopUp, other])) {
        totals[t.service as keyof typeof totals] += t.requests['200']
        if (t.service === 'shop') seen.push(t.requests['200'])
      }
    }
    expect(seen).toEqual([0, 1, 1, 1, 0, 1, 1, 1, 0, 1])
    expect(totals).toEqual({ shop: 7, monitoring: 7 }) // 10 × 0.75 = 7.5: the half request is still owed
    time.advance(500)
    expect(load.advance([shopUp])[0]!.requests['200']).toBe(2) // 0.5 carried + 1.5
  })

  it('is deterministic: the same clock gives the same counts', () => {
    const run = () => {
      const time = clock()
      const load = new SimulatedLoad({ now: time.now, requestsPerSecond: 7 })
      return [333, 1, 999, 12_345].map((ms) => {
        time.advance(ms)
        return load.advance([shopUp, shopDown])
      })
    }
    expect(run()).toEqual(run())
  })

  it('counts from the start for the first scrape, and no time when the clock goes back', () => {
    const time = clock()
    const load = new SimulatedLoad({ now: time.now })
    time.advance(1000)
    expect(load.advance([shopUp])[0]!.requests['200']).toBe(10)
    time.advance(-5000)
    expect(load.advance([shopUp])[0]!.requests['200']).toBe(0)
    time.advance(5000) // back where it was: still no time has passed since the last scrape
    expect(load.advance([shopUp])[0]!.requests['200']).toBe(0)
    time.advance(100)
    expect(load.advance([shopUp])[0]!.requests['200']).toBe(1)
  })

  it('refuses a rate that is not a number of 0 or more', () => {
    expect(() => new SimulatedLoad({ requestsPerSecond: -1 })).toThrow(RangeError)
    expect(() => new SimulatedLoad({ requestsPerSecond: Number.NaN })).toThrow(RangeError)
  })
})

describe('serviceHealthSamples', () => {
  const zones = new InMemoryZones()
  zones.addZone('teapot.example.org')
  zones.upsertRecordSet('teapot.example.org', {
    name: '*.kube-1.teapot.example.org',
    type: 'A',
    ttl: 300,
    values: ['203.0.113.9'],
  })
  const accounts: AccountServices[] = [
    {
      account: '111111111111',
      services: [{ name: 'shop', hostname: 'shop.kube-1.teapot.example.org', region: 'eu-west-1' }],
    },
    {
      account: '222222222222',
      services: [{ name: 'shop', hostname: 'shop.kube-1.gone.example.org', region: 'eu-west-1' }],
    },
    {
      account: '333333333333',
      services: [{ name: 'monitoring', hostname: 'teapot.example.org', region: 'us-east-1' }],
    },
    { account: '444444444444', services: [] },
  ]
  const outage = (region: string): Fault => ({
    id: 'fault-00000001',
    scope: { kind: 'region', name: region },
    kind: 'region-outage',
    rate: 1,
    latencyMs: 0,
    expiresAt: null,
  })

  it('is healthy where the name resolves, and labels each service with its account id', () => {
    expect(serviceHealthSamples(accounts, zones, [])).toEqual([
      { account: '111111111111', service: 'shop', healthy: true },
      { account: '222222222222', service: 'shop', healthy: false },
      { account: '333333333333', service: 'monitoring', healthy: true },
    ])
  })

  it('leaves out a service whose cluster has nothing applied yet: it does not run', () => {
    const inCluster: AccountServices[] = [
      {
        account: '111111111111',
        services: [{ ...accounts[0]!.services[0]!, cluster: 'aws:111111111111:eu-west-1:kube-1' }],
      },
      accounts[2]!,
    ]
    expect(serviceHealthSamples(inCluster, zones, []).map((s) => s.account)).toEqual(['333333333333'])
    expect(
      serviceHealthSamples(inCluster, zones, [], new Set(['aws:111111111111:eu-west-1:kube-1'])),
    ).toEqual([
      { account: '111111111111', service: 'shop', healthy: true },
      { account: '333333333333', service: 'monitoring', healthy: true },
    ])
  })

  it("takes down only the services of a region that is out; other faults don't matter", () => {
    const throttling: Fault = { ...outage('eu-west-1'), kind: 'throttling', scope: { kind: 'fleet' } }
    expect(serviceHealthSamples(accounts, zones, [outage('eu-west-1'), throttling])).toEqual([
      { account: '111111111111', service: 'shop', healthy: false },
      { account: '222222222222', service: 'shop', healthy: false },
      { account: '333333333333', service: 'monitoring', healthy: true },
    ])
    expect(serviceHealthSamples(accounts, zones, [throttling]).map((s) => s.healthy)).toEqual([
      true,
      false,
      true,
    ])
  })
})
