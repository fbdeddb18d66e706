/**
 * Wires the rollout engine to a repository and a store: fleets loaded from git commits (cached),
 * gates run with the target's provider, and — for the simulated fleet — a DNS server on a
 * loopback port that answers from its zones, so `dns` gates make real DNS queries.
 */
import type { Kysely } from 'kysely'
import { InputError } from '../core/errors.ts'
import { LoadCache as Cache, type LoadCache } from '../core/load/load-cache.ts'
import { loadFleet } from '../core/load/load-fleet.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import { checkoutRevision, readRevisionSource } from '../core/source/git.ts'
import { type DnsServer, startDnsServer } from '../providers/sim/dns-server.ts'
import type { InMemoryZones } from '../providers/sim/dns-zones.ts'
import type { SimProvider } from '../providers/sim/sim-provider.ts'
import type { Database, Json } from '../store/tables.ts'
import type { EngineDeps } from './engine.ts'
import { runGates } from './gates.ts'
import type { GateOutcome } from './rollout-model.ts'

/** A running engine environment; `close` stops its DNS server. */
export interface Runner {
  readonly deps: EngineDeps
  close(): Promise<void>
}

/** What {@link openRunner} needs. */
export interface RunnerOptions {
  readonly repoDir: string
  readonly db: Kysely<Database>
  readonly registry: ProviderRegistry
  readonly sim: SimProvider
  readonly onEvent?: (event: { type: string; target?: string; detail?: Json }) => void
  readonly settleTimeoutMs?: number
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

/** Sets up the engine's dependencies for one process. */
export async function openRunner(options: RunnerOptions): Promise<Runner> {
  const cache = new Cache()
  const fleets = new Map<string, Promise<Fleet>>()
  let zones: InMemoryZones = await options.sim.zones()
  const dns: DnsServer = await startDnsServer({ zones: { findZone: (name) => zones.findZone(name) } })
  const deps: EngineDeps = {
    db: options.db,
    registry: options.registry,
    loadRevision: (commit) => {
      let fleet = fleets.get(commit)
      if (!fleet) {
        fleet = loadCommit(options.repoDir, commit, cache)
        fleets.set(commit, fleet)
      }
      return fleet
    },
    runGates: async (stage, target, fleet) => {
      zones = await options.sim.zones() // what the DNS server answers from: the zones as they are now
      const account = fleet.accounts.get(target.account)
      if (!account) throw new Error(`target ${target.id} has no account ${target.account}`)
      const results = await runGates(stage.gates, fleet.rollout.gates, target, account, fleet.settings, {
        provider: options.registry.forTarget(target),
        dnsServers: [dns.address],
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
    },
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.settleTimeoutMs !== undefined ? { settleTimeoutMs: options.settleTimeoutMs } : {}),
  }
  return {
    deps,
    close: () => dns.close(),
  }
}
