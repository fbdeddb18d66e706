/**
 * Wires the rollout engine to a repository and a store: fleets loaded from git commits (cached),
 * gates run with the target's provider — which also says where they look (`gateEndpoints`: the
 * simulated fleet names its own DNS server; a cloud names none, so its `dns` gates ask the
 * machine's resolvers, or those the operator configured).
 */
import type { Kysely } from 'kysely'
import { InputError } from '../core/errors.ts'
import { LoadCache as Cache, type LoadCache } from '../core/load/load-cache.ts'
import { loadFleet } from '../core/load/load-fleet.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import type { PolicyClock } from '../core/policy/policy-time.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import { checkoutRevision, readRevisionSource } from '../source/git.ts'
import type { Database, Json } from '../store/tables.ts'
import type { EngineDeps } from './engine.ts'
import { runGates } from './gates.ts'
import type { GateOutcome } from './rollout-model.ts'

/** A running engine environment; `close` releases what it holds. */
export interface Runner {
  readonly deps: EngineDeps
  close(): Promise<void>
}

/** What {@link openRunner} needs. */
export interface RunnerOptions {
  readonly repoDir: string
  readonly db: Kysely<Database>
  readonly registry: ProviderRegistry
  /**
   * The DNS servers (`host:port`) `dns` gates ask for targets whose provider names none.
   * @default the machine's resolvers
   */
  readonly dnsServers?: readonly string[]
  /** The environment of `command` gates. @default this process's */
  readonly gateEnv?: NodeJS.ProcessEnv
  readonly onEvent?: (event: { type: string; target?: string; detail?: Json }) => void
  readonly settleTimeoutMs?: number
  /** The time policies see (see {@link EngineDeps.policyClock}). @default the real clock */
  readonly policyClock?: PolicyClock
  /** How many loaded revisions to keep (the most recently used). @default 4 */
  readonly keepRevisions?: number
}

/** Loads a commit of the repository; an invalid revision is an input error (it cannot be rolled out). */
export async function loadCommit(repoDir: string, commit: string, cache?: LoadCache): Promise<Fleet> {
  const result = loadFleet(await readRevisionSource(repoDir, commit), cache ? { cache } : {})
  if (!result.ok) {
    throw new InputError(
      `revision ${commit.slice(0, 12)} is invalid; run "flotilla validate --rev ${commit.slice(0, 12)}"`,
      result.errors,
    )
  }
  return result.fleet
}

/** How many loaded revisions the engine keeps (the most recently used), unless told otherwise. */
const LOADED_REVISIONS = 4

/** Sets up the engine's dependencies for one process. */
export async function openRunner(options: RunnerOptions): Promise<Runner> {
  const cache = new Cache()
  const fleets = new Map<string, Promise<Fleet>>()
  const keep = options.keepRevisions ?? LOADED_REVISIONS
  const deps: EngineDeps = {
    db: options.db,
    registry: options.registry,
    loadRevision: (commit) => {
      let fleet = fleets.get(commit)
      if (fleet)
        fleets.delete(commit) // re-inserted below: the map's order is the order of use
      else {
        fleet = loadCommit(options.repoDir, commit, cache)
        // A revision that does not load is not kept: the next caller gets its error afresh.
        fleet.catch(() => fleets.get(commit) === fleet && fleets.delete(commit))
      }
      fleets.set(commit, fleet)
      // A loaded fleet of the example is tens of megabytes: a long-running server keeps the few
      // revisions its rollouts and plans use, not every commit it ever saw.
      for (const oldest of fleets.keys()) {
        if (fleets.size <= keep) break
        fleets.delete(oldest)
      }
      return fleet
    },
    runGates: async (stage, target, fleet, signal) => {
      const results: GateOutcome[] = []
      // The rolled-out revision's gates, then those the trusted revision adds (its definitions, its scripts).
      const sources = stage.gateSources ?? {}
      const bySource = new Map<string | undefined, string[]>()
      for (const name of stage.gates) {
        const source = sources[name]
        bySource.set(source, [...(bySource.get(source) ?? []), name])
      }
      for (const [commit, names] of bySource) {
        const from = commit === undefined ? fleet : await deps.loadRevision(commit)
        results.push(...(await gatesOf(names, from, target, signal)))
      }
      return results
    },
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.settleTimeoutMs !== undefined ? { settleTimeoutMs: options.settleTimeoutMs } : {}),
    ...(options.policyClock ? { policyClock: options.policyClock } : {}),
  }
  /** Runs gates as `fleet` defines them (`name@trusted` is the trusted revision's `name`). */
  async function gatesOf(
    names: readonly string[],
    fleet: Fleet,
    target: Target,
    signal: AbortSignal | undefined,
  ): Promise<GateOutcome[]> {
    const account = fleet.accounts.get(target.account)
    if (!account) throw new Error(`target ${target.id} has no account ${target.account}`)
    const definitions = Object.fromEntries(
      Object.entries(fleet.rollout.gates).flatMap(([name, gate]) => [
        [name, gate],
        [`${name}@trusted`, gate],
      ]),
    )
    const results = await runGates(names, definitions, target, account, fleet.settings, {
      provider: options.registry.forTarget(target),
      ...(options.dnsServers ? { dnsServers: options.dnsServers } : {}),
      ...(options.gateEnv ? { env: options.gateEnv } : {}),
      ...(signal ? { signal } : {}),
      // The scripts of the revision rolled out, not of the working tree (nor none: a bare mirror).
      cwd:
        fleet.source.kind === 'revision'
          ? await checkoutRevision(options.repoDir, fleet.source.commit)
          : options.repoDir,
    })
    return results.map(
      (r): GateOutcome => ({
        name: r.name,
        state: r.state,
        detail: r.detail,
        type: r.type,
        durationMs: r.durationMs,
        ...(r.output !== undefined ? { output: r.output } : {}),
      }),
    )
  }
  return { deps, close: async () => {} }
}
