/**
 * What the simulated fleet's provider and its control share in one process: the store, the
 * clock and dice, the zones as last loaded, and which targets it has prepared. Everything else is
 * in the store, so several processes on one PostgreSQL see one simulated fleet.
 */
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Target } from '../../core/model/fleet-model.ts'
import type { Database } from '../../store/tables.ts'
import type { InMemoryZones } from './dns-zones.ts'
import { activeFaults } from './fault-store.ts'
import { type Fault, hasFault } from './faults.ts'
import { type SimDb, simDatabase } from './sim-database.ts'
import { dnsSerial, loadSettings, resetGeneration, type SimSettings } from './sim-meta.ts'
import { dueStacks, settleStack } from './sim-stacks.ts'
import { knownTargets, prepareTargets, type SeedCluster } from './sim-targets.ts'
import { loadZones } from './sim-zones-store.ts'

/** Options of the simulated fleet (its provider and its control). */
export interface SimWorldOptions {
  /** The store; the simulated fleet's tables are in its own schema of it (see `sim-database.ts`). */
  readonly db: Kysely<Database>
  /** @default Math.random (fault rates) */
  readonly random?: () => number
  /** @default the current time */
  readonly now?: () => Date
}

/** The simulated fleet of one store, as one process sees it. */
export class SimWorld {
  /** The store: the control plane's tables (snapshots) and, through {@link db}, the sim's. */
  readonly store: Kysely<Database>
  readonly random: () => number
  readonly now: () => Date
  private zoneCache: { serial: number; zones: InMemoryZones } | undefined
  /** Target id → the inventory entry it was last prepared from (see {@link prepare}). */
  private readonly prepared = new Map<string, string>()
  /** The reset generation {@link prepared} belongs to. */
  private generation = -1

  constructor(options: SimWorldOptions) {
    this.store = options.db
    this.random = options.random ?? Math.random
    this.now = options.now ?? (() => new Date())
  }

  /** The simulated fleet's tables. */
  db(): Promise<SimDb> {
    return simDatabase(this.store)
  }

  /**
   * Makes sure the simulated fleet knows `targets` (see `prepareTargets`). A target it knows is
   * left as it is unless `refresh` is set: looking at a target changes nothing of the simulated
   * fleet, applying it (or `flotilla sim status`) takes its inventory entry as it is now. Cheap:
   * targets prepared from the same entry before in this process cost one read of the reset
   * generation. Returns how many were new to the fleet.
   */
  async prepare(
    targets: readonly Target[],
    options: { readonly refresh?: boolean; readonly clusterShapes?: ReadonlyMap<string, SeedCluster> } = {},
  ): Promise<number> {
    const db = await this.db()
    // One look at the reset generation: a reset (here or in another process) empties the fleet.
    const generation = await resetGeneration(db)
    if (generation !== this.generation) {
      this.prepared.clear()
      this.generation = generation
    }
    const keys = new Map(targets.map((t) => [t.id, entryKey(t)]))
    const stale =
      options.refresh || options.clusterShapes
        ? targets
        : targets.filter((t) => this.prepared.get(t.id) !== keys.get(t.id))
    if (stale.length === 0) return 0
    const added = await prepareTargets(db, stale, {
      refresh: options.refresh === true,
      ...(options.clusterShapes ? { clusterShapes: options.clusterShapes } : {}),
    })
    for (const target of stale) this.prepared.set(target.id, keys.get(target.id)!)
    return added
  }

  /** Forgets what this process prepared and loaded (the fleet was reset). */
  forget(): void {
    this.prepared.clear()
    this.zoneCache = undefined
  }

  /** The simulator's settings. */
  async settings(): Promise<SimSettings> {
    return loadSettings(await this.db())
  }

  /** Active faults (expired ones are dropped). */
  async faults(): Promise<Fault[]> {
    return activeFaults(await this.db(), this.now())
  }

  /** Every zone and record, as the DNS server serves them (reloaded when the DNS serial moved). */
  async zones(): Promise<InMemoryZones> {
    const db = await this.db()
    const serial = await dnsSerial(db)
    if (this.zoneCache?.serial !== serial) this.zoneCache = { serial, zones: await loadZones(db) }
    return this.zoneCache.zones
  }

  /** Carries out every stack operation whose time has come (all targets, or some). */
  async settleDue(targets?: readonly string[]): Promise<void> {
    const db = await this.db()
    const now = this.now()
    const due = await dueStacks(db, now, targets)
    if (due.length === 0) return
    const faults = await this.faults()
    const known = await knownTargets(db, [...new Set(due.map((stack) => stack.target))])
    for (const stack of due) {
      const target = known.get(stack.target)
      if (!target) continue // a stack of a target the fleet forgot settles when it is known again
      const scoped = { id: stack.target, regions: target.info.regions }
      if (hasFault(faults, scoped, 'stuck-stack', now)) continue
      const failure = faults.find(
        (f) => f.kind === 'resource-failure' && hasFault([f], scoped, 'resource-failure', now),
      )
      // settleStack claims the row: another process that settled it meanwhile wins.
      await settleStack(
        db,
        { id: stack.target, account: target.account },
        stack,
        failure ? `Resource handler returned message: "simulated failure" (fault ${failure.id})` : undefined,
        (type, logicalId) => physicalId(type, stack.stackName, logicalId),
      )
    }
  }
}

/** What of a target's inventory entry the simulated fleet keeps (its location aside). */
function entryKey(target: Target): string {
  return JSON.stringify(target, (key, value) => (key === 'at' ? undefined : value))
}

function physicalId(type: string, stackName: string, logicalId: string): string {
  const suffix = randomBytes(6).toString('hex').toUpperCase()
  if (type === 'AWS::Route53::RecordSet') return `${logicalId}-${suffix}`
  return `${stackName}-${logicalId}-${suffix}`.slice(0, 64)
}
