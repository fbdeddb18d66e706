// The server of the server bench, in a process of its own so that its CPU time, memory and event
// loop are its own and not the bench runner's. argv: <repo> <pglite data dir> <drift interval ms>
// <health interval ms>. It prints one JSON line `{ url, token }` once it serves, and answers the
// parent's `loop` message with what its event loop was delayed by since the last `loop-reset`,
// and `memory` with `process.memoryUsage()` in MiB.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Application } from '../src/app/application.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { useAwsIndexFiles } from '../src/resource-types/aws-index-files.ts'
import { startServer } from '../src/server/serve.ts'
import { openDatabase } from '../src/store/database.ts'
import { migrateToLatest } from '../src/store/migrate.ts'

useAwsIndexFiles()
const [repo, dataDir, driftMs, healthMs] = process.argv.slice(2) as [string, string, string, string]
const loop = monitorEventLoopDelay({ resolution: 10 })
loop.enable()
const store = await openDatabase({ kind: 'pglite', dataDir })
await migrateToLatest(store.db)
const sim = new SimProvider({ db: store.db })
const options: Parameters<typeof startServer>[0] & { healthIntervalMs?: number } = {
  app: new Application({ db: store.db, registry: new ProviderRegistry([sim]), repoDir: repo }),
  repoDir: repo,
  port: 0,
  log: () => {},
  driftIntervalMs: Number(driftMs),
  healthIntervalMs: Number(healthMs),
}
const server = await startServer(options)
process.on('message', async (message: string) => {
  if (message === 'loop-reset') loop.reset()
  else if (message === 'loop')
    process.send?.({
      p50Ms: loop.percentile(50) / 1e6,
      p99Ms: loop.percentile(99) / 1e6,
      maxMs: loop.max / 1e6,
    })
  else if (message === 'memory')
    process.send?.(
      Object.fromEntries(Object.entries(process.memoryUsage()).map(([key, bytes]) => [key, bytes / 2 ** 20])),
    )
  else if (message === 'stop') {
    await server.close()
    await store.close()
    process.exit(0)
  }
})
console.log(JSON.stringify({ url: server.url, token: server.adminToken }))
