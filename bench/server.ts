// The server as people meet it after `npm start`: the example (300 accounts, 250 clusters) applied
// to the simulated fleet in PGlite, then served by a process of its own WITH its background work
// (the health refresh at its normal pace, drift checks faster than normal) — and measured from
// outside: the accounts API at a fixed 200 requests/s, the event loop's delay (the server's own
// monitor), the CPU it uses idle, its memory, and the plan page, first computed and then cached.
import { type ChildProcess, fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { writeExampleFleet } from '../src/example/write-example.ts'
import { applyFleet, BOOTSTRAP_POLICY_TIME } from '../src/operations/apply-fleet.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { loadCommit } from '../src/rollout/runner.ts'
import { resolveCommit } from '../src/source/git.ts'
import { openDatabase } from '../src/store/database.ts'
import { migrateToLatest } from '../src/store/migrate.ts'
import { bundledChild } from './bundled.ts'
import { pgliteConfig } from './sim-apply.ts'

/** The event loop's delay over a period, in ms. */
export interface LoopDelay {
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
}

/** What the server bench measured. */
export interface ServerBench {
  readonly requests: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly errors: number
  /** The event loop's delay while the API was under load. */
  readonly loadLoop: LoopDelay
  /** The accounts page: median and worst of 30 loads, in ms, and its row count. */
  readonly pageMedianMs: number
  readonly pageMaxMs: number
  readonly pageRows: number
  /** The server's CPU use while nobody asks it anything, in % of one core, and over how long. */
  readonly idleCpuPercent: number
  readonly idleSeconds: number
  /** The event loop's delay while idle. */
  readonly idleLoop: LoopDelay
  /** Resident memory after the runs, and the peak, in MiB. */
  readonly rssMiB: number
  readonly peakRssMiB: number
  /** Of that, the JavaScript heap in use and the memory outside it (PGlite's WebAssembly memory, buffers). */
  readonly heapUsedMiB: number
  readonly externalMiB: number
  /** The portal's plan page: the first load (until the plan is shown) and the next loads (median). */
  readonly planFirstMs: number
  readonly planCachedMs: number
  /** Whether the first load answered at once with progress instead of waiting. */
  readonly planShowedProgress: boolean
  /** From serving until every cluster's health was known and the first drift check done. */
  readonly startUpMs: number
}

/** The CPU time (user + system) of a process so far, in seconds (Linux `/proc`). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks (USER_HZ 100)
}

/** A process's resident memory now and at its peak, in MiB (Linux `/proc`). */
function rss(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { now: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Asks the server process where its memory is (`process.memoryUsage()`, MiB). */
function memoryUsage(child: ChildProcess): Promise<Record<string, number>> {
  return new Promise((resolve) => {
    child.once('message', (message) => resolve(message as Record<string, number>))
    child.send('memory')
  })
}

/** Asks the server process for its event loop's delay since the last reset. */
function loopDelay(child: ChildProcess): Promise<LoopDelay> {
  return new Promise((resolve) => {
    child.once('message', (message) => resolve(message as LoopDelay))
    child.send('loop')
  })
}

/** Applies the example to a fresh simulated fleet, as `npm start` does on its first start (also for probes). */
export async function applyExample(repo: string, dataDir: string): Promise<void> {
  const store = await openDatabase({ kind: 'pglite', dataDir })
  try {
    await migrateToLatest(store.db)
    const sim = new SimProvider({ db: store.db })
    const commit = await resolveCommit(repo, 'HEAD')
    const fleet = await loadCommit(repo, commit)
    await sim.updateSettings({ latencyScale: 0 })
    const result = await applyFleet({
      head: fleet,
      registry: new ProviderRegistry([sim]),
      db: store.db,
      revision: commit,
      now: BOOTSTRAP_POLICY_TIME,
      concurrency: 8,
    })
    await sim.updateSettings({ latencyScale: 1 })
    if (result.blocked || result.failed.size > 0)
      throw new Error(`the example did not apply: ${result.blocked ?? [...result.failed.values()][0]}`)
  } finally {
    await store.close()
  }
}

/** Runs the server on the applied 300-account example in `work` and measures it. */
export async function benchServer(work: string): Promise<ServerBench> {
  const repo = join(work, 'server-fleet')
  await writeExampleFleet(repo, { accounts: 300, clusters: 250, seed: 1 })
  const embedded = pgliteConfig()
  const dataDir = embedded.config.kind === 'pglite' ? embedded.config.dataDir! : ''
  await applyExample(repo, dataDir)
  // Drift every 15 s (normally 60 s), health every 10 s (its normal pace).
  // Compiled as dist/ is (bench/bundled.ts): the server as `npm start` runs it.
  const child = fork(await bundledChild('server-child'), [repo, dataDir, '15000', '10000'], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  try {
    const started = await new Promise<{ url: string; token: string }>((resolve, reject) => {
      let out = ''
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const line = out.split('\n').find((l) => l.startsWith('{'))
        if (line) resolve(JSON.parse(line))
      })
      child.once('exit', (code) => reject(new Error(`the server exited (${code}) before it served`)))
    })
    const headers = { authorization: `Bearer ${started.token}` }
    const get = async (path: string) => {
      const response = await fetch(`${started.url}${path}`, { headers })
      const text = await response.text()
      if (!response.ok) throw new Error(`${path}: ${response.status} ${text.slice(0, 200)}`)
      return text
    }
    // The idle server is the one after its start-up work: every cluster's health asked once and
    // the first (full) drift check done; then a few seconds more.
    const startUp = performance.now()
    for (;;) {
      const clusters = JSON.parse(await get('/api/clusters')) as { clusters: { health: { state: string } }[] }
      const drift = JSON.parse(await get('/api/drift')) as { checkedAt: string | null }
      if (drift.checkedAt !== null && clusters.clusters.every((c) => c.health.state !== 'unknown')) break
      if (performance.now() - startUp > 300_000)
        throw new Error('the server did not finish its start-up work in 5 minutes')
      await sleep(1000)
    }
    const startUpMs = performance.now() - startUp
    await sleep(5000)

    // Idle: nobody asks anything for 20 s.
    child.send('loop-reset')
    const idleSeconds = 20
    const cpuBefore = cpuSeconds(child.pid!)
    const idleStart = performance.now()
    await sleep(idleSeconds * 1000)
    const idleCpuPercent =
      ((cpuSeconds(child.pid!) - cpuBefore) / ((performance.now() - idleStart) / 1000)) * 100
    const idleLoop = await loopDelay(child)

    // The API at 200 requests/s for 20 s (two health rounds and a drift check fall in it).
    const url = `${started.url}/api/accounts?environment=production&criticality=tier-2&q=a&sort=tagCompliance&order=desc`
    for (let i = 0; i < 50; i++) await get(url.slice(started.url.length)) // warm up
    child.send('loop-reset')
    const result = await autocannon({ url, headers, connections: 10, duration: 20, overallRate: 200 })
    const loadLoop = await loopDelay(child)

    const times: number[] = []
    let rows = 0
    for (let i = 0; i < 30; i++) {
      const t = performance.now()
      const text = await get('/accounts')
      times.push(performance.now() - t)
      rows = (text.match(/<tr>/g) ?? []).length - 1
    }
    times.sort((a, b) => a - b)

    // The plan page: the first load until the plan shows, then loads of the computed plan.
    const planStart = performance.now()
    let first = await get('/plans')
    const planShowedProgress = /computing the plan/i.test(first)
    while (/computing the plan/i.test(first)) {
      await sleep(250)
      first = await get('/plans')
    }
    const planFirstMs = performance.now() - planStart
    const planTimes: number[] = []
    for (let i = 0; i < 5; i++) {
      const t = performance.now()
      await get('/plans')
      planTimes.push(performance.now() - t)
    }
    planTimes.sort((a, b) => a - b)
    const memory = rss(child.pid!)
    const usage = await memoryUsage(child)
    return {
      requests: result.requests.total,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      errors: result.errors + result.non2xx,
      loadLoop,
      pageMedianMs: times[Math.floor(times.length / 2)]!,
      pageMaxMs: times.at(-1)!,
      pageRows: rows,
      idleCpuPercent,
      idleSeconds,
      idleLoop,
      rssMiB: memory.now,
      peakRssMiB: memory.peak,
      heapUsedMiB: usage.heapUsed!,
      externalMiB: usage.external!,
      planFirstMs,
      planCachedMs: planTimes[Math.floor(planTimes.length / 2)]!,
      planShowedProgress,
      startUpMs,
    }
  } finally {
    child.send('stop')
    await new Promise((resolve) => child.once('exit', resolve))
    embedded.cleanup()
  }
}
