/**
 * The simulated fleet's extras, beside its provider: what `flotilla sim`, the server's sim API
 * and drills do to it — settings, faults, the image registry, status, zones, services, reset.
 * The provider (`sim-provider.ts`) is only the provider port.
 */
import type { Kysely } from 'kysely'
import { ConflictError } from '../../core/errors.ts'
import type { Target } from '../../core/model/fleet-model.ts'
import { countSnapshots, deleteSnapshotsOf } from '../../store/snapshots.ts'
import type { Database } from '../../store/tables.ts'
import type { InMemoryZones } from './dns-zones.ts'
import { deleteFaults, insertFault, type NewFault } from './fault-store.ts'
import type { Fault, FaultScope } from './faults.ts'
import { pushedImages, pushImages } from './kubernetes/image-registry.ts'
import { deployedClusterIds, loadObjects, objectReadiness, replaceObject } from './sim-clusters.ts'
import { clearSimTables, simTransaction } from './sim-database.ts'
import { type SimServiceState, serviceStates } from './sim-health.ts'
import { resetMeta, type SimSettings, saveSettings } from './sim-meta.ts'
import { SIM_PROVIDER } from './sim-snapshots.ts'
import { loadStacks, observedStack, setStackTemplate, stackEvent, stackStatusCounts } from './sim-stacks.ts'
import type { SeedCluster } from './sim-targets.ts'
import { targetCounts } from './sim-targets.ts'
import { SimWorld, type SimWorldOptions } from './sim-world.ts'
import { recordCounts, zoneCount } from './sim-zones-store.ts'

export type { NewFault } from './fault-store.ts'
export type { SimServiceState } from './sim-health.ts'
export type { SimSettings } from './sim-meta.ts'
export type { SeedCluster } from './sim-targets.ts'

/** `flotilla sim status`: what the simulated fleet holds. */
export interface SimStatus {
  readonly settings: SimSettings
  readonly targets: { readonly accounts: number; readonly clusters: number }
  readonly stacks: Readonly<Record<string, number>>
  readonly objects: { readonly total: number; readonly ready: number }
  readonly zones: number
  readonly records: { readonly total: number; readonly externalDns: number }
  readonly services: {
    readonly total: number
    readonly healthy: number
    readonly down: readonly string[]
    /** Services whose cluster has nothing applied yet (not counted in `total`). */
    readonly notDeployed: number
  }
  readonly faults: readonly Fault[]
  readonly snapshots: number
}

/** The simulated fleet's controls (see the module comment). */
export class SimControl {
  private readonly world: SimWorld

  /** Over a store (`{ db }`), or sharing a provider's view of it (`SimProvider#control`). */
  constructor(options: SimWorldOptions | SimWorld) {
    this.world = options instanceof SimWorld ? options : new SimWorld(options)
  }

  /** The store the simulated fleet lives in. */
  get store(): Kysely<Database> {
    return this.world.store
  }

  /**
   * Adds the inventory's targets to the simulated fleet (and refreshes what it knows of known
   * ones): accounts and clusters appear empty, as freshly vended accounts do. The provider does
   * this itself for the targets it is asked about; `sim status` and `sim serve` do it for the
   * whole inventory (so the status counts, the metrics and the endpoints know every target).
   * `clusterShapes` overrides a new cluster's version and node pools (its target's else).
   * Returns how many targets were new.
   */
  prepare(targets: readonly Target[], clusterShapes?: ReadonlyMap<string, SeedCluster>): Promise<number> {
    return this.world.prepare(targets, { refresh: true, ...(clusterShapes ? { clusterShapes } : {}) })
  }

  /** The simulator's settings. */
  settings(): Promise<SimSettings> {
    return this.world.settings()
  }

  /** Changes the simulator's settings. */
  async updateSettings(settings: Partial<SimSettings>): Promise<SimSettings> {
    return saveSettings(await this.world.db(), settings)
  }

  /** Every zone and record, as the DNS server serves them (reloaded when the DNS serial moved). */
  zones(): Promise<InMemoryZones> {
    return this.world.zones()
  }

  /** Every service of every known account and whether it answers (see `sim-health.ts`). */
  serviceStates(): Promise<SimServiceState[]> {
    return serviceStates(this.world)
  }

  /** Carries out every stack operation that is due (what a long-running simulator does on its own). */
  settle(): Promise<void> {
    return this.world.settleDue()
  }

  /** Active faults (expired ones are dropped). */
  faults(): Promise<Fault[]> {
    return this.world.faults()
  }

  /**
   * Injects a fault; `drift` happens at once and is not kept. Returns the fault, or what drifted.
   * `targets` are the inventory's: the one a `drift` fault names must be among them.
   */
  async addFault(
    fault: NewFault,
    targets: readonly Target[] = [],
  ): Promise<{ fault?: Fault; drifted?: string }> {
    if (fault.kind === 'drift') {
      const scope = fault.scope
      const target = scope.kind === 'target' ? targets.find((t) => t.id === scope.id) : undefined
      if (!target) throw new ConflictError('--kind drift needs --target ID of a target in the inventory')
      return { drifted: await this.drift(target) }
    }
    return { fault: await insertFault(await this.world.db(), fault) }
  }

  /** Clears faults: one by id, those of a scope, or all. Returns how many. */
  async clearFaults(filter: { id?: string; scope?: FaultScope } = {}): Promise<number> {
    return deleteFaults(await this.world.db(), filter)
  }

  /** Forgets the whole simulated fleet: targets, stacks, zones, objects, faults, its snapshots and applied records. */
  async reset(): Promise<void> {
    await simTransaction(this.world.store, async ({ store, sim }) => {
      await clearSimTables(sim)
      await resetMeta(sim)
      await deleteSnapshotsOf(store, SIM_PROVIDER)
      // What Flotilla last applied to the simulated targets: their drift records would be lies now.
      // (applied_states is owned by operations/applied-states.ts, which a provider may not import.)
      await store.deleteFrom('applied_states').where('provider', '=', SIM_PROVIDER).execute()
    })
    this.world.forget()
  }

  /**
   * Pushes images to the simulated registry, so simulated nodes can pull them (see
   * `kubernetes/image-registry.ts`); returns them normalized (`nginx:1.27` is
   * `docker.io/library/nginx:1.27`).
   */
  async pushImages(references: readonly string[]): Promise<string[]> {
    return pushImages(await this.world.db(), references)
  }

  /** The images pushed to the simulated registry (besides its built-in ones), sorted. */
  async pushedImages(): Promise<string[]> {
    return pushedImages(await this.world.db())
  }

  /** What the simulated fleet holds, for `flotilla sim status`. */
  async status(): Promise<SimStatus> {
    await this.world.settleDue()
    const db = await this.world.db()
    const targets = await targetCounts(db)
    const stacks = await stackStatusCounts(db)
    const objects = await objectReadiness(db, this.world.now())
    const zones = await zoneCount(db)
    const records = await recordCounts(db)
    const snapshots = await countSnapshots(this.world.store, SIM_PROVIDER)
    const faults = await this.world.faults()
    const services = await this.serviceStates()
    const deployedServices = services.filter((s) => s.deployed)
    const down = deployedServices.filter((s) => !s.healthy).map((s) => `${s.accountName}/${s.name}`)
    const total = deployedServices.length
    return {
      settings: await this.world.settings(),
      targets,
      stacks,
      objects,
      zones,
      records,
      services: { total, healthy: total - down.length, down, notDeployed: services.length - total },
      faults,
      snapshots,
    }
  }

  /** Clusters that have at least one object applied. */
  async deployedClusters(): Promise<Set<string>> {
    return deployedClusterIds(await this.world.db())
  }

  /** Changes one stack or object of a target outside Flotilla, as a console user would. */
  private async drift(target: Target): Promise<string> {
    const db = await this.world.db()
    if (target.kind === 'account') {
      const stack = (await loadStacks(db, target.id)).find((s) => observedStack(s) && !s.pending)
      if (!stack) throw new ConflictError(`${target.id} has no deployed stack to drift; apply it first`)
      await setStackTemplate(db, stack.address, {
        ...stack.template,
        Description: `${String(stack.template.Description ?? '')} (edited in the console)`.trim(),
      })
      await stackEvent(
        db,
        target.id,
        stack.address,
        stack.stackName,
        'AWS::CloudFormation::Stack',
        'UPDATE_COMPLETE',
        'changed outside Flotilla',
      )
      return stack.address
    }
    const objects = await loadObjects(db, [target.id])
    const object = objects.find((o) => o.object.kind === 'Deployment') ?? objects[0]
    if (!object) throw new ConflictError(`${target.id} has no applied object to drift; apply it first`)
    const metadata = (object.object.metadata ?? {}) as Record<string, unknown>
    const labels = { ...((metadata.labels ?? {}) as Record<string, unknown>), 'edited-by': 'kubectl' }
    await replaceObject(db, object.address, { ...object.object, metadata: { ...metadata, labels } })
    return object.address
  }
}
