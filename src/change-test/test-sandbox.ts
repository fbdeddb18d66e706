/**
 * The ephemeral fleet of `flotilla test`: a scratch clone of the repository holding the base and
 * the head (each made fit by `sandbox-revision.ts`), an embedded store of its own in the scratch
 * directory, and a simulated fleet that stands in for every provider the fleet names — with its
 * endpoints served on loopback for the repository's `command` gates (`e2e/run.sh`). Nothing it does
 * reaches the user's repository, their store (`FLOTILLA_DATABASE_URL` is not read) or any real
 * cloud or cluster: the command gates' environment points the AWS and Kubernetes clients at the
 * ephemeral fleet and carries none of the user's cloud credentials.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Application } from '../app/application.ts'
import {
  type Simulator,
  simulatedFleet,
  startAwsServer,
  startDnsServer,
  startKubernetesServer,
} from '../app/simulator.ts'
import { ProviderRegistry } from '../core/provider/registry.ts'
import { openDrillStore } from '../drill/drill-store.ts'
import { commitChanges } from '../example/write-repository.ts'
import type { EngineDeps } from '../rollout/engine.ts'
import { git, resolveCommit } from '../source/git.ts'
import { type SandboxChanges, sandboxRevision } from './sandbox-revision.ts'

/** Every provider name a fleet may give a target: the simulated fleet stands in for each. */
const PROVIDER_NAMES = ['aws', 'kubernetes'] as const

/** The endpoints of the ephemeral fleet, as `command` gates receive them. */
export interface TestEndpoints {
  /** `host:port` of its DNS server. */
  readonly dns: string
  /** Its AWS-compatible endpoint (CloudFormation, Route 53, STS). */
  readonly aws: string
  /** Its Kubernetes API: a cluster's is `<this>/<cluster id>`. */
  readonly kubernetes: string
  /** A kubeconfig with a context per cluster of the test (named by cluster id). */
  readonly kubeconfig: string
}

/** An open sandbox (see the module comment). */
export interface TestSandbox {
  readonly repo: string
  /** The commits as the user's repository has them. */
  readonly given: { readonly base: string; readonly head: string }
  /** The commits of the scratch clone the test applies (rewritten by `sandboxRevision`). */
  readonly base: string
  readonly head: string
  /** What the rewrite left out (the same for base and head). */
  readonly rewrite: SandboxChanges
  readonly app: Application
  readonly simulator: Simulator
  readonly registry: ProviderRegistry
  readonly engine: EngineDeps
  readonly endpoints: TestEndpoints
  /** Writes the kubeconfig for these clusters. */
  writeKubeconfig(clusters: readonly string[]): void
  /** Empties the simulated fleet (nothing deployed anywhere), at full speed. */
  emptyFleet(): Promise<void>
  close(): Promise<void>
}

/** Opens a sandbox for testing `head` as an upgrade of `base` in `source` (see the module comment). */
export async function openTestSandbox(
  source: string,
  baseRev: string,
  headRev: string,
): Promise<TestSandbox> {
  const given = { base: await resolveCommit(source, baseRev), head: await resolveCommit(source, headRev) }
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-test-'))
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })]
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  }
  try {
    const repo = join(dir, 'fleet')
    await git(dir, ['clone', '--quiet', '--no-checkout', source, repo])
    const rewritten = async (commit: string, branch: string) => {
      await git(repo, ['checkout', '--quiet', '--force', '-B', branch, commit])
      const rewrite = sandboxRevision(repo)
      const made = rewrite.changed ? await commitChanges(repo, 'flotilla test: the ephemeral fleet') : commit
      return { commit: made, rewrite }
    }
    const base = await rewritten(given.base, 'test-base')
    const head = await rewritten(given.head, 'test-head')

    const store = await openDrillStore(join(dir, 'store'))
    cleanups.push(() => store.close())
    const sim = simulatedFleet(store.db)
    const registry = new ProviderRegistry([sim])
    for (const name of PROVIDER_NAMES) registry.registerAs(name, sim)

    const zones = { current: await sim.zones() }
    const dns = await startDnsServer({ zones: { findZone: (name) => zones.current.findZone(name) } })
    cleanups.push(() => dns.close())
    // Zones change as the test applies: re-read a few times a second, as `flotilla sim serve` does
    // (a read is one query when nothing changed).
    const refresh = setInterval(() => {
      sim.zones().then(
        (latest) => {
          zones.current = latest
        },
        () => {},
      )
    }, 200)
    cleanups.push(() => clearInterval(refresh))
    const aws = await startAwsServer({ db: store.db, sim })
    cleanups.push(() => aws.close())
    const kubernetes = await startKubernetesServer({ db: store.db, sim })
    cleanups.push(() => kubernetes.close())
    const kubeconfig = join(dir, 'kubeconfig')
    const endpoints: TestEndpoints = {
      dns: dns.address,
      aws: aws.url,
      kubernetes: `${kubernetes.url}/clusters`,
      kubeconfig,
    }
    const app = new Application({ db: store.db, registry, repoDir: repo })
    cleanups.push(() => app.close())
    const engine = await app.openEngine({ keepRevisions: 2, gateEnv: gateEnvironment(endpoints) })
    return {
      repo,
      given,
      base: base.commit,
      head: head.commit,
      rewrite: head.rewrite,
      app,
      simulator: sim,
      registry,
      engine: engine.deps,
      endpoints,
      writeKubeconfig(clusters) {
        writeFileSync(kubeconfig, kubeconfigText(clusters, kubernetes.clusterUrl))
      },
      async emptyFleet() {
        await sim.reset()
        await sim.updateSettings({ latencyScale: 0 })
        zones.current = await sim.zones()
      },
      close: closeAll,
    }
  } catch (error) {
    await closeAll()
    throw error
  }
}

/**
 * The environment of the test's `command` gates: this process's, without the user's cloud and
 * cluster credentials, plus the ephemeral fleet's endpoints under the names the AWS SDKs and CLI
 * (`AWS_ENDPOINT_URL`) and `kubectl` (`KUBECONFIG`) read. Documented in docs/testing-changes.md.
 */
export function gateEnvironment(endpoints: TestEndpoints): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^AWS_/.test(key) || key === 'KUBECONFIG') continue
    env[key] = value
  }
  return {
    ...env,
    FLOTILLA_TEST: '1',
    FLOTILLA_DNS_SERVER: endpoints.dns,
    FLOTILLA_KUBERNETES_URL: endpoints.kubernetes,
    AWS_ENDPOINT_URL: endpoints.aws,
    AWS_ACCESS_KEY_ID: 'flotilla-test',
    AWS_SECRET_ACCESS_KEY: 'flotilla-test',
    AWS_REGION: process.env.AWS_REGION ?? 'eu-central-1',
    // No profile files either: a script naming a profile (`--profile prod`) finds none, instead of
    // the user's real credentials in ~/.aws.
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    KUBECONFIG: endpoints.kubeconfig,
  }
}

/** A kubeconfig with one context per cluster, named by its id, each at its simulated API. */
function kubeconfigText(clusters: readonly string[], urlOf: (id: string) => string): string {
  const quote = (text: string) => JSON.stringify(text)
  const lines = ['apiVersion: v1', 'kind: Config', 'clusters:']
  for (const id of clusters)
    lines.push(`  - name: ${quote(id)}`, `    cluster: { server: ${quote(urlOf(id))} }`)
  lines.push('users:', '  - name: flotilla-test', '    user: { token: flotilla-test }', 'contexts:')
  for (const id of clusters)
    lines.push(`  - name: ${quote(id)}`, `    context: { cluster: ${quote(id)}, user: flotilla-test }`)
  if (clusters[0] !== undefined) lines.push(`current-context: ${quote(clusters[0])}`)
  return `${lines.join('\n')}\n`
}
