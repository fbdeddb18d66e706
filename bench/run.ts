// npm run bench: the figures the issues ask for, as one table. Machines here are noisy (2 cores):
// each figure is a median of several runs, and ratios are taken against a baseline measured in
// the same run.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadFleet } from '../src/core/load/load-fleet.ts'
import type { Fleet } from '../src/core/model/fleet-model.ts'
import type { FleetSource } from '../src/core/model/source.ts'
import { writeExampleFleet } from '../src/example/write-example.ts'
import { useAwsIndexFiles } from '../src/resource-types/aws-index-files.ts'
import { readRevisionSource } from '../src/source/git.ts'
import type { StoreConfig } from '../src/store/database.ts'
import { celEnginesPerSecond } from './cel-engines.ts'
import { changeTestRows } from './change-test.ts'
import { cliCommandRows } from './cli-commands.ts'
import { cliStartupRows } from './cli-startup.ts'
import { dnsQueriesPerSecond } from './dns.ts'
import { drillRows } from './drill.ts'
import { fullPipeline, parseOnly } from './load-pipeline.ts'
import { interleavedMediansMs, ms, printTable, type Row } from './measure.ts'
import { rotateFleet } from './node-rotation.ts'
import { commitEdit, offlinePlan, policyCost, warmPlan } from './plan-pipeline.ts'
import { quickstartRows } from './quickstart.ts'
import { benchFleet, benchRollout, type RolloutBench } from './rollout.ts'
import { benchServer } from './server.ts'
import { pgliteConfig, postgresConfig, type SeedApplyResult, seedAndApply } from './sim-apply.ts'

useAwsIndexFiles()
const work = mkdtempSync(join(tmpdir(), 'flotilla-bench-'))

/**
 * Deployment policy over a plan of more than 10,000 changes (every subnet of every VPC gets
 * another tag value): the example's policies' share of the plan time.
 */
async function policyRows(repo: string, base: FleetSource, runs: number): Promise<Row[]> {
  const branch = await commitEdit(repo, 'subnet-tags', 'stacks/vpc.yaml', (t) =>
    t.replaceAll('Value: "1" }]', 'Value: "true" }]'),
  )
  const cost = policyCost(base, await readRevisionSource(repo, branch))
  const changes = cost.withPolicies().targets.reduce((n, t) => n + t.changes.length, 0)
  const times = await interleavedMediansMs(
    { full: () => offlinePlan(repo, branch), builtinOnly: cost.builtinOnly, withPolicies: cost.withPolicies },
    runs,
  )
  const policy = times.withPolicies - times.builtinOnly
  return [
    {
      name: `plan of ${changes.toLocaleString('en')} changes (every subnet's tag), cold`,
      value: ms(times.full),
      target: '',
    },
    {
      name: `  policy evaluation (the example's policies) / plan time`,
      value: `${ms(policy)} = ${((policy / times.full) * 100).toFixed(1)}%`,
      target: '< 20%',
      pass: policy / times.full < 0.2,
    },
  ]
}

/** Runs a pipeline in a fresh process (bench/memory-child.ts) and reports its peak RSS. */
function peakMemoryRow(name: string, args: readonly string[]): Row {
  const child = execFileSync(
    process.execPath,
    ['--import', 'tsx', new URL('./memory-child.ts', import.meta.url).pathname, ...args],
    { encoding: 'utf8' },
  )
  const { maxRssBytes } = JSON.parse(child.trim().split('\n').at(-1)!) as { maxRssBytes: number }
  const mib = maxRssBytes / 2 ** 20
  return { name, value: `${mib.toFixed(0)} MiB`, target: '< 1024 MiB', pass: mib < 1024 }
}
/**
 * Seeding the simulated fleet from the example inventory (300 accounts, 250 clusters) and applying
 * the example revision to all of it at zero latency, on PGlite and — when `TEST_DATABASE_URL` (or
 * `BENCH_DATABASE_URL`) names one — on PostgreSQL, side by side.
 */
async function simRows(): Promise<Row[]> {
  const repo = join(work, 'fleet-1x')
  const loaded = loadFleet(await readRevisionSource(repo, 'HEAD'))
  if (!loaded.ok) throw new Error('the example fleet does not load')
  const describe = (r: SeedApplyResult) =>
    `${((r.seedMs + r.applyMs) / 1000).toFixed(1)} s (seed ${ms(r.seedMs)}; ${r.targets} targets, ${r.stacks.toLocaleString('en')} stacks, ${r.objects.toLocaleString('en')} objects${r.failed ? `, ${r.failed} FAILED` : ''})`
  const embedded = pgliteConfig()
  const rowsOut: Row[] = []
  try {
    const result = await seedAndApply(loaded.fleet, embedded.config, 4)
    const total = result.seedMs + result.applyMs
    rowsOut.push({
      name: 'seed the simulated fleet + apply the example to all of it, embedded PGlite (300/250, zero latency)',
      value: describe(result),
      target: '< 30 s',
      pass: total < 30_000 && result.failed === 0,
    })
  } finally {
    embedded.cleanup()
  }
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL
  if (url) {
    const server = await postgresConfig(url)
    try {
      const result = await seedAndApply(loaded.fleet, server.config, 4)
      rowsOut.push({
        name: '  the same on PostgreSQL (127.0.0.1, 4 targets at a time)',
        value: describe(result),
        target: '',
      })
    } finally {
      await server.cleanup()
    }
  } else {
    rowsOut.push({
      name: '  the same on PostgreSQL',
      value: 'not measured: set TEST_DATABASE_URL',
      target: '',
    })
  }
  return rowsOut
}

/**
 * A Kubernetes version upgrade of every ready cluster of the example (250 clusters, about 10,000
 * nodes), zero latency, embedded PGlite, four clusters at a time: every node surged, cordoned,
 * drained within its budgets and removed.
 */
async function rotationRows(): Promise<Row[]> {
  /** The accounts and the first 20 ready clusters. */
  const pacedTargets = (fleet: Fleet) => {
    const clusters = fleet.targets.filter((t) => t.kind === 'cluster' && t.lifecycle === 'ready').slice(0, 20)
    return [...fleet.targets.filter((t) => t.kind === 'account'), ...clusters]
  }
  const withPglite = async <T>(use: (config: StoreConfig) => Promise<T>): Promise<T> => {
    const store = pgliteConfig()
    try {
      return await use(store.config)
    } finally {
      store.cleanup()
    }
  }
  const loaded = loadFleet(await readRevisionSource(join(work, 'fleet-1x'), 'HEAD'))
  if (!loaded.ok) throw new Error('the example fleet does not load')
  const embedded = pgliteConfig()
  try {
    const r = await rotateFleet(loaded.fleet, embedded.config, 10_000, 4)
    // Pods take their time to start at the default pace, so budgets bind: 20 clusters suffice.
    const few = { ...loaded.fleet, targets: pacedTargets(loaded.fleet) }
    const paced = await withPglite((config) => rotateFleet(few, config, 800, 4, 1))
    return [
      {
        name: `rotate every node of ${r.clusters} clusters to a new Kubernetes version (${r.nodes.toLocaleString('en')} nodes, zero latency, PGlite)`,
        value: `${(r.ms / 1000).toFixed(1)} s${r.failed ? `, ${r.failed} FAILED` : ''}`,
        target: '< 300 s',
        pass: r.ms < 300_000 && r.failed === 0 && r.budgetViolations === 0 && r.nodes >= 10_000,
      },
      { name: '  nodes rotated per second', value: (r.nodes / (r.ms / 1000)).toFixed(1), target: '' },
      {
        name: '  peak pods under budgets unavailable at once in a cluster (what its budgets allowed then)',
        value: `${r.peakUnavailable} (${r.peakAllowed}); budget violations: ${r.budgetViolations}`,
        target: 'violations 0',
        pass: r.budgetViolations === 0,
      },
      {
        name: `  the same at the default pace (latency 1, virtual clock; ${paced.clusters} clusters, ${paced.nodes} nodes)`,
        value: `${paced.peakUnavailable} (${paced.peakAllowed}); budget violations: ${paced.budgetViolations}`,
        target: 'violations 0',
        pass: paced.budgetViolations === 0 && paced.failed === 0,
      },
    ]
  } finally {
    embedded.cleanup()
  }
}

/**
 * The rollout engine on the simulated fleet, zero latency, zero bake, no gates, bootstrapping an
 * empty fleet: its own overhead per target step (one target at a time, wall time minus the time
 * inside the provider, after the start), and a rollout over about 3000 targets — on PGlite and,
 * when a server is configured, on PostgreSQL.
 */
async function rolloutRows(): Promise<Row[]> {
  const out: Row[] = []
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL
  const backends: { name: string; open: () => Promise<{ config: StoreConfig; cleanup: () => unknown }> }[] = [
    { name: 'PGlite', open: async () => pgliteConfig() },
    ...(url ? [{ name: 'PostgreSQL', open: () => postgresConfig(url) }] : []),
  ]
  const measure = async (fleet: Parameters<typeof benchRollout>[0]) => {
    const results: [string, RolloutBench][] = []
    for (const backend of backends) {
      const store = await backend.open()
      try {
        results.push([backend.name, await benchRollout(fleet, store.config)])
      } finally {
        await store.cleanup()
      }
    }
    return results
  }
  for (const [name, r] of await measure(benchFleet(60, 50, 1))) {
    const overhead = (r.wallMs - r.startMs - r.providerMs) / r.targets
    out.push({
      name: `rollout engine overhead per target step, ${name} (${r.targets} targets one at a time; wall − provider time)`,
      value: `${overhead.toFixed(1)} ms`,
      target: name === 'PGlite' ? '< 10 ms' : '',
      ...(name === 'PGlite' ? { pass: overhead < 10 && r.state === 'succeeded' } : {}),
    })
  }
  for (const [name, r] of await measure(benchFleet(1700, 1300, undefined))) {
    out.push({
      name: `rollout of ${r.targets.toLocaleString('en')} targets from empty, ${name} (start: plan + schedule ${ms(r.startMs)}; plan stored in ${(r.planBytes / 1e6).toFixed(1)} MB)`,
      value: `${(r.wallMs / 1000).toFixed(1)} s ${r.state}`,
      target: name === 'PGlite' ? '< 120 s' : '',
      ...(name === 'PGlite' ? { pass: r.wallMs < 120_000 && r.state === 'succeeded' } : {}),
    })
  }
  return out
}

/**
 * The server on loopback, on the applied example WITH its background work (health refresh every
 * 10 s, drift checks every 15 s): the accounts API at 200 requests/s, the event loop's delay, the
 * CPU it uses idle, its memory, the accounts page and the plan page.
 */
async function serverRows(): Promise<Row[]> {
  const r = await benchServer(work)
  const loop = (l: { p50Ms: number; p99Ms: number; maxMs: number }) =>
    `p50 ${l.p50Ms.toFixed(1)} / p99 ${l.p99Ms.toFixed(1)} / max ${l.maxMs.toFixed(1)} ms`
  return [
    {
      name: `API: GET /api/accounts with filters (300 accounts) at 200 requests/s for 20 s with the background work running, p99 (p50 ${r.p50Ms} ms; ${r.requests} requests, ${r.errors} errors)`,
      value: `${r.p99Ms} ms`,
      target: '< 50 ms',
      pass: r.p99Ms < 50 && r.errors === 0,
    },
    {
      name: '  event-loop delay under that load (the server’s own monitor)',
      value: loop(r.loadLoop),
      target: 'max < 50 ms',
      pass: r.loadLoop.maxMs < 50,
    },
    {
      name: `  event-loop delay idle (${r.idleSeconds} s, health refresh and drift checks running)`,
      value: loop(r.idleLoop),
      target: 'max < 50 ms',
      pass: r.idleLoop.maxMs < 50,
    },
    {
      name: `  CPU of the idle server over ${r.idleSeconds} s, % of one core`,
      value: `${r.idleCpuPercent.toFixed(1)} %`,
      target: '< 2 %',
      pass: r.idleCpuPercent < 2,
    },
    {
      name: `  server memory (RSS) after the runs (peak ${r.peakRssMiB.toFixed(0)} MiB; JS heap ${r.heapUsedMiB.toFixed(0)}, outside it ${r.externalMiB.toFixed(0)})`,
      value: `${r.rssMiB.toFixed(0)} MiB`,
      target: '< 400 MiB',
      pass: r.rssMiB < 400,
    },
    {
      name: `portal: the accounts page (${r.pageRows} rows), rendered and fetched on loopback, median of 30 (worst ${ms(r.pageMaxMs)})`,
      value: ms(r.pageMedianMs),
      target: '< 100 ms',
      pass: r.pageMedianMs < 100,
    },
    {
      name: `portal: /plans, the first computation until shown (${r.planShowedProgress ? 'progress shown meanwhile' : 'NO progress shown'})`,
      value: ms(r.planFirstMs),
      target: 'progress shown',
      pass: r.planShowedProgress,
    },
    {
      name: '  /plans once computed (median of 5)',
      value: ms(r.planCachedMs),
      target: '< 300 ms',
      pass: r.planCachedMs < 300,
    },
  ]
}

/** The parts of the table, in order: `npm run bench -- server drill` measures only those (all by default). */
const SECTIONS = [
  'load',
  'load-10x',
  'sim',
  'rollout',
  'rotation',
  'server',
  'cli',
  'drill',
  'change-test',
  'quickstart',
  'dns',
  'cel',
] as const
const asked = process.argv.slice(2)
const unknown = asked.filter((name) => !(SECTIONS as readonly string[]).includes(name))
if (unknown.length > 0) {
  console.error(`no bench section ${unknown.join(', ')}: the sections are ${SECTIONS.join(', ')}`)
  process.exit(1)
}
const wanted = (section: (typeof SECTIONS)[number]) => asked.length === 0 || asked.includes(section)

const rows: Row[] = []

try {
  for (const scale of [1, 10]) {
    const accounts = 300 * scale
    const clusters = 250 * scale
    const repo = join(work, `fleet-${scale}x`)
    // The 1× example is every other section's fleet too.
    if (scale === 1 || wanted('load-10x')) await writeExampleFleet(repo, { accounts, clusters, seed: 1 })
    if (!wanted(scale === 1 ? 'load' : 'load-10x')) continue
    const runs = scale === 1 ? 7 : 3
    const label = `${accounts} accounts, ${clusters} clusters`
    const source = await readRevisionSource(repo, 'HEAD')

    const { pipeline, load, parse } = await interleavedMediansMs(
      { pipeline: () => fullPipeline(repo), load: () => loadFleet(source), parse: () => parseOnly(source) },
      runs,
    )
    const limit = scale === 1 ? 1000 : 10_000
    rows.push({
      name: `validate --rev HEAD: read + load + validate + render (${label})`,
      value: ms(pipeline),
      target: `< ${limit / 1000} s`,
      pass: pipeline < limit,
    })
    rows.push({ name: `  of which load + validate + render in memory`, value: ms(load), target: '' })
    rows.push({
      name: `  baseline: yaml.parseAllDocuments + toJS of every file`,
      value: ms(parse),
      target: '',
    })
    rows.push({
      name: `  ratio in memory (load+validate+render / parse)`,
      value: `${(load / parse).toFixed(2)}×`,
      target: 'aim ≤ 2×',
      pass: load / parse <= 2,
    })
    rows.push({
      name: `  ratio with the git read (pipeline / parse)`,
      value: `${(pipeline / parse).toFixed(2)}×`,
      target: '',
    })

    if (scale === 10) rows.push(peakMemoryRow(`  peak memory (RSS of a fresh process, ${label})`, [repo]))

    // Plans: a one-line template change (every account changes) and one account's config item.
    const template = await commitEdit(repo, 'template-change', 'stacks/logging.yaml', (t) =>
      t.replace(
        '- { Key: owner, Value: "{{ account.team }}" }',
        '- { Key: team, Value: "{{ account.team }}" }',
      ),
    )
    const oneTarget = await commitEdit(repo, 'one-target', 'inventory/accounts/staging.yaml', (t) =>
      t.replace(/dns_domain: ([a-z0-9-]+)\.example\.org/, 'dns_domain: $1.example.net'),
    )
    const [templateHead, oneHead] = await Promise.all([
      readRevisionSource(repo, template),
      readRevisionSource(repo, oneTarget),
    ])
    const warmTemplate = warmPlan(source, templateHead)
    const warmOne = warmPlan(source, oneHead)
    const plans = await interleavedMediansMs(
      {
        full: () => offlinePlan(repo, template),
        fullOne: () => offlinePlan(repo, oneTarget),
        parseBoth: () => parseOnly(source) + parseOnly(templateHead),
        warmFull: warmTemplate,
        warmOne,
      },
      runs,
    )
    const changed = warmTemplate().summary.targetsChanged
    rows.push({
      name: `plan --base main --head <one-line template change, ${changed} targets change> (${label})`,
      value: ms(plans.full),
      target: `< ${limit / 1000} s`,
      pass: plans.full < limit,
    })
    rows.push({ name: `  baseline: parsing both revisions' YAML`, value: ms(plans.parseBoth), target: '' })
    rows.push({
      name: `  ratio (plan / parse both)`,
      value: `${(plans.full / plans.parseBoth).toFixed(2)}×`,
      target: scale === 1 ? '≤ 2.0×' : '',
      ...(scale === 1 ? { pass: plans.full / plans.parseBoth <= 2 } : {}),
    })
    rows.push({ name: `  plan of one target's config change, cold`, value: ms(plans.fullOne), target: '' })
    rows.push({
      name: `  with the base already loaded: template change (head load + diff)`,
      value: ms(plans.warmFull),
      target: '',
    })
    rows.push({
      name: `  with the base already loaded: one target's config change`,
      value: ms(plans.warmOne),
      target: '',
    })
    rows.push({
      name: `  one-target change / full-fleet plan`,
      value: `${((plans.warmOne / plans.full) * 100).toFixed(0)}%`,
      target: 'a small fraction',
      pass: plans.warmOne / plans.full < 0.25,
    })
    if (scale === 10) {
      rows.push(
        peakMemoryRow(`  peak memory of the plan (fresh process, ${label})`, [repo, 'plan', template]),
      )
      rows.push(...(await policyRows(repo, source, runs)))
    }
  }

  if (wanted('sim')) rows.push(...(await simRows()))
  if (wanted('rollout')) rows.push(...(await rolloutRows()))
  if (wanted('rotation')) rows.push(...(await rotationRows()))
  if (wanted('server')) rows.push(...(await serverRows()))
  if (wanted('cli')) {
    rows.push(...(await cliStartupRows()))
    rows.push(...(await cliCommandRows(join(work, 'fleet-1x'), 5)))
  }
  if (wanted('drill')) rows.push(...(await drillRows(join(work, 'fleet-1x'))))
  if (wanted('change-test')) rows.push(...(await changeTestRows(join(work, 'fleet-1x'))))
  if (wanted('quickstart')) rows.push(...(await quickstartRows()))

  const qps = wanted('dns') ? await dnsQueriesPerSecond(2000) : undefined
  if (qps !== undefined)
    rows.push({
      name: 'simulated DNS server: answered queries/s on loopback (64 in flight, one client)',
      value: `${Math.round(qps).toLocaleString('en')} /s`,
      target: '≥ 10,000 /s',
      pass: qps >= 10_000,
    })

  if (wanted('cel')) {
    const cel = celEnginesPerSecond()
    rows.push({
      name: 'CEL selector, compiled once: @marcbachmann/cel-js (used)',
      value: `${(cel.celJs / 1e6).toFixed(2)} M evals/s`,
      target: '',
    })
    rows.push({
      name: 'CEL selector, compiled once: @bufbuild/cel (compared)',
      value: `${(cel.bufbuild / 1e6).toFixed(2)} M evals/s`,
      target: `cel-js ${(cel.celJs / cel.bufbuild).toFixed(1)}× faster`,
    })
  }

  printTable(`Flotilla benchmarks (node ${process.version}, medians)`, rows)
} finally {
  rmSync(work, { recursive: true, force: true })
}
