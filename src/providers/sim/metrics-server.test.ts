import type { KyselyPlugin } from 'kysely'
import { describe, expect, it } from 'vitest'
import { loadFleet } from '../../core/load/load-fleet.ts'
import type { Fleet } from '../../core/model/fleet-model.ts'
import { memorySource } from '../../core/model/source.ts'
import { generateExampleFleet } from '../../example/generate-example.ts'
import { useTestStore } from '../../store/test-store.ts'
import { InMemoryZones } from './dns-zones.ts'
import type { Fault } from './faults.ts'
import { SimServiceMetrics, startMetricsServer } from './metrics-server.ts'
import { servicesOf } from './services.ts'
import { simDatabase } from './sim-database.ts'
import { SimProvider } from './sim-provider.ts'

function loadExample(): Fleet {
  const result = loadFleet(memorySource(generateExampleFleet({ accounts: 20, clusters: 15, seed: '7' })))
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return result.fleet
}

/** The value of one series in a Prometheus text exposition, or undefined when it is not there. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('SimServiceMetrics', () => {
  const test = useTestStore('pglite')
  const fleet = loadExample()
  const accounts = fleet.targets.filter((t) => t.kind === 'account')
  const clusters = fleet.targets.filter((t) => t.kind === 'cluster')
  const withServices = accounts.flatMap((account) =>
    servicesOf(account, clusters).map((service) => ({ account, service })),
  )
  const shop = withServices.find((s) => s.service.name === 'shop')!

  it('exposes a request counter by code and an up gauge per service, from a query or two of the store per scrape', async () => {
    await new SimProvider({ db: test.store.db }).seed(fleet.targets)
    // Every cluster has something applied, so every service runs.
    await (await simDatabase(test.store.db))
      .insertInto('sim_objects')
      .values(
        clusters.map((cluster) => ({
          address: `${cluster.id}/default/ConfigMap/deployed`,
          cluster: cluster.id,
          component: 'test',
          object: JSON.stringify({ kind: 'ConfigMap' }),
          ready_at: new Date(0),
        })),
      )
      .execute()
    let queries = 0
    const counting: KyselyPlugin = {
      transformQuery: (args) => {
        queries++
        return args.node
      },
      transformResult: async (args) => args.result,
    }
    const zones = new InMemoryZones()
    let faults: Fault[] = []
    let at = 0
    const metrics = new SimServiceMetrics({
      db: test.store.db.withPlugin(counting),
      sim: { zones: async () => zones, faults: async () => faults },
      now: () => at,
    })
    const series = (name: string, code?: string) =>
      `${name}{account="${shop.account.id}",service="shop"${code ? `,code="${code}"` : ''}}`

    // No zone yet: every service is down, and has been since the metrics started.
    at += 2000
    let text = await metrics.scrape()
    const perScrape = queries
    expect(perScrape).toBeLessThanOrEqual(2) // the seeded services, and maybe the deployed clusters
    expect(withServices.length).toBeGreaterThan(3)
    expect(text).toContain('# TYPE http_requests_total counter')
    expect(text).toContain('# TYPE flotilla_sim_service_up gauge')
    expect(text.split('\n').filter((l) => l.startsWith('flotilla_sim_service_up{'))).toHaveLength(
      withServices.length,
    )
    expect(sample(text, series('http_requests_total', '503'))).toBe(20)
    // A 5xx series at 0 is there from the start: an error ratio is 0, not empty, while all is well.
    expect(sample(text, series('http_requests_total', '200'))).toBe(0)
    expect(sample(text, series('flotilla_sim_service_up'))).toBe(0)

    // The shop's name resolves: it answers 200 from now on.
    const domain = String(shop.account.config.dns_domain)
    zones.addZone(domain)
    zones.upsertRecordSet(domain, {
      name: shop.service.hostname,
      type: 'A',
      ttl: 300,
      values: ['203.0.113.5'],
    })
    at += 1000
    text = await metrics.scrape()
    expect(queries).toBe(2 * perScrape)
    expect(sample(text, series('http_requests_total', '200'))).toBe(10)
    expect(sample(text, series('http_requests_total', '503'))).toBe(20)
    expect(sample(text, series('flotilla_sim_service_up'))).toBe(1)

    // Its region goes out: 503 again.
    faults = [
      {
        id: 'fault-00000001',
        scope: { kind: 'region', name: shop.service.region },
        kind: 'region-outage',
        rate: 1,
        latencyMs: 0,
        expiresAt: null,
      },
    ]
    at += 500
    text = await metrics.scrape()
    expect(sample(text, series('http_requests_total', '200'))).toBe(10)
    expect(sample(text, series('http_requests_total', '503'))).toBe(25)
    expect(sample(text, series('flotilla_sim_service_up'))).toBe(0)

    // Scrapes at once are served one after the other: the clock did not move, nothing is counted twice.
    const [first, second] = await Promise.all([metrics.scrape(), metrics.scrape()])
    expect(sample(second!, series('http_requests_total', '503'))).toBe(25)
    expect(first).toBe(second)

    // The fleet is reset: its services' series go with it.
    await new SimProvider({ db: test.store.db }).reset()
    text = await metrics.scrape()
    expect(sample(text, series('http_requests_total', '503'))).toBeUndefined()
    expect(sample(text, series('flotilla_sim_service_up'))).toBeUndefined()
    expect(text).toContain('# TYPE http_requests_total counter')
  })
})

describe('startMetricsServer', () => {
  it('serves GET /metrics, and says what it does not serve', async () => {
    let fail = false
    const server = await startMetricsServer({
      metrics: {
        contentType: 'text/plain; version=0.0.4; charset=utf-8',
        scrape: async () => {
          if (fail) throw new Error('the store is closed')
          return 'flotilla_sim_service_up{account="1",service="shop"} 1\n'
        },
      },
    })
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`)
      const ok = await fetch(server.url)
      expect([ok.status, ok.headers.get('content-type'), await ok.text()]).toEqual([
        200,
        'text/plain; version=0.0.4; charset=utf-8',
        'flotilla_sim_service_up{account="1",service="shop"} 1\n',
      ])
      const elsewhere = await fetch(new URL('/', server.url))
      expect([elsewhere.status, await elsewhere.text()]).toEqual([
        404,
        'not found: the metrics are at /metrics\n',
      ])
      const posted = await fetch(server.url, { method: 'POST' })
      expect([posted.status, posted.headers.get('allow')]).toEqual([405, 'GET, HEAD'])
      fail = true
      const failed = await fetch(server.url)
      expect([failed.status, await failed.text()]).toEqual([
        500,
        'the metrics could not be read: the store is closed\n',
      ])
    } finally {
      await server.close()
    }
    await expect(fetch(server.url)).rejects.toThrow()
  })

  it('rejects with the code of a port that is taken', async () => {
    const metrics = { contentType: 'text/plain', scrape: async () => '' }
    const first = await startMetricsServer({ metrics })
    try {
      await expect(startMetricsServer({ metrics, port: first.port })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      })
    } finally {
      await first.close()
    }
  })
})
