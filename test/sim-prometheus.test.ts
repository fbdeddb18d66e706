/**
 * End-to-end: a real Prometheus server (Debian's `prometheus` package) scrapes the simulated
 * services' metrics and answers the instant queries rollout `prometheus` gates ask — the example
 * rollout's `errors` gate among them — before and after the shop of an account goes down; and
 * `flotilla sim serve`, as a real process, prints its metrics endpoint and serves it.
 *
 * Prometheus is required: without it the test fails and says how to install it, unless
 * `FLOTILLA_SKIP_PROMETHEUS=1` is set. Everything listens on loopback; every wait is bounded.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { loadFleet } from '../src/core/load/load-fleet.ts'
import type { Fleet, Target } from '../src/core/model/fleet-model.ts'
import { memorySource } from '../src/core/model/source.ts'
import { operatorClock } from '../src/core/policy/policy-time.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { generateExampleFleet } from '../src/example/generate-example.ts'
import { applyTarget } from '../src/operations/apply-target.ts'
import { SimServiceMetrics, startMetricsServer } from '../src/providers/sim/metrics-server.ts'
import { servicesOf } from '../src/providers/sim/services.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { useTestStore } from '../src/store/test-store.ts'
import { shopAccount, simFleet, within } from './support/sim-cli.ts'

const SKIP_PROMETHEUS = process.env.FLOTILLA_SKIP_PROMETHEUS === '1'

/** What policies see as now: a Tuesday, outside the example's Cyber Week freeze and weekend rule. */
const NOW = new Date('2026-11-10T10:00:00Z')

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The path of an executable on `PATH`, if there is one. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    try {
      accessSync(join(dir, name), constants.X_OK)
      return join(dir, name)
    } catch {
      // not in this directory
    }
  }
  return undefined
}

/** A TCP port free on loopback right now (for a child process, which cannot report the one it took). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (typeof address !== 'object' || address === null) throw new Error('no port')
  return address.port
}

/** A running Prometheus server and the instant queries it answers. */
interface Prometheus {
  /** The value of the single sample `promql` gives now, or undefined while the result is empty. */
  value(promql: string): Promise<number | undefined>
  /** What the server logged, for failure messages. */
  log(): string
  stop(): Promise<void>
}

/** Starts `prometheus` scraping `metricsUrl` every second, in `dir`; resolves once it answers queries. */
async function startPrometheus(binary: string, dir: string, metricsUrl: string): Promise<Prometheus> {
  const target = new URL(metricsUrl)
  const config = join(dir, 'prometheus.yml')
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: flotilla-sim',
      `    metrics_path: ${target.pathname}`,
      '    static_configs:',
      `      - targets: ['${target.host}']`,
      '',
    ].join('\n'),
  )
  const port = await freePort()
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-4000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  let ended: string | undefined
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = `exited with ${code ?? signal}`
      resolve()
    })
    child.once('error', (error) => {
      ended = `could not start: ${error.message}`
      resolve()
    })
  })
  const api = `http://127.0.0.1:${port}/api/v1/query`
  const prometheus: Prometheus = {
    async value(promql) {
      if (ended !== undefined) throw new Error(`prometheus ${ended}:\n${log}`)
      const response = await fetch(`${api}?${new URLSearchParams({ query: promql })}`, {
        signal: AbortSignal.timeout(5000),
      })
      const body = (await response.json()) as {
        status: string
        error?: string
        data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }
      }
      if (body.status !== 'success') throw new Error(`prometheus refused ${promql}: ${body.error}`)
      const result = body.data!.result
      if (result.length > 1) throw new Error(`${promql} gave ${result.length} samples, not one`)
      return result[0] === undefined ? undefined : Number(result[0].value[1])
    },
    log: () => log,
    async stop() {
      if (ended !== undefined) return
      child.kill('SIGTERM')
      await Promise.race([exited, sleep(5000)])
      if (ended === undefined) child.kill('SIGKILL')
      await Promise.race([exited, sleep(5000)])
    },
  }
  try {
    // Up, and at least one scrape of the simulator ingested.
    await eventually(
      async () => {
        const samples = await fetch(`${api}?query=http_requests_total`, { signal: AbortSignal.timeout(2000) })
          .then((r) => r.json() as Promise<{ data?: { result: unknown[] } }>)
          .catch(() => undefined)
        if (ended !== undefined) throw new Error(`prometheus ${ended}:\n${log}`)
        return samples?.data?.result.length ?? 0
      },
      (count) => count > 0,
      30_000,
      'prometheus to start and scrape the simulator',
    )
  } catch (error) {
    await prometheus.stop()
    throw error
  }
  return prometheus
}

/** Calls `probe` every 250 ms until `done` holds for its value; fails after `timeoutMs` with the last value. */
async function eventually<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (done(value)) return value
    if (Date.now() >= deadline)
      throw new Error(`waited ${timeoutMs} ms for ${what}; last: ${JSON.stringify(value)}`)
    await sleep(250)
  }
}

function loadExample(): { fleet: Fleet; files: Map<string, string> } {
  const files = generateExampleFleet({ accounts: 20, clusters: 15, seed: '7' })
  const result = loadFleet(memorySource(files))
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return { fleet: result.fleet, files }
}

/** The example rollout's `errors` gate query, with `{{ target.account }}` rendered for `account`. */
function exampleErrorsQuery(files: ReadonlyMap<string, string>, account: string): string {
  const rollout = parseYaml(files.get('rollout.yaml')!) as { gates: Record<string, { query?: string }> }
  const query = rollout.gates.errors?.query
  if (query === undefined) throw new Error('the example rollout has no errors gate with a query')
  expect(query).toContain('{{ target.account }}')
  return query.replaceAll('{{ target.account }}', account)
}

describe.skipIf(SKIP_PROMETHEUS)('a real Prometheus scrapes the simulated services', () => {
  const store = useTestStore('pglite')

  test('the error ratio of a healthy account is 0, and goes to 1 when its region goes out', async () => {
    const binary = onPath('prometheus')
    if (binary === undefined)
      throw new Error(
        'this test needs Prometheus and "prometheus" is not on PATH: install it with "apt-get install -y prometheus" (.ci/run does), or set FLOTILLA_SKIP_PROMETHEUS=1 to skip this test',
      )
    const { fleet, files } = loadExample()
    const { account, cluster } = shopAccount(fleet)
    const clusters = fleet.targets.filter((t) => t.kind === 'cluster')
    const [shop] = servicesOf(account, clusters)
    expect(shop?.name).toBe('shop')

    const db = store.store.db
    const sim = new SimProvider({ db })
    await sim.updateSettings({ latencyScale: 0 })
    await sim.seed(fleet.targets)
    const registry = new ProviderRegistry([sim])
    for (const target of [account, cluster] as Target[]) {
      const applied = await applyTarget({
        head: fleet,
        target,
        registry,
        db,
        revision: 'e2e',
        clock: operatorClock(NOW),
        actor: 'test',
        pollMs: 10,
        timeoutMs: 10_000,
      })
      expect(applied.outcome, applied.reason).toBe('applied')
    }
    expect((await sim.status()).services.down).not.toContain(`${account.name}/shop`)

    // As `flotilla sim serve` runs it.
    const metrics = await startMetricsServer({ metrics: new SimServiceMetrics({ db, sim }) })
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-prometheus-'))
    let prometheus: Prometheus | undefined
    try {
      prometheus = await startPrometheus(binary, dir, metrics.url)
      const query = prometheus
      const labels = `account="${account.id}"`
      // The example's gate averages over 5 minutes; a short window shows a change within seconds.
      const shortRatio = `sum(rate(http_requests_total{${labels},code=~"5.."}[5s])) / sum(rate(http_requests_total{${labels}}[5s]))`
      const gate = exampleErrorsQuery(files, account.id)
      const up = `flotilla_sim_service_up{${labels},service="shop"}`
      const ratios = async () => ({
        short: await query.value(shortRatio),
        gate: await query.value(gate),
        up: await query.value(up),
      })

      // rate() needs two scrapes in its window.
      const healthy = await eventually(
        ratios,
        (r) => r.short !== undefined && r.gate !== undefined,
        15_000,
        'the error ratios of a healthy account',
      )
      expect(healthy).toEqual({ short: 0, gate: 0, up: 1 })
      // The ratio is 0 because the shop answers, not because nothing is counted.
      expect(await query.value(`http_requests_total{${labels},service="shop",code="200"}`)).toBeGreaterThan(0)
      expect(await query.value(`http_requests_total{${labels},service="shop",code="503"}`)).toBe(0)

      await sim.addFault({ scope: { kind: 'region', name: shop!.region }, kind: 'region-outage' })
      const down = await eventually(
        ratios,
        // Once the 5 s window holds only failed requests, the ratio is exactly 1.
        (r) => r.short === 1 && (r.gate ?? 0) >= 0.01 && r.up === 0,
        20_000,
        'the error ratio to reach 1 during the outage',
      )
      // The gate's condition `result < 0.01` no longer holds: a rollout would halt here.
      expect(down).toMatchObject({ short: 1, up: 0 })
      expect(down.gate).toBeGreaterThanOrEqual(0.01)
      expect(down.gate).toBeLessThanOrEqual(1)
    } catch (error) {
      if (prometheus) (error as Error).message += `\nprometheus log:\n${prometheus.log()}`
      throw error
    } finally {
      await prometheus?.stop()
      await metrics.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('flotilla sim serve exposes the metrics', () => {
  test('a real process prints its dns and metrics endpoints, and serves the metrics until SIGTERM', async () => {
    const sim = await simFleet('pglite')
    try {
      // The shop runs once its account and cluster are applied.
      const { account, cluster } = shopAccount(sim.fleet)
      await sim.cli('sim', 'settings', '--latency-scale', '0')
      for (const target of [account, cluster]) {
        const applied = await sim.cli('apply', '--target', target.id)
        expect(applied.code, applied.stderr).toBe(0)
      }
      const serve = sim.spawn('sim', 'serve')
      const endpoints = JSON.parse(await serve.firstStdoutLine(30_000)) as Record<string, string>
      expect(Object.keys(endpoints)).toEqual(['dns', 'aws', 'kubernetes', 'metrics'])
      expect(endpoints.dns).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(endpoints.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)

      const response = await fetch(endpoints.metrics!, { signal: AbortSignal.timeout(5000) })
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toContain('text/plain')
      const text = await response.text()
      expect(text).toContain('# TYPE http_requests_total counter')
      expect(text).toContain(`flotilla_sim_service_up{account="${account.id}",service="shop"} 1`)
      for (const code of ['200', '503'])
        expect(text).toMatch(
          new RegExp(
            `^http_requests_total\\{account="${account.id}",service="shop",code="${code}"\\} \\d+$`,
            'm',
          ),
        )

      // Its metrics port is taken: a second server says so, as a user error.
      const port = new URL(endpoints.metrics!).port
      const second = await within(
        sim.cli('sim', 'serve', '--metrics-port', port, '--data', join(sim.repo, '..', 'second-store')),
        30_000,
        'a second sim serve',
      )
      expect(second.code, second.stderr).toBe(1)
      expect(second.stderr).toContain(`error: TCP port ${port} on 127.0.0.1 is in use`)
      expect(second.stderr).toContain('--metrics-port')

      serve.child.kill('SIGTERM')
      expect(await serve.waitForExit(15_000)).toEqual({ code: 0, signal: null })
      expect(serve.stderr()).toBe('')
      await expect(fetch(endpoints.metrics!)).rejects.toThrow()
    } finally {
      await sim.dispose()
    }
  })
})
