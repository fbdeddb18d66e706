/**
 * The simulated fleet provider (`sim`): accounts with CloudFormation-like stacks, Route 53-like
 * zones with real DNS, clusters with Kubernetes objects and external-dns, services whose health
 * depends on resolving their names, faults on demand, and snapshots of destroyed zones — all
 * kept in the store, in the sim's own schema. It implements the same {@link Provider} port as the
 * real providers: it is a product feature (demos, drills, load tests), held to the same rules,
 * not a test fake. It prepares itself: a target it is asked about joins the simulated fleet,
 * empty, as a freshly vended account does. Its extras (faults, settings, status) are
 * {@link SimControl}'s.
 */
import type { Target } from '../../core/model/fleet-model.ts'
import type {
  ApplyReport,
  ApplyRequest,
  CallOptions,
  GateEndpoints,
  Health,
  ObservedTarget,
  Provider,
  ProviderChanges,
  ProviderEvent,
  RestoreReport,
  SettleStatus,
  SnapshotInfo,
  UnsettledItem,
} from '../../core/provider/port.ts'
import { ProviderError } from '../../core/provider/port.ts'
import { listSnapshots } from '../../store/snapshots.ts'
import { type DnsServer, startDnsServer } from './dns-server.ts'
import type { InMemoryZones } from './dns-zones.ts'
import type { NewFault } from './fault-store.ts'
import { extraLatencyMs, type Fault, type FaultScope, failCallUnderFaults, hasFault } from './faults.ts'
import { loadImageRegistry } from './kubernetes/image-registry.ts'
import {
  advanceRotation,
  type NodePoolsContext,
  observeNodes,
  startRotation,
} from './kubernetes/node-pools.ts'
import { objectReadyMs, stackOperationMs } from './latency.ts'
import { simChangesSince } from './sim-changes.ts'
import { applyObjects, loadObjects, observedManifest } from './sim-clusters.ts'
import { SimControl, type SimServiceState, type SimSettings, type SimStatus } from './sim-control.ts'
import { simTransaction } from './sim-database.ts'
import { targetHealth } from './sim-health.ts'
import { restoreZone, SIM_PROVIDER, saveZoneSnapshot } from './sim-snapshots.ts'
import {
  acceptStackOperations,
  COMPLETE_STATES,
  loadStacks,
  loadStacksOf,
  logicalIdOf,
  observedStack,
  retained,
  startOperations,
  zoneSnapshot,
} from './sim-stacks.ts'
import { type SeedCluster, targetInfo, targetInfos, writeClusterInfo } from './sim-targets.ts'
import { SimWorld, type SimWorldOptions } from './sim-world.ts'

export type { NewFault } from './fault-store.ts'
export type { SimServiceState, SimSettings, SimStatus } from './sim-control.ts'
export type { SeedCluster } from './sim-targets.ts'

/** Options of the simulated provider. */
export type SimProviderOptions = SimWorldOptions

/** Rejects with the signal's reason once it is aborted: checked between the steps of a call. */
function checkpoint(options: CallOptions | undefined): void {
  options?.signal?.throwIfAborted()
}

/** The `sim` provider. */
export class SimProvider implements Provider {
  readonly name = SIM_PROVIDER
  /** The simulated fleet's extras, over the same store and clock. */
  readonly control: SimControl
  private readonly world: SimWorld
  /** The DNS server the gates of simulated targets ask, once one asked (see {@link gateEndpoints}). */
  private dns: Promise<DnsServer> | undefined
  private served: InMemoryZones | undefined

  constructor(options: SimProviderOptions) {
    this.world = new SimWorld(options)
    this.control = new SimControl(this.world)
  }

  async observe(targets: readonly Target[], options?: CallOptions): Promise<Map<string, ObservedTarget>> {
    checkpoint(options)
    await this.world.prepare(targets)
    const db = await this.world.db()
    const ids = targets.map((t) => t.id)
    await this.world.settleDue(ids)
    checkpoint(options)
    const accounts = targets.filter((t) => t.kind === 'account').map((t) => t.id)
    const clusters = targets.filter((t) => t.kind === 'cluster').map((t) => t.id)
    const stacks = await loadStacksOf(db, accounts)
    const objects = await loadObjects(db, clusters)
    const now = this.world.now().getTime()
    const out = new Map<string, ObservedTarget>()
    for (const id of ids) out.set(id, { targetId: id, stacks: [], manifests: [], busy: [] })
    for (const stack of stacks) {
      const observed = out.get(stack.target)!
      const rendered = observedStack(stack)
      out.set(stack.target, {
        ...observed,
        stacks: rendered ? [...observed.stacks, rendered] : observed.stacks,
        busy: stack.pending ? [...observed.busy, stack.address] : observed.busy,
      })
    }
    const manifests = new Map<string, ReturnType<typeof observedManifest>[]>()
    const busy = new Map<string, string[]>()
    const faults = await this.world.faults()
    const byId = new Map(targets.map((t) => [t.id, t]))
    const stuck = (cluster: string) => {
      const target = byId.get(cluster)
      return target !== undefined && hasFault(faults, target, 'stuck-stack', new Date(now))
    }
    for (const object of objects) {
      manifests.set(object.cluster, [...(manifests.get(object.cluster) ?? []), observedManifest(object)])
      // As `settled` sees it: nothing of a cluster under a stuck-stack fault becomes ready.
      if (object.readyAt.getTime() > now || stuck(object.cluster))
        busy.set(object.cluster, [...(busy.get(object.cluster) ?? []), object.address])
    }
    for (const [cluster, list] of manifests) {
      out.set(cluster, { targetId: cluster, stacks: [], manifests: list, busy: busy.get(cluster) ?? [] })
    }
    if (clusters.length > 0) {
      const context = await this.nodePoolsContext()
      const images = await loadImageRegistry(db)
      for (const [id, info] of await targetInfos(db, clusters)) {
        checkpoint(options)
        const nodes = await observeNodes(context, id, info, images)
        if (nodes) out.set(id, { ...out.get(id)!, nodes })
      }
    }
    return out
  }

  private async nodePoolsContext(): Promise<NodePoolsContext> {
    return {
      db: await this.world.db(),
      now: this.world.now(),
      latencyScale: (await this.world.settings()).latencyScale,
    }
  }

  async apply(request: ApplyRequest): Promise<ApplyReport> {
    const { target } = request
    checkpoint(request)
    const faults = await this.world.faults()
    const now = this.world.now()
    failCallUnderFaults(faults, target, now, this.world.random)
    // The target as the applied revision has it (its services follow what is deployed).
    await this.world.prepare([target], { refresh: true })
    checkpoint(request)
    const db = await this.world.db()
    const scale = (await this.world.settings()).latencyScale
    const extra = extraLatencyMs(faults, target, now)
    const reviewed = request.plan?.changes ?? []
    if (target.kind === 'cluster') {
      const operations = await applyObjects(
        db,
        target,
        request.desired.manifests,
        reviewed,
        request.approvedDestruction,
        (kind) => new Date(now.getTime() + objectReadyMs(kind, scale) + extra),
      )
      // One line for the cluster, not one per object: a component is dozens of objects.
      const counts = ['create', 'update', 'delete']
        .map((kind) => [kind, operations.filter((op) => op.operation === kind).length] as const)
        .filter(([, n]) => n > 0)
        .map(
          ([kind, n]) => `${n} ${kind === 'create' ? 'created' : kind === 'update' ? 'updated' : 'pruned'}`,
        )
      if (counts.length > 0) {
        request.onEvent?.({
          target: target.id,
          address: target.id,
          status: 'applied',
          message: `objects ${counts.join(', ')}`,
        })
      }
      const info = (await targetInfos(db, [target.id])).get(target.id)
      if (request.desired.nodes && info?.nodePools !== undefined && info.kubernetesVersion !== undefined) {
        const next = await startRotation(
          await this.nodePoolsContext(),
          target.id,
          info,
          request.desired.nodes,
          request.revision,
          request.onEvent,
        )
        await writeClusterInfo(db, target.id, next)
      }
      return { operations, snapshots: [] }
    }

    await this.world.settleDue([target.id])
    const current = await loadStacks(db, target.id)
    const busy = current.find((stack) => stack.pending)
    if (busy) {
      throw new ProviderError(
        'busy',
        target.id,
        `stack ${busy.address} is ${busy.status} and cannot be changed until it settles`,
        busy.address,
      )
    }
    const accepted = acceptStackOperations(
      target,
      current,
      request.desired.stacks,
      reviewed,
      request.approvedDestruction,
    )
    checkpoint(request)
    const snapshots: SnapshotInfo[] = []
    await simTransaction(this.world.store, async ({ store, sim }) => {
      snapshots.length = 0 // a transaction PostgreSQL rolled back runs again (simTransaction)
      // Snapshot first, in the same transaction: a zone is never destroyed without its copy.
      for (const op of accepted) {
        // A stack moved in this apply is still stored under the address it had.
        const movedFrom = accepted.find((o) => o.operation === 'move' && o.address === op.address)?.movedFrom
        const stack = current.find((s) => s.address === (movedFrom ?? op.address))
        for (const change of op.resourceChanges) {
          if (change.type !== 'AWS::Route53::HostedZone') continue
          if (change.action !== 'delete' && change.action !== 'replace') continue
          // A retained zone outlives its resource with every record: there is nothing to copy.
          if (retained(stack, logicalIdOf(change.address), change.action)) continue
          const zoneId = stack?.resources[logicalIdOf(change.address)]?.physicalId
          if (zoneId === undefined) continue
          const content = await zoneSnapshot(sim, zoneId)
          if (content)
            snapshots.push(
              await saveZoneSnapshot(store, this.world.now(), target.id, change.address, content),
            )
        }
      }
      await startOperations(sim, target, accepted, (op) => {
        const types = op.resourceChanges.filter((c) => c.action !== 'no-op').map((c) => c.type)
        return new Date(now.getTime() + stackOperationMs(types, scale) + extra)
      })
    })
    for (const snapshot of snapshots) {
      request.onEvent?.({
        target: target.id,
        address: snapshot.address,
        status: 'snapshot-taken',
        message: `${snapshot.id}: ${snapshot.description}`,
      })
    }
    for (const op of accepted) {
      request.onEvent?.({
        target: target.id,
        address: op.address,
        status: op.operation,
        message: `${op.operation} started`,
      })
    }
    await this.world.settleDue([target.id])
    return {
      operations: accepted.map((op) => ({ address: op.address, operation: op.operation })),
      snapshots,
    }
  }

  async settled(
    target: Target,
    _onEvent?: (event: ProviderEvent) => void,
    options?: CallOptions,
  ): Promise<SettleStatus> {
    checkpoint(options)
    await this.world.prepare([target])
    const db = await this.world.db()
    await this.world.settleDue([target.id])
    checkpoint(options)
    const items: UnsettledItem[] = []
    let failed = false
    if (target.kind === 'account') {
      for (const stack of await loadStacks(db, target.id)) {
        if (stack.pending) {
          items.push({ address: stack.address, status: stack.status, reason: 'in progress' })
        } else if (!COMPLETE_STATES.has(stack.status)) {
          failed = true
          items.push({
            address: stack.address,
            status: stack.status,
            reason: stack.statusReason || 'the last operation failed',
          })
        }
      }
    } else {
      const now = this.world.now().getTime()
      const stuck = hasFault(
        await this.world.faults(),
        { id: target.id, regions: (await targetInfo(db, target)).regions },
        'stuck-stack',
        this.world.now(),
      )
      const info = (await targetInfos(db, [target.id])).get(target.id)
      if (info?.rotation && !info.rotation.finishedAt) {
        const progress = await advanceRotation(await this.nodePoolsContext(), target.id, info)
        await writeClusterInfo(db, target.id, progress.info)
        items.push(...progress.items)
        if (progress.state === 'failed') failed = true
      }
      for (const object of await loadObjects(db, [target.id])) {
        if (stuck || object.readyAt.getTime() > now) {
          items.push({
            address: object.address,
            status: 'Progressing',
            reason: `${String(object.object.kind)} is not ready yet`,
          })
        }
      }
    }
    return { state: failed ? 'failed' : items.length > 0 ? 'in-progress' : 'settled', items }
  }

  async health(target: Target, options?: CallOptions): Promise<Health> {
    const status = await this.settled(target, undefined, options)
    checkpoint(options)
    return targetHealth(this.world, target, status)
  }

  /** See `sim-changes.ts`: a few index lookups, whatever the number of targets. */
  async changedSince(
    targets: readonly Target[],
    cursor: string | undefined,
    options?: CallOptions,
  ): Promise<ProviderChanges> {
    checkpoint(options)
    return simChangesSince(this.world.store, this.world.now(), targets, cursor)
  }

  snapshots(): Promise<SnapshotInfo[]> {
    return listSnapshots(this.world.store, SIM_PROVIDER)
  }

  restore(snapshotId: string): Promise<RestoreReport> {
    return restoreZone(this.world.store, snapshotId)
  }

  /**
   * Where the gates of a simulated target look: the simulated fleet's DNS server, on a loopback
   * port, started on the first call and answering from the zones as they are at each call (a gate
   * asks right after the step it checks).
   */
  async gateEndpoints(_target: Target): Promise<GateEndpoints> {
    this.served = await this.world.zones()
    this.dns ??= startDnsServer({
      zones: { findZone: (name) => this.served?.findZone(name) },
    })
    const dns = await this.dns.catch((error: unknown) => {
      this.dns = undefined // a failed start is tried again by the next gate
      throw error
    })
    return { dnsServers: [dns.address] }
  }

  /** Stops the DNS server of the gates, if one was started. */
  async close(): Promise<void> {
    const dns = this.dns
    this.dns = undefined
    if (dns) await (await dns.catch(() => undefined))?.close()
  }

  // The extras, kept here for callers written before `SimControl`; they delegate to `control`.

  /** @deprecated the provider prepares the targets it is asked about; see {@link SimControl.prepare}. */
  seed(all: readonly Target[], clusterShapes?: ReadonlyMap<string, SeedCluster>): Promise<number> {
    return this.control.prepare(all, clusterShapes)
  }

  /** See {@link SimControl.settings}. */
  settings(): Promise<SimSettings> {
    return this.control.settings()
  }

  /** See {@link SimControl.updateSettings}. */
  updateSettings(settings: Partial<SimSettings>): Promise<SimSettings> {
    return this.control.updateSettings(settings)
  }

  /** See {@link SimControl.zones}. */
  zones(): Promise<InMemoryZones> {
    return this.control.zones()
  }

  /** See {@link SimControl.serviceStates}. */
  serviceStates(): Promise<SimServiceState[]> {
    return this.control.serviceStates()
  }

  /** See {@link SimControl.settle}. */
  settle(): Promise<void> {
    return this.control.settle()
  }

  /** See {@link SimControl.faults}. */
  faults(): Promise<Fault[]> {
    return this.control.faults()
  }

  /** See {@link SimControl.addFault}. */
  addFault(fault: NewFault, targets: readonly Target[] = []): Promise<{ fault?: Fault; drifted?: string }> {
    return this.control.addFault(fault, targets)
  }

  /** See {@link SimControl.clearFaults}. */
  clearFaults(filter: { id?: string; scope?: FaultScope } = {}): Promise<number> {
    return this.control.clearFaults(filter)
  }

  /** See {@link SimControl.reset}. */
  reset(): Promise<void> {
    return this.control.reset()
  }

  /** See {@link SimControl.pushImages}. */
  pushImages(references: readonly string[]): Promise<string[]> {
    return this.control.pushImages(references)
  }

  /** See {@link SimControl.pushedImages}. */
  pushedImages(): Promise<string[]> {
    return this.control.pushedImages()
  }

  /** See {@link SimControl.status}. */
  status(): Promise<SimStatus> {
    return this.control.status()
  }
}
