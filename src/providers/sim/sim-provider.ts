/**
 * The simulated fleet provider (`sim`): accounts with CloudFormation-like stacks, Route 53-like
 * zones with real DNS, clusters with Kubernetes objects and external-dns, services whose health
 * depends on resolving their names, faults on demand, and snapshots of destroyed zones — all
 * kept in the store. It implements the same {@link Provider} port as the real providers: it is a
 * product feature (demos, drills, load tests), held to the same rules, not a test fake.
 */
import { randomBytes } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import { ConflictError, NotFoundError } from '../../core/errors.ts'
import type { Target } from '../../core/model/fleet-model.ts'
import type {
  ApplyReport,
  ApplyRequest,
  Health,
  HealthCheck,
  ObservedTarget,
  Provider,
  RestoreReport,
  SettleStatus,
  SnapshotInfo,
  UnsettledItem,
} from '../../core/provider/port.ts'
import { ProviderError } from '../../core/provider/port.ts'
import { listSnapshots, newSnapshotId, toSnapshotInfo } from '../../store/snapshots.ts'
import type { Database } from '../../store/tables.ts'
import { queryZones } from './dns-server.ts'
import type { InMemoryZones, RecordType } from './dns-zones.ts'
import { externalDnsOwner, externalDnsRecords } from './external-dns.ts'
import {
  extraLatencyMs,
  type Fault,
  type FaultKind,
  type FaultScope,
  failCallUnderFaults,
  hasFault,
  parseScope,
  scopeText,
} from './faults.ts'
import type { SimNodePool } from './kubernetes/controllers.ts'
import { loadImageRegistry, pushImages } from './kubernetes/image-registry.ts'
import {
  advanceRotation,
  type NodePoolsContext,
  observeNodes,
  type SimNodeInfo,
  startRotation,
} from './kubernetes/node-pools.ts'
import { objectReadyMs, stackOperationMs } from './latency.ts'
import { type SimService, serviceHealth, servicesOf } from './services.ts'
import { applyObjects, loadObjects, observedManifest } from './sim-clusters.ts'
import {
  acceptStackOperations,
  COMPLETE_STATES,
  loadStacks,
  loadStacksOf,
  logicalIdOf,
  observedStack,
  retained,
  settleStack,
  stackEvent,
  startOperations,
  toSimStack,
  type ZoneSnapshot,
  zoneSnapshot,
} from './sim-stacks.ts'
import { bumpDnsSerial, createOrAdoptZone, dnsSerial, loadZones, upsertRecord } from './sim-zones-store.ts'

/** Settings of a simulated fleet (`flotilla sim settings`). */
export interface SimSettings {
  /** Multiplies every simulated duration: 1 is the default pace, 0 settles everything at once. */
  readonly latencyScale: number
}

const DEFAULT_SETTINGS: SimSettings = { latencyScale: 1 }

/** What `seed` keeps of a target. */
interface SeededInfo {
  readonly regions: readonly string[]
  readonly environment: string
  readonly group: string
  readonly services: readonly SimService[]
  /** Clusters: what the Kubernetes-compatible API makes its nodes of. */
  readonly kubernetesVersion?: string
  readonly nodePools?: readonly SimNodePool[]
  /** Clusters: a rotation in progress and the rotations started (see node-pools.ts). */
  readonly rotation?: SimNodeInfo['rotation']
  readonly rotations?: SimNodeInfo['rotations']
}

/** What `seed` takes of a cluster besides its target: its version and node pools. */
export interface SeedCluster {
  readonly kubernetesVersion: string
  readonly nodePools: readonly SimNodePool[]
}

/** A fault as `addFault` takes it. */
export interface NewFault {
  readonly scope: FaultScope
  readonly kind: FaultKind
  readonly rate?: number
  readonly latencyMs?: number
  /** @default never */
  readonly expiresAt?: Date
}

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

/** One service of a simulated account, as {@link SimProvider.serviceStates} reports it. */
export interface SimServiceState {
  readonly account: string
  readonly accountName: string
  readonly environment: string
  readonly group: string
  readonly name: string
  readonly hostname: string
  readonly deployed: boolean
  readonly healthy: boolean
  readonly detail: string
}

/** Options of the simulated provider. */
export interface SimProviderOptions {
  readonly db: Kysely<Database>
  /** @default Math.random (fault rates) */
  readonly random?: () => number
  /** @default the current time */
  readonly now?: () => Date
}

/** The `sim` provider. */
export class SimProvider implements Provider {
  readonly name = 'sim'
  private readonly db: Kysely<Database>
  private readonly random: () => number
  private readonly now: () => Date
  private zoneCache: { serial: number; zones: InMemoryZones } | undefined

  constructor(options: SimProviderOptions) {
    this.db = options.db
    this.random = options.random ?? Math.random
    this.now = options.now ?? (() => new Date())
  }

  /**
   * Adds the inventory's targets to the simulated fleet (and refreshes what it knows of known
   * ones): accounts and clusters appear empty, as freshly vended accounts do. Returns how many
   * targets were new.
   */
  async seed(all: readonly Target[], clusterShapes?: ReadonlyMap<string, SeedCluster>): Promise<number> {
    // The simulator also stands behind targets of providers aws and kubernetes, through its
    // AWS-compatible endpoint and its Kubernetes-compatible API.
    const targets = all.filter(
      (t) => t.provider === this.name || t.provider === 'aws' || t.provider === 'kubernetes',
    )
    const knownRows = await this.db.selectFrom('sim_targets').select(['id', 'info']).execute()
    const known = new Set(knownRows.map((r) => r.id))
    const previous = new Map(knownRows.map((r) => [r.id, r.info as unknown as SeededInfo]))
    const clusters = targets.filter((t) => t.kind === 'cluster')
    const rows = targets.map((target) => {
      // A cluster is made as the inventory first describes it; from then on its version and node
      // pools change only when an apply rolls them out (a rotation), as a real cluster's do.
      const before = previous.get(target.id)
      const shape = before?.nodePools !== undefined ? before : clusterShapes?.get(target.id)
      const info: SeededInfo = {
        ...(before?.rotation ? { rotation: before.rotation } : {}),
        ...(before?.rotations ? { rotations: before.rotations } : {}),
        regions: target.regions,
        environment: target.environment,
        group: target.group,
        services: target.kind === 'account' ? servicesOf(target, clusters) : [],
        ...(target.kind === 'cluster' && shape?.kubernetesVersion !== undefined
          ? { kubernetesVersion: shape.kubernetesVersion }
          : {}),
        ...(target.kind === 'cluster' && shape?.nodePools !== undefined
          ? {
              nodePools: shape.nodePools.map(({ name, profile, instanceTypes, min, max, version }) => ({
                name,
                profile,
                instanceTypes,
                min,
                max,
                ...(version !== undefined ? { version } : {}),
              })),
            }
          : {}),
      }
      return {
        id: target.id,
        kind: target.kind,
        name: target.name,
        account: target.account,
        info: JSON.stringify(info),
      }
    })
    for (let at = 0; at < rows.length; at += 500) {
      await this.db
        .insertInto('sim_targets')
        .values(rows.slice(at, at + 500))
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            account: eb.ref('excluded.account'),
            info: eb.ref('excluded.info'),
          })),
        )
        .execute()
    }
    return targets.filter((t) => !known.has(t.id)).length
  }

  /** Adds a target applied before it was seeded (its services are set by the next `seed`). */
  private async ensureKnown(target: Target): Promise<void> {
    const info: SeededInfo = {
      regions: target.regions,
      environment: target.environment,
      group: target.group,
      services: [],
    }
    await this.db
      .insertInto('sim_targets')
      .values({
        id: target.id,
        kind: target.kind,
        name: target.name,
        account: target.account,
        info: JSON.stringify(info),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute()
  }

  /** The simulator's settings. */
  async settings(): Promise<SimSettings> {
    const row = await this.db
      .selectFrom('sim_meta')
      .select('value')
      .where('key', '=', 'settings')
      .executeTakeFirst()
    return { ...DEFAULT_SETTINGS, ...((row?.value ?? {}) as Partial<SimSettings>) }
  }

  /** Changes the simulator's settings. */
  async updateSettings(settings: Partial<SimSettings>): Promise<SimSettings> {
    const next = { ...(await this.settings()), ...settings }
    const value = JSON.stringify(next)
    await this.db
      .insertInto('sim_meta')
      .values({ key: 'settings', value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute()
    return next
  }

  async observe(targets: readonly Target[]): Promise<Map<string, ObservedTarget>> {
    const ids = targets.map((t) => t.id)
    await this.settleDue(ids)
    const accounts = targets.filter((t) => t.kind === 'account').map((t) => t.id)
    const clusters = targets.filter((t) => t.kind === 'cluster').map((t) => t.id)
    const stacks = await loadStacksOf(this.db, accounts)
    const objects = await loadObjects(this.db, clusters)
    const now = this.now().getTime()
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
    const faults = await this.faults()
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
      const images = await loadImageRegistry(this.db)
      for (const [id, info] of await this.clusterInfos(clusters)) {
        const nodes = await observeNodes(context, id, info, images)
        if (nodes) out.set(id, { ...out.get(id)!, nodes })
      }
    }
    return out
  }

  /** What seed and applies told the simulated clusters, by id. */
  private async clusterInfos(ids: readonly string[]): Promise<Map<string, SimNodeInfo>> {
    const out = new Map<string, SimNodeInfo>()
    for (let at = 0; at < ids.length; at += 500) {
      const rows = await this.db
        .selectFrom('sim_targets')
        .select(['id', 'info'])
        .where('id', 'in', ids.slice(at, at + 500))
        .execute()
      for (const row of rows) out.set(row.id, row.info as unknown as SimNodeInfo)
    }
    return out
  }

  private async writeClusterInfo(id: string, info: SimNodeInfo): Promise<void> {
    await this.db
      .updateTable('sim_targets')
      .set({ info: JSON.stringify(info) })
      .where('id', '=', id)
      .execute()
  }

  private async nodePoolsContext(): Promise<NodePoolsContext> {
    return { db: this.db, now: this.now(), latencyScale: (await this.settings()).latencyScale }
  }

  async apply(request: ApplyRequest): Promise<ApplyReport> {
    const { target } = request
    const faults = await this.faults()
    const now = this.now()
    failCallUnderFaults(faults, target, now, this.random)
    await this.ensureKnown(target)
    const scale = (await this.settings()).latencyScale
    const extra = extraLatencyMs(faults, target, now)
    const reviewed = request.plan?.changes ?? []
    if (target.kind === 'cluster') {
      const operations = await applyObjects(
        this.db,
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
      const info = (await this.clusterInfos([target.id])).get(target.id)
      if (request.desired.nodes && info?.nodePools !== undefined && info.kubernetesVersion !== undefined) {
        const next = await startRotation(
          await this.nodePoolsContext(),
          target.id,
          info,
          request.desired.nodes,
          request.revision,
          request.onEvent,
        )
        await this.writeClusterInfo(target.id, next)
      }
      return { operations, snapshots: [] }
    }

    await this.settleDue([target.id])
    const current = await loadStacks(this.db, target.id)
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
    const snapshots: SnapshotInfo[] = []
    await this.db.transaction().execute(async (trx) => {
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
          const content = await zoneSnapshot(trx, zoneId)
          if (content) snapshots.push(await this.saveSnapshot(trx, target.id, change.address, content))
        }
      }
      await startOperations(trx, target, accepted, (op) => {
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
    await this.settleDue([target.id])
    return {
      operations: accepted.map((op) => ({ address: op.address, operation: op.operation })),
      snapshots,
    }
  }

  async settled(target: Target): Promise<SettleStatus> {
    await this.settleDue([target.id])
    const items: UnsettledItem[] = []
    let failed = false
    if (target.kind === 'account') {
      for (const stack of await loadStacks(this.db, target.id)) {
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
      const now = this.now().getTime()
      const stuck = hasFault(
        await this.faults(),
        { id: target.id, regions: (await this.targetInfo(target)).regions },
        'stuck-stack',
        this.now(),
      )
      const info = (await this.clusterInfos([target.id])).get(target.id)
      if (info?.rotation && !info.rotation.finishedAt) {
        const progress = await advanceRotation(await this.nodePoolsContext(), target.id, info)
        await this.writeClusterInfo(target.id, progress.info)
        items.push(...progress.items)
        if (progress.state === 'failed') failed = true
      }
      for (const object of await loadObjects(this.db, [target.id])) {
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

  async health(target: Target): Promise<Health> {
    const status = await this.settled(target)
    const checks: HealthCheck[] = []
    const faults = await this.faults()
    const info = await this.targetInfo(target)
    const outage = faults.find(
      (f) => f.kind === 'region-outage' && f.scope.kind === 'region' && info.regions.includes(f.scope.name),
    )
    if (outage)
      checks.push({
        name: 'region',
        healthy: false,
        detail: `region ${scopeText(outage.scope).slice(7)} is down`,
      })
    for (const item of status.items) {
      checks.push({ name: item.address, healthy: false, detail: `${item.status}: ${item.reason}` })
    }
    if (target.kind === 'account') {
      const zones = await this.zones()
      for (const stack of await loadStacks(this.db, target.id)) {
        for (const [logicalId, resource] of Object.entries(stack.resources)) {
          if (resource.type !== 'AWS::Route53::HostedZone') continue
          const zone = await this.db
            .selectFrom('sim_zones')
            .select('name')
            .where('id', '=', resource.physicalId)
            .executeTakeFirst()
          const answer = zone ? queryZones(zones, zone.name, 'SOA') : undefined
          checks.push({
            name: `${stack.address}/${logicalId}`,
            healthy: answer?.rcode === 'NOERROR',
            detail: zone
              ? `zone ${zone.name} answers ${answer?.rcode}`
              : `zone ${resource.physicalId} does not exist`,
          })
        }
      }
      const deployed = await this.deployedClusters()
      for (const service of info.services) {
        if (service.cluster !== undefined && !deployed.has(service.cluster)) {
          // A service runs in its cluster: before anything is applied there it does not exist yet,
          // so a new account is judged by its stacks and zones, not by a shop nobody runs.
          checks.push({
            name: `service ${service.name}`,
            healthy: true,
            detail: `not deployed yet (cluster ${service.cluster} has nothing applied)`,
          })
          continue
        }
        // Only an outage of the service's own region takes it down, as `status` counts it.
        const regionDown = faults.some(
          (f) => f.kind === 'region-outage' && f.scope.kind === 'region' && f.scope.name === service.region,
        )
        const result = serviceHealth(service, zones, regionDown)
        checks.push({ name: `service ${service.name}`, healthy: result.healthy, detail: result.detail })
      }
    }
    if (target.kind === 'cluster' && status.items.length === 0) {
      const objects = await loadObjects(this.db, [target.id])
      const count = objects.length
      checks.push({
        name: 'objects',
        healthy: true,
        detail: count === 0 ? 'nothing applied yet' : `${count} objects ready`,
      })
      if (count > 0)
        checks.push(
          ...(await this.publishedNames(
            target,
            objects.map((o) => o.object),
          )),
        )
    } else if (status.items.length === 0 && checks.length === 0) {
      checks.push({ name: 'stacks', healthy: true, detail: 'nothing deployed yet' })
    }
    return { healthy: checks.every((c) => c.healthy), checks }
  }

  snapshots(): Promise<SnapshotInfo[]> {
    return listSnapshots(this.db, this.name)
  }

  async restore(snapshotId: string): Promise<RestoreReport> {
    const row = await this.db
      .selectFrom('snapshots')
      .selectAll()
      .where('id', '=', snapshotId)
      .executeTakeFirst()
    if (!row || row.provider !== this.name) {
      throw new NotFoundError(`snapshot ${snapshotId} does not exist; run "flotilla snapshots" to list them`)
    }
    const content = row.content as unknown as ZoneSnapshot
    let restored = 0
    await this.db.transaction().execute(async (trx) => {
      const { id } = await createOrAdoptZone(trx, content.zone.account, content.zone.name, null)
      const zone = {
        id,
        account: content.zone.account,
        name: content.zone.name,
        stack: null,
        logicalId: null,
      }
      for (const record of content.records) {
        if (record.owner === 'zone') continue // the new zone has its own SOA and NS
        await upsertRecord(trx, zone, { ...record, type: record.type as RecordType })
        restored++
      }
      // A zone restored into an account whose stack still declares it is that resource again.
      const owner = await trx
        .selectFrom('sim_stacks')
        .selectAll()
        .where('target', '=', row.target)
        .where('address', '=', row.address.slice(0, row.address.lastIndexOf('/')))
        .executeTakeFirst()
      const logicalId = logicalIdOf(row.address)
      if (owner && owner.pending === null) {
        const resources = owner.resources as Record<string, { type: string; physicalId: string }>
        const declared = ((owner.template as Record<string, unknown>).Resources ?? {}) as Record<
          string,
          unknown
        >
        const current = resources[logicalId]?.physicalId
        const currentExists =
          current !== undefined &&
          (await trx.selectFrom('sim_zones').select('id').where('id', '=', current).executeTakeFirst()) !==
            undefined
        if (logicalId in declared && !currentExists) {
          resources[logicalId] = { type: row.type, physicalId: id }
          await trx
            .updateTable('sim_zones')
            .set({ stack: owner.address, logical_id: logicalId })
            .where('id', '=', id)
            .execute()
          await trx
            .updateTable('sim_stacks')
            .set({ resources: JSON.stringify(resources) })
            .where('address', '=', owner.address)
            .execute()
        }
      }
      await trx
        .updateTable('snapshots')
        .set({ restored_at: new Date() })
        .where('id', '=', snapshotId)
        .execute()
      await stackEvent(
        trx,
        row.target,
        row.address.slice(0, row.address.lastIndexOf('/')),
        logicalId,
        row.type,
        'RESTORE_COMPLETE',
        `from snapshot ${snapshotId}`,
      )
      await bumpDnsSerial(trx)
    })
    return {
      snapshot: toSnapshotInfo(row),
      description: `zone ${content.zone.name} in account ${content.zone.account} with ${restored} record sets (besides SOA and NS)`,
    }
  }

  /** Every zone and record, as the DNS server serves them (reloaded when the DNS serial moved). */
  async zones(): Promise<InMemoryZones> {
    const serial = await dnsSerial(this.db)
    if (this.zoneCache?.serial !== serial) this.zoneCache = { serial, zones: await loadZones(this.db) }
    return this.zoneCache.zones
  }

  /**
   * Every service of every seeded account and whether it answers: its name resolves in the zones
   * as they are now and its region is up. A service whose cluster has nothing applied is not
   * deployed (and counts neither as up nor as down).
   */
  async serviceStates(): Promise<SimServiceState[]> {
    await this.settleDue()
    const serving = await this.zones()
    const faults = await this.faults()
    const deployed = await this.deployedClusters()
    const states: SimServiceState[] = []
    for (const row of await this.db
      .selectFrom('sim_targets')
      .select(['id', 'name', 'info'])
      .where('kind', '=', 'account')
      .orderBy('name')
      .execute()) {
      const info = row.info as unknown as SeededInfo
      for (const service of info.services) {
        const base = {
          account: row.id,
          accountName: row.name,
          environment: info.environment,
          group: info.group,
          name: service.name,
          hostname: service.hostname,
        }
        if (service.cluster !== undefined && !deployed.has(service.cluster)) {
          states.push({ ...base, deployed: false, healthy: false, detail: 'not deployed' })
          continue
        }
        const outage = faults.some(
          (f) => f.kind === 'region-outage' && f.scope.kind === 'region' && f.scope.name === service.region,
        )
        const health = serviceHealth(service, serving, outage)
        states.push({ ...base, deployed: true, healthy: health.healthy, detail: health.detail })
      }
    }
    return states
  }

  /**
   * Whether the names external-dns is to publish for a cluster resolve: a cluster whose ingress
   * names do not resolve serves nobody, whatever its pods say. Only where the cluster's account has
   * zones (external-dns of a cluster without any has nowhere to publish, by design).
   */
  private async publishedNames(
    cluster: Target,
    objects: readonly Readonly<Record<string, unknown>>[],
  ): Promise<HealthCheck[]> {
    const zoneCount = await this.db
      .selectFrom('sim_zones')
      .select(this.db.fn.countAll<number>().as('n'))
      .where('account', '=', cluster.account)
      .executeTakeFirstOrThrow()
    if (Number(zoneCount.n) === 0) return []
    const zones = await this.zones()
    return externalDnsRecords(cluster.id, objects)
      .filter((record) => record.type === 'A')
      .map((record) => {
        const answer = queryZones(zones, record.name)
        const healthy = answer.rcode === 'NOERROR'
        return {
          name: `name ${record.name.replace(/\.$/, '')}`,
          healthy,
          detail: healthy
            ? `resolves to ${answer.answers.join(', ')}`
            : `does not resolve (${answer.rcode}): no zone of account ${cluster.account} serves it`,
        }
      })
  }

  /** Clusters that have at least one object applied. */
  private async deployedClusters(): Promise<Set<string>> {
    const rows = await this.db.selectFrom('sim_objects').select('cluster').distinct().execute()
    return new Set(rows.map((r) => r.cluster))
  }

  /** Carries out every stack operation that is due (what a long-running simulator does on its own). */
  async settle(): Promise<void> {
    await this.settleDue()
  }

  /** Active faults (expired ones are dropped). */
  async faults(): Promise<Fault[]> {
    const now = this.now()
    const rows = await this.db
      .selectFrom('sim_faults')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute()
    return rows
      .map((row) => ({
        id: row.id,
        scope: parseScope(row.scope),
        kind: row.kind as FaultKind,
        rate: row.rate,
        latencyMs: row.latency_ms,
        expiresAt: row.expires_at,
      }))
      .filter((fault) => fault.expiresAt === null || fault.expiresAt.getTime() > now.getTime())
  }

  /** Injects a fault; `drift` happens at once and is not kept. Returns the fault, or what drifted. */
  async addFault(
    fault: NewFault,
    targets: readonly Target[] = [],
  ): Promise<{ fault?: Fault; drifted?: string }> {
    if (fault.kind === 'drift') {
      const target =
        fault.scope.kind === 'target'
          ? targets.find((t) => t.id === (fault.scope as { id: string }).id)
          : undefined
      if (!target) throw new ConflictError('--kind drift needs --target ID of a target in the inventory')
      return { drifted: await this.drift(target) }
    }
    const id = `fault-${randomBytes(4).toString('hex')}`
    const rate = fault.rate ?? 1
    const latencyMs = fault.latencyMs ?? 0
    await this.db
      .insertInto('sim_faults')
      .values({
        id,
        scope: scopeText(fault.scope),
        kind: fault.kind,
        rate,
        latency_ms: latencyMs,
        expires_at: fault.expiresAt ?? null,
      })
      .execute()
    return {
      fault: {
        id,
        scope: fault.scope,
        kind: fault.kind,
        rate,
        latencyMs,
        expiresAt: fault.expiresAt ?? null,
      },
    }
  }

  /** Clears faults: one by id, those of a scope, or all. Returns how many. */
  async clearFaults(filter: { id?: string; scope?: FaultScope } = {}): Promise<number> {
    let query = this.db.deleteFrom('sim_faults')
    if (filter.id !== undefined) query = query.where('id', '=', filter.id)
    if (filter.scope !== undefined) query = query.where('scope', '=', scopeText(filter.scope))
    const result = await query.executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  /** Forgets the whole simulated fleet: targets, stacks, zones, objects, faults, its snapshots and applied records. */
  async reset(): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const table of [
        'sim_images',
        'sim_cluster_objects',
        'sim_records',
        'sim_zones',
        'sim_stack_events',
        'sim_stacks',
        'sim_objects',
        'sim_faults',
        'sim_targets',
      ] as const) {
        await trx.deleteFrom(table).execute()
      }
      // The DNS serial only ever grows: a DNS server in another process must see the change.
      await trx.deleteFrom('sim_meta').where('key', '!=', 'dns-serial').execute()
      await bumpDnsSerial(trx)
      await trx.deleteFrom('snapshots').where('provider', '=', this.name).execute()
      await trx.deleteFrom('applied_states').where('provider', '=', this.name).execute()
    })
    this.zoneCache = undefined
  }

  /**
   * Pushes images to the simulated registry, so simulated nodes can pull them (see
   * `kubernetes/image-registry.ts`); returns them normalized (`nginx:1.27` is
   * `docker.io/library/nginx:1.27`).
   */
  async pushImages(references: readonly string[]): Promise<string[]> {
    return pushImages(this.db, references)
  }

  /** The images pushed to the simulated registry (besides its built-in ones), sorted. */
  async pushedImages(): Promise<string[]> {
    const rows = await this.db.selectFrom('sim_images').select('reference').orderBy('reference').execute()
    return rows.map((r) => r.reference)
  }

  /** What the simulated fleet holds, for `flotilla sim status`. */
  async status(): Promise<SimStatus> {
    await this.settleDue()
    const db = this.db
    const kinds = await db
      .selectFrom('sim_targets')
      .select(['kind', db.fn.countAll<number>().as('n')])
      .groupBy('kind')
      .execute()
    const stacks = await db
      .selectFrom('sim_stacks')
      .select(['status', db.fn.countAll<number>().as('n')])
      .groupBy('status')
      .orderBy('status')
      .execute()
    const now = this.now()
    const objects = await db.selectFrom('sim_objects').select(['ready_at']).execute()
    const zones = await db
      .selectFrom('sim_zones')
      .select(db.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    const records = await db.selectFrom('sim_records').select(['owner']).execute()
    const snapshots = await db
      .selectFrom('snapshots')
      .select(db.fn.countAll<number>().as('n'))
      .where('provider', '=', this.name)
      .executeTakeFirstOrThrow()
    const faults = await this.faults()
    const services = await this.serviceStates()
    const deployedServices = services.filter((s) => s.deployed)
    const down = deployedServices.filter((s) => !s.healthy).map((s) => `${s.accountName}/${s.name}`)
    const total = deployedServices.length
    const notDeployed = services.length - total
    const count = (kind: string) => Number(kinds.find((k) => k.kind === kind)?.n ?? 0)
    return {
      settings: await this.settings(),
      targets: { accounts: count('account'), clusters: count('cluster') },
      stacks: Object.fromEntries(stacks.map((s) => [s.status, Number(s.n)])),
      objects: {
        total: objects.length,
        ready: objects.filter((o) => o.ready_at.getTime() <= now.getTime()).length,
      },
      zones: Number(zones.n),
      records: {
        total: records.length,
        externalDns: records.filter((r) => r.owner.startsWith('external-dns:')).length,
      },
      services: { total, healthy: total - down.length, down, notDeployed },
      faults,
      snapshots: Number(snapshots.n),
    }
  }

  /** Changes one stack or object of a target outside Flotilla, as a console user would. */
  private async drift(target: Target): Promise<string> {
    if (target.kind === 'account') {
      const stack = (await loadStacks(this.db, target.id)).find((s) => observedStack(s) && !s.pending)
      if (!stack) throw new ConflictError(`${target.id} has no deployed stack to drift; apply it first`)
      const template = {
        ...stack.template,
        Description: `${String(stack.template.Description ?? '')} (edited in the console)`.trim(),
      }
      await this.db
        .updateTable('sim_stacks')
        .set({ template: JSON.stringify(template) })
        .where('address', '=', stack.address)
        .execute()
      await stackEvent(
        this.db,
        target.id,
        stack.address,
        stack.stackName,
        'AWS::CloudFormation::Stack',
        'UPDATE_COMPLETE',
        'changed outside Flotilla',
      )
      return stack.address
    }
    const object =
      (await loadObjects(this.db, [target.id])).find((o) => o.object.kind === 'Deployment') ??
      (await loadObjects(this.db, [target.id]))[0]
    if (!object) throw new ConflictError(`${target.id} has no applied object to drift; apply it first`)
    const metadata = (object.object.metadata ?? {}) as Record<string, unknown>
    const labels = { ...((metadata.labels ?? {}) as Record<string, unknown>), 'edited-by': 'kubectl' }
    const changed = { ...object.object, metadata: { ...metadata, labels } }
    await this.db
      .updateTable('sim_objects')
      .set({
        object: JSON.stringify(changed),
        resource_version: sql<number>`nextval('sim_resource_version')`,
      })
      .where('address', '=', object.address)
      .execute()
    return object.address
  }

  private async saveSnapshot(
    db: Kysely<Database>,
    target: string,
    address: string,
    content: ZoneSnapshot,
  ): Promise<SnapshotInfo> {
    const now = this.now()
    const id = newSnapshotId(now)
    const others = content.records.filter((r) => r.owner !== 'zone')
    const fromExternalDns = others.filter((r) => r.owner.startsWith(externalDnsOwner(''))).length
    const description = `zone ${content.zone.name} with ${others.length} record sets besides SOA and NS (${fromExternalDns} written by external-dns)`
    const row = await db
      .insertInto('snapshots')
      .values({
        id,
        target,
        address,
        type: 'AWS::Route53::HostedZone',
        content: JSON.stringify(content),
        provider: this.name,
        description,
        created_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
    return toSnapshotInfo(row)
  }

  private async targetInfo(target: Target): Promise<SeededInfo> {
    const row = await this.db
      .selectFrom('sim_targets')
      .select('info')
      .where('id', '=', target.id)
      .executeTakeFirst()
    return (
      (row?.info as unknown as SeededInfo | undefined) ?? {
        regions: target.regions,
        environment: target.environment,
        group: target.group,
        services: [],
      }
    )
  }

  /** Carries out every stack operation whose time has come (all targets, or some). */
  private async settleDue(targets?: readonly string[]): Promise<void> {
    const now = this.now()
    let query = this.db
      .selectFrom('sim_stacks')
      .innerJoin('sim_targets', 'sim_targets.id', 'sim_stacks.target')
      .selectAll('sim_stacks')
      .select(['sim_targets.account as account', 'sim_targets.info as info'])
      .where('sim_stacks.pending', 'is not', null)
      .where('sim_stacks.settles_at', '<=', now)
    if (targets !== undefined) {
      if (targets.length === 0) return
      query = query.where('sim_stacks.target', 'in', targets)
    }
    const due = await query.orderBy('sim_stacks.settles_at').orderBy('sim_stacks.address').execute()
    if (due.length === 0) return
    const faults = await this.faults()
    for (const row of due) {
      const current = toSimStack(row)
      const info = row.info as unknown as SeededInfo
      const scoped = { id: current.target, regions: info.regions }
      if (hasFault(faults, scoped, 'stuck-stack', now)) continue
      const failure = faults.find(
        (f) => f.kind === 'resource-failure' && hasFault([f], scoped, 'resource-failure', now),
      )
      // settleStack claims the row: another process that settled it meanwhile wins.
      await settleStack(
        this.db,
        { id: current.target, account: row.account },
        current,
        failure ? `Resource handler returned message: "simulated failure" (fault ${failure.id})` : undefined,
        (type, logicalId) => physicalId(type, current.stackName, logicalId),
      )
    }
  }
}

function physicalId(type: string, stackName: string, logicalId: string): string {
  const suffix = randomBytes(6).toString('hex').toUpperCase()
  if (type === 'AWS::Route53::RecordSet') return `${logicalId}-${suffix}`
  return `${stackName}-${logicalId}-${suffix}`.slice(0, 64)
}
