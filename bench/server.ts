// The server under load on loopback: the accounts API (300 accounts, filters applied) at a fixed
// 200 requests/s with autocannon, and the accounts page (300 rows) rendered and fetched.
import { join } from 'node:path'
import autocannon from 'autocannon'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { writeExampleFleet } from '../src/example/write-example.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { startServer } from '../src/server/serve.ts'
import { openDatabase } from '../src/store/database.ts'
import { migrateToLatest } from '../src/store/migrate.ts'
import { pgliteConfig } from './sim-apply.ts'

/** What the server bench measured. */
export interface ServerBench {
  readonly requests: number
  readonly rate: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly errors: number
  /** The accounts page: median and worst of 30 loads, in ms, and its row count. */
  readonly pageMedianMs: number
  readonly pageMaxMs: number
  readonly pageRows: number
}

/** Runs the server on a 300-account example in `work` and measures it. */
export async function benchServer(work: string): Promise<ServerBench> {
  const repo = join(work, 'server-fleet')
  await writeExampleFleet(repo, { accounts: 300, clusters: 250, seed: 1 })
  const embedded = pgliteConfig()
  const store = await openDatabase(embedded.config)
  try {
    await migrateToLatest(store.db)
    const sim = new SimProvider({ db: store.db })
    const server = await startServer({
      db: store.db,
      registry: new ProviderRegistry([sim]),
      sim,
      repoDir: repo,
      port: 0,
      log: () => {},
    })
    try {
      const headers = { authorization: `Bearer ${server.adminToken}` }
      const url = `${server.url}/api/accounts?environment=production&criticality=tier-2&q=a&sort=tagCompliance&order=desc`
      for (let i = 0; i < 50; i++) await (await fetch(url, { headers })).arrayBuffer() // warm up
      const result = await autocannon({ url, headers, connections: 10, duration: 10, overallRate: 200 })
      const times: number[] = []
      let rows = 0
      for (let i = 0; i < 30; i++) {
        const started = performance.now()
        const text = await (await fetch(`${server.url}/accounts`, { headers })).text()
        times.push(performance.now() - started)
        rows = (text.match(/<tr>/g) ?? []).length - 1
      }
      times.sort((a, b) => a - b)
      return {
        requests: result.requests.total,
        rate: result.requests.average,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        errors: result.errors + result.non2xx,
        pageMedianMs: times[Math.floor(times.length / 2)]!,
        pageMaxMs: times.at(-1)!,
        pageRows: rows,
      }
    } finally {
      await server.close()
    }
  } finally {
    await store.close()
    embedded.cleanup()
  }
}
