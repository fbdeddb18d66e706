/**
 * Helpers of the rollout engine's tests: the example fleet repository with a `rollout.yaml` fit
 * for tests (no bakes of minutes, no Prometheus on a fixed port), edits to its inventory, git
 * commits, and the engine wired to a store the way `runner.ts` wires it for the CLI.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Kysely } from 'kysely'
import { parse, parseDocument, stringify } from 'yaml'
import type { Application } from '../../src/app/application.ts'
import { openApplication } from '../../src/app/open-application.ts'
import type { Fleet, Target } from '../../src/core/model/fleet-model.ts'
import { operatorClock } from '../../src/core/policy/policy-time.ts'
import type { Provider } from '../../src/core/provider/port.ts'
import { ProviderRegistry } from '../../src/core/provider/registry.ts'
import { writeExampleFleet } from '../../src/example/write-example.ts'
import type { AwsServer } from '../../src/providers/sim/aws/aws-server.ts'
import { startDnsServer } from '../../src/providers/sim/dns-server.ts'
import type { KubernetesServer } from '../../src/providers/sim/kubernetes/kubernetes-server.ts'
import { SimProvider } from '../../src/providers/sim/sim-provider.ts'
import { type EngineDeps, runRollout, startRollout } from '../../src/rollout/engine.ts'
import type { RolloutState } from '../../src/rollout/rollout-model.ts'
import { openRunner } from '../../src/rollout/runner.ts'
import { git } from '../../src/source/git.ts'
import type { Database, Json } from '../../src/store/tables.ts'
import { GIT_IDENTITY } from './git-fixture.ts'
import type { CliRun } from './run-cli.ts'
import { NOW, type SimFleet } from './sim-cli.ts'

/** A stage of `rollout.yaml` as the tests edit it. */
export interface StageYaml {
  name: string
  select: string
  description?: string
  waves?: (number | string)[]
  gates?: string[]
  approval?: 'required' | 'none'
  maxParallel?: number
  failureTolerance?: number
  bake?: string
  onFailure?: 'rollback' | 'halt'
}

/** `rollout.yaml` as the tests edit it. */
export interface RolloutYaml {
  defaults: Record<string, unknown>
  stages: StageYaml[]
  gates: Record<string, Record<string, unknown>>
}

/**
 * Writes the example fleet (seed 7) into a new temporary directory.
 *
 * @param size how many accounts (at least 10) and clusters; @default 20 accounts, 15 clusters
 */
export async function exampleRepo(
  size: { accounts?: number; clusters?: number } = {},
): Promise<{ repo: string; dispose(): void }> {
  const parent = mkdtempSync(join(tmpdir(), 'flotilla-rollout-'))
  const repo = join(parent, 'fleet')
  await writeExampleFleet(repo, { accounts: size.accounts ?? 20, clusters: size.clusters ?? 15, seed: '7' })
  return { repo, dispose: () => rmSync(parent, { recursive: true, force: true }) }
}

/** Rewrites the repository's `rollout.yaml` through `edit` (comments are not kept). */
export function editRollout(repo: string, edit: (rollout: RolloutYaml) => void): void {
  const path = join(repo, 'rollout.yaml')
  const rollout = parse(readFileSync(path, 'utf8')) as RolloutYaml
  edit(rollout)
  writeFileSync(path, stringify(rollout))
}

/**
 * The example's stages made fast for tests: every bake `0s`, and the `errors` gate (Prometheus on
 * 127.0.0.1:9090, which nothing serves in a test) taken out of every stage.
 */
export function quickStages(rollout: RolloutYaml): void {
  rollout.defaults.bake = '0s'
  for (const stage of rollout.stages) {
    if (stage.bake !== undefined) stage.bake = '0s'
    if (stage.gates) stage.gates = stage.gates.filter((gate) => gate !== 'errors')
  }
}

/** The stage of `rollout.yaml` named `name`. */
export function stageNamed(rollout: RolloutYaml, name: string): StageYaml {
  const stage = rollout.stages.find((s) => s.name === name)
  if (!stage) throw new Error(`rollout.yaml has no stage ${name}`)
  return stage
}

/** Merges `config` into the `config` of cluster `id` in `inventory/clusters.yaml`, keeping comments. */
export function editClusterConfig(repo: string, id: string, config: Record<string, unknown>): void {
  const path = join(repo, 'inventory', 'clusters.yaml')
  const document = parseDocument(readFileSync(path, 'utf8'))
  const clusters = document.toJS() as { id: string }[]
  const index = clusters.findIndex((cluster) => cluster.id === id)
  if (index < 0) throw new Error(`inventory/clusters.yaml has no cluster ${id}`)
  for (const [key, value] of Object.entries(config)) document.setIn([index, 'config', key], value)
  writeFileSync(path, document.toString())
}

/** A cluster of the `ops` group whose ingress names are published in its account's zone. */
export function opsCluster(fleet: Fleet): { cluster: Target; domain: string } {
  for (const cluster of fleet.targets) {
    if (cluster.kind !== 'cluster' || cluster.group !== 'ops') continue
    const zone = fleet.targets.find((t) => t.id === cluster.account)?.config.dns_domain
    const domain = String(cluster.config.ingress_domain ?? '')
    if (typeof zone === 'string' && domain.endsWith(`.${zone}`)) return { cluster, domain }
  }
  throw new Error('the example fleet has no ops cluster with its ingress in its zone')
}

/** Commits everything in the repository; returns the commit id. */
export async function commitAll(repo: string, message: string): Promise<string> {
  await git(repo, ['add', '-A'])
  await git(repo, ['commit', '-q', '--no-verify', '-m', message], undefined, GIT_IDENTITY)
  return (await git(repo, ['rev-parse', 'HEAD'])).toString().trim()
}

/** A loopback TCP port that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** An event as the engine reports it through `onEvent`. */
export interface ReportedEvent {
  readonly type: string
  readonly target?: string
  readonly detail?: Json
}

/**
 * The providers the accounts of a scenario use: `sim`, the simulated fleet; or `aws`, the AWS SDK
 * against the simulated fleet's AWS-compatible endpoint (the clusters then stay on `sim`).
 */
export const ACCOUNT_PROVIDERS = ['sim', 'aws'] as const

/** One of {@link ACCOUNT_PROVIDERS}. */
export type AccountProvider = (typeof ACCOUNT_PROVIDERS)[number]

/**
 * Puts the accounts of the example fleet in `repo` on the `aws` provider (`fleet.yaml`); its
 * clusters stay on `sim` (unless {@link clustersOnKubernetes} follows). Not committed.
 */
export function accountsOnAws(repo: string): void {
  const fleetYaml = join(repo, 'fleet.yaml')
  const fleet = readFileSync(fleetYaml, 'utf8')
  if (!/^provider: sim\b/m.test(fleet)) throw new Error('fleet.yaml has no line "provider: sim"')
  writeFileSync(fleetYaml, fleet.replace(/^provider: sim\b/m, 'provider: aws'))
  const clusters = join(repo, 'inventory', 'clusters.yaml')
  writeFileSync(
    clusters,
    readFileSync(clusters, 'utf8').replace(/^ {2}alias: /gm, '  provider: sim\n  alias: '),
  )
}

/**
 * Puts the clusters of the example fleet in `repo` on the `kubernetes` provider
 * (`inventory/clusters.yaml`, replacing a `provider` that {@link accountsOnAws} gave them). They
 * need no `apiServer`: {@link openEngine} reaches them through a kubeconfig with a context per
 * cluster id, at the simulated Kubernetes API on a port it picks then. Not committed.
 */
export function clustersOnKubernetes(repo: string): void {
  const path = join(repo, 'inventory', 'clusters.yaml')
  const clusters = readFileSync(path, 'utf8').replace(/^ {2}provider: \S+\n/gm, '')
  if (!/^ {2}alias: /m.test(clusters)) throw new Error('inventory/clusters.yaml has no alias lines')
  writeFileSync(path, clusters.replace(/^ {2}alias: /gm, '  provider: kubernetes\n  alias: '))
}

/** The engine wired to a store and the repository, as the CLI wires it, with the simulated fleet. */
export interface EngineHarness {
  readonly sim: SimProvider
  /** The provider of the accounts: {@link sim}, or the aws provider on {@link awsEndpoint}. */
  readonly accounts: Provider
  /** The simulated AWS endpoint the aws provider calls, when the accounts are on `aws`. */
  readonly awsEndpoint: string | undefined
  /** The provider of the clusters: {@link sim}, or the kubernetes provider on {@link kubernetesApi}. */
  readonly clusters: Provider
  /** The simulated Kubernetes API the kubernetes provider calls, when the clusters are on `kubernetes`. */
  readonly kubernetesApi: KubernetesServer | undefined
  readonly deps: EngineDeps
  /** Every event `onEvent` received, in order. */
  readonly events: ReportedEvent[]
  /** Starts a rollout of `commit` (policies see {@link NOW}); returns its id. */
  start(commit: string, actor?: string): Promise<string>
  /** Runs a rollout until it ends, halts, pauses or waits. */
  run(id: string): Promise<RolloutState>
  close(): Promise<void>
}

/**
 * Opens the engine on `db` for the repository at `repo`: the simulated provider (latency scale
 * `latencyScale`), the runner's gates with its DNS server, and the fleet of `seedCommit` seeded
 * into the simulated fleet. With `accounts: 'aws'` (the repository's accounts on `aws`, see
 * {@link accountsOnAws}) it also starts the simulated AWS endpoint and registers the aws
 * provider, whose base credentials are those of the fleet's first account. When clusters of
 * `seedCommit` are on `kubernetes` (see {@link clustersOnKubernetes}) it starts the simulated
 * Kubernetes API and registers the kubernetes provider, with a kubeconfig context for each of
 * those clusters (a cluster added by a later commit has none).
 */
export async function openEngine(
  repo: string,
  db: Kysely<Database>,
  options: {
    latencyScale?: number
    seedCommit: string
    deps?: Partial<EngineDeps>
    /** @default 'sim' */
    accounts?: AccountProvider
  },
): Promise<EngineHarness> {
  const sim = new SimProvider({ db })
  const registry = new ProviderRegistry([sim])
  await sim.updateSettings({ latencyScale: options.latencyScale ?? 0 })
  const events: ReportedEvent[] = []
  // The resolvers of the simulated world, as an operator would configure them: every name the
  // simulated fleet serves (its zones as they are when a gate runs), for the targets whose
  // provider names no DNS server of its own (the accounts on aws).
  let zones = await sim.zones()
  const dns = await startDnsServer({ zones: { findZone: (name) => zones.findZone(name) } })
  const runner = await openRunner({
    repoDir: repo,
    db,
    registry,
    dnsServers: [dns.address],
    onEvent: (event) => events.push(event),
    settleTimeoutMs: 60_000,
  })
  const deps: EngineDeps = {
    ...runner.deps,
    runGates: async (stage, target, fleet, signal) => {
      zones = await sim.zones()
      return runner.deps.runGates(stage, target, fleet, signal)
    },
    retry: { baseMs: 50, maxMs: 500 },
    policyClock: operatorClock(new Date(NOW)),
    ...options.deps,
  }
  const seed = await deps.loadRevision(options.seedCommit)
  let server: AwsServer | undefined
  let accounts: Provider = sim
  if (options.accounts === 'aws') {
    // Imported here: the AWS SDK takes a while to load, and most users of this module do not need it.
    const { startAwsServer } = await import('../../src/providers/sim/aws/aws-server.ts')
    const { simAwsProvider } = await import('./sim-aws.ts')
    server = await startAwsServer({ db, sim })
    const first = seed.targets.find((t) => t.kind === 'account')
    if (!first) throw new Error(`the fleet of ${options.seedCommit} has no account`)
    accounts = simAwsProvider(server.url, db, first.account)
    registry.register(accounts)
  }
  let kubernetesApi: KubernetesServer | undefined
  let kubeconfigDir: string | undefined
  let clusters: Provider = sim
  const onKubernetes = seed.targets.filter((t) => t.kind === 'cluster' && t.provider === 'kubernetes')
  if (onKubernetes.length > 0) {
    // Imported here, as the AWS SDK is: the Kubernetes client takes a while to load.
    const { startKubernetesServer } = await import('../../src/providers/sim/kubernetes/kubernetes-server.ts')
    const { simKubernetesProvider } = await import('./sim-kubernetes.ts')
    kubernetesApi = await startKubernetesServer({ db, sim })
    kubeconfigDir = mkdtempSync(join(tmpdir(), 'flotilla-kubeconfig-'))
    clusters = simKubernetesProvider(kubernetesApi, onKubernetes, kubeconfigDir)
    registry.register(clusters)
  }
  // With the inventory's node pools: they are the nodes the simulated Kubernetes API schedules on.
  await sim.seed(seed.targets, seed.clusters)
  return {
    sim,
    accounts,
    awsEndpoint: server?.url,
    clusters,
    kubernetesApi,
    deps,
    events,
    start: async (commit, actor = 'alice') =>
      (
        await startRollout(deps, {
          commit,
          ref: commit.slice(0, 12),
          approvals: [],
          actor,
        })
      ).id,
    run: (id) => runRollout(deps, id),
    close: async () => {
      await runner.close()
      await dns.close()
      await server?.close()
      await kubernetesApi?.close()
      if (kubeconfigDir) rmSync(kubeconfigDir, { recursive: true, force: true })
    },
  }
}

/**
 * Sets how many days the log buckets of some accounts keep their logs (`stacks/logging.yaml`,
 * on top of what earlier calls set): an in-place update of exactly those accounts' `logging`
 * stacks, allowed by every policy of the example.
 */
export function setLogExpiry(repo: string, days: Readonly<Record<string, number>>): void {
  const path = join(repo, 'stacks', 'logging.yaml')
  const text = readFileSync(path, 'utf8')
  const line = /ExpirationInDays: "\{\{ (.*) \}\}"/.exec(text)
  if (!line) throw new Error('stacks/logging.yaml has no ExpirationInDays line')
  const earlier = Object.fromEntries(
    [...line[1]!.matchAll(/account\.id == '(\d+)' \? (\d+) : /g)].map((m) => [m[1]!, Number(m[2])]),
  )
  let expression = "account.environment == 'production' ? 400 : 30"
  for (const [id, n] of Object.entries({ ...earlier, ...days }))
    expression = `account.id == '${id}' ? ${n} : (${expression})`
  writeFileSync(path, text.replace(line[0], `ExpirationInDays: "{{ ${expression} }}"`))
}

/**
 * Opens the store of a {@link SimFleet} in this process (between CLI runs: the embedded store
 * takes one process at a time), gives it to `use`, and closes it.
 */
export function inFleetStore<T>(sim: SimFleet, use: (opened: Application) => Promise<T>): Promise<T> {
  return sim.inProcess(async () => {
    const opened = await openApplication({ repo: sim.repo, cwd: process.cwd() })
    try {
      return await use(opened)
    } finally {
      await opened.close()
    }
  })
}

/** Runs the CLI of `sim` in this process as `actor` (`FLOTILLA_ACTOR`). */
export async function cliAs(sim: SimFleet, actor: string, ...argv: string[]): Promise<CliRun> {
  const saved = process.env.FLOTILLA_ACTOR
  process.env.FLOTILLA_ACTOR = actor
  try {
    return await sim.cli(...argv)
  } finally {
    if (saved === undefined) delete process.env.FLOTILLA_ACTOR
    else process.env.FLOTILLA_ACTOR = saved
  }
}
