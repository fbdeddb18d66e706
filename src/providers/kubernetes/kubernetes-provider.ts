/**
 * The `kubernetes` provider: a cluster's objects through its API server, with the official
 * `@kubernetes/client-node`.
 *
 * - Every rendered object is applied with server-side apply, field manager `flotilla`, `force`.
 * - Every object it applies carries the label `flotilla.dev/managed-by: flotilla` and the
 *   annotations `flotilla.dev/address` and `flotilla.dev/component`: that is how it finds what it
 *   applied (by label selector over every kind the cluster serves), and nothing else in the
 *   cluster is ever touched.
 * - An object it applied that is no longer rendered is pruned only when the reviewed plan
 *   deletes it, and a protected one (a Namespace, a PVC, …) only with an approval of its
 *   address; otherwise nothing at all is changed. Namespaces are applied first and pruned last.
 * - `settled` and `health` follow Deployments, StatefulSets and DaemonSets; an image that cannot
 *   be pulled fails at once.
 *
 * - Every call takes an `AbortSignal`: its requests stop, and it rejects with the signal's reason
 *   at once.
 *
 * Not yet: snapshots (there is nothing to restore a pruned object from), moves, and the
 * rotation of nodes (cluster updates).
 */

import type { RenderedManifest } from '../../core/model/desired-state.ts'
import type { Target } from '../../core/model/fleet-model.ts'
import { manifestFingerprint } from '../../core/provider/fingerprint.ts'
import {
  type AppliedOperation,
  type ApplyReport,
  type ApplyRequest,
  type CallOptions,
  type Health,
  type ObservedTarget,
  type Provider,
  ProviderError,
  type ProviderEvent,
  type RestoreReport,
  type SettleStatus,
  type SnapshotInfo,
  type UnsettledItem,
} from '../../core/provider/port.ts'
import { SERVER_SET_METADATA } from '../../core/resource-types/kubernetes.ts'
import { untilAborted } from '../../lib/abortable.ts'
import {
  type ClusterClient,
  clusterClient,
  connectionOf,
  type KubeObject,
  type ServedKind,
} from './cluster-client.ts'
import type { KubernetesConfig } from './kubernetes-config.ts'
import { providerErrorOf } from './kubernetes-errors.ts'
import { podSelectorOf, WORKLOAD_KINDS, type WorkloadState, workloadState } from './workload-status.ts'

/** The field manager of every apply. */
export const FIELD_MANAGER = 'flotilla'

/** The label and annotations that mark an object as Flotilla's, and what it is to Flotilla. */
export const BOOKKEEPING = {
  /** Label: selects what Flotilla applied (a label value cannot hold an address). */
  managedBy: 'flotilla.dev/managed-by',
  /** Annotation: the object's Flotilla address, `<cluster>/<namespace|_>/<Kind>/<name>`. */
  address: 'flotilla.dev/address',
  /** Annotation: the component that rendered it. */
  component: 'flotilla.dev/component',
  /** Annotation, set when the rendered object named no namespace (it went to the address's). */
  impliedNamespace: 'flotilla.dev/implied-namespace',
} as const

/**
 * Kinds Flotilla never renders and that clusters hold by the thousand: not listed when looking
 * for what Flotilla applied.
 */
const NEVER_RENDERED = new Set([
  'Pod',
  'Node',
  'Event',
  'Endpoints',
  'EndpointSlice',
  'Lease',
  'ReplicaSet',
  'ControllerRevision',
])

/** An object Flotilla applied, as the cluster has it. */
interface ManagedObject {
  readonly address: string
  readonly live: KubeObject
  readonly observed: RenderedManifest
}

type Json = Record<string, unknown>
const record = (value: unknown): Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {}

/** Options of {@link KubernetesProvider}. */
export interface KubernetesProviderOptions {
  /** Builds the client of a cluster. @default {@link clusterClient} with the settings */
  readonly clientOf?: (target: Target) => ClusterClient
}

/** See the module comment. */
export class KubernetesProvider implements Provider {
  readonly name = 'kubernetes'
  private readonly config: KubernetesConfig
  private readonly clientOf: (target: Target) => ClusterClient
  /** Clients by cluster and connection (an inventory may move a cluster): each keeps its discovery cache. */
  private readonly clients = new Map<string, ClusterClient>()

  constructor(config: KubernetesConfig, options: KubernetesProviderOptions = {}) {
    this.config = config
    this.clientOf = options.clientOf ?? ((target) => clusterClient(config, target))
  }

  observe(targets: readonly Target[], options: CallOptions = {}): Promise<Map<string, ObservedTarget>> {
    return untilAborted(this.observeAll(targets, options.signal), options.signal)
  }

  apply(request: ApplyRequest): Promise<ApplyReport> {
    return untilAborted(this.applyTarget(request), request.signal)
  }

  settled(
    target: Target,
    // Kubernetes has no events of a change to report here: `settled` follows the workloads.
    _onEvent?: (event: ProviderEvent) => void,
    options: CallOptions = {},
  ): Promise<SettleStatus> {
    return untilAborted(this.settledTarget(target, options.signal), options.signal)
  }

  health(target: Target, options: CallOptions = {}): Promise<Health> {
    return untilAborted(this.healthOf(target, options.signal), options.signal)
  }

  private async observeAll(targets: readonly Target[], signal: AbortSignal | undefined) {
    const out = new Map<string, ObservedTarget>()
    for (const target of targets) {
      if (target.kind !== 'cluster') {
        out.set(target.id, { targetId: target.id, stacks: [], manifests: [], busy: [] })
        continue
      }
      signal?.throwIfAborted()
      const managed = await this.managed(target, signal)
      const workloads = await this.workloads(target, managed, signal)
      out.set(target.id, {
        targetId: target.id,
        stacks: [],
        manifests: managed.map((m) => m.observed),
        busy: workloads.filter((w) => w.state.state !== 'ready').map((w) => w.address),
      })
    }
    return out
  }

  private async applyTarget(request: ApplyRequest): Promise<ApplyReport> {
    const { target, signal } = request
    if (target.kind !== 'cluster')
      throw new ProviderError(
        'invalid',
        target.id,
        `the kubernetes provider manages clusters' objects; account ${target.id} needs the aws provider`,
      )
    const client = this.client(target)
    await refuseClusterUpdate(client, request)
    const managed = await this.managed(target, signal)
    const wanted = new Set(request.desired.manifests.map((m) => m.address))
    // Every prune is checked before anything changes: a refusal leaves the cluster as it was.
    const prune = managed.filter((m) => !wanted.has(m.address))
    for (const m of prune) {
      const change = request.plan?.changes.find((c) => c.address === m.address && c.action === 'delete')
      if (!change)
        throw new ProviderError(
          'refused',
          target.id,
          `refusing to prune ${m.address}: the reviewed plan does not delete it; plan again; nothing was changed`,
          m.address,
        )
      if (change.protected && !request.approvedDestruction.has(m.address))
        throw new ProviderError(
          'refused',
          target.id,
          `refusing to prune the protected ${change.type} ${m.address}: no approval covers it; nothing was changed`,
          m.address,
        )
    }
    const current = new Map(managed.map((m) => [m.address, m]))
    const operations: AppliedOperation[] = []
    const report = (address: string, operation: AppliedOperation['operation'], status: string) => {
      operations.push({ address, operation })
      request.onEvent?.({ target: target.id, address, status, message: `${status} (${request.revision})` })
    }
    // Namespaces first: what is applied into them needs them.
    for (const manifest of byKind(request.desired.manifests, (m) => String(m.object.kind), 'first')) {
      const existing = current.get(manifest.address)
      if (existing && manifestFingerprint(existing.observed) === manifestFingerprint(manifest)) continue
      // Force: the rendered object is Flotilla's to decide. A field another manager took over (a
      // `kubectl edit`, an operator) is drift that the reviewed plan reverts, not a conflict to
      // stop on — and the plan showed it, since it compares what is live.
      signal?.throwIfAborted()
      await client
        .apply(appliedObject(target, manifest), FIELD_MANAGER, true, signal)
        .catch((error: unknown) => {
          throw providerErrorOf(error, target.id, `cannot apply ${manifest.address}`, manifest.address)
        })
      report(manifest.address, existing ? 'update' : 'create', existing ? 'updated' : 'created')
    }
    // Namespaces last: deleting one deletes everything in it.
    for (const m of byKind(prune, (p) => String(p.live.kind), 'last')) {
      signal?.throwIfAborted()
      await client.delete(m.live, signal).catch((error: unknown) => {
        throw providerErrorOf(error, target.id, `cannot prune ${m.address}`, m.address)
      })
      report(m.address, 'delete', 'pruned')
    }
    return { operations, snapshots: [] }
  }

  private async settledTarget(target: Target, signal: AbortSignal | undefined): Promise<SettleStatus> {
    if (target.kind !== 'cluster') return { state: 'settled', items: [] }
    const workloads = await this.workloads(target, await this.managed(target, signal), signal)
    const items: UnsettledItem[] = workloads
      .filter((w) => w.state.state !== 'ready')
      .map((w) => ({ address: w.address, status: w.state.status, reason: w.state.reason }))
    const failed = workloads.some((w) => w.state.state === 'failed')
    return { state: failed ? 'failed' : items.length > 0 ? 'in-progress' : 'settled', items }
  }

  private async healthOf(target: Target, signal: AbortSignal | undefined): Promise<Health> {
    if (target.kind !== 'cluster') return { healthy: true, checks: [] }
    const workloads = await this.workloads(target, await this.managed(target, signal), signal)
    const checks = workloads.map((w) => ({
      name: w.address,
      healthy: w.state.state === 'ready',
      detail: `${w.state.status}: ${w.state.reason}`,
    }))
    if (checks.length === 0) checks.push({ name: 'workloads', healthy: true, detail: 'no workloads applied' })
    return { healthy: checks.every((c) => c.healthy), checks }
  }

  /** The kubernetes provider takes no snapshots (yet): pruning a protected kind needs an approval instead. */
  async snapshots(): Promise<SnapshotInfo[]> {
    return []
  }

  async restore(snapshotId: string): Promise<RestoreReport> {
    throw new ProviderError(
      'invalid',
      '',
      `snapshot ${snapshotId} is not the kubernetes provider's: it takes no snapshots of Kubernetes objects`,
    )
  }

  private client(target: Target): ClusterClient {
    const key = `${target.id}\u0000${connectionOf(this.config, target)}`
    let client = this.clients.get(key)
    if (!client) {
      client = this.clientOf(target)
      this.clients.set(key, client)
    }
    return client
  }

  /** What Flotilla applied to the cluster: its labelled objects of every served kind, by address. */
  private async managed(target: Target, signal: AbortSignal | undefined): Promise<ManagedObject[]> {
    const client = this.client(target)
    const fail = (doing: string) => (error: unknown) => {
      throw providerErrorOf(error, target.id, doing)
    }
    const kinds = (
      await client.kinds(signal).catch(fail(`cannot discover the kinds of ${target.id}`))
    ).filter((k) => !NEVER_RENDERED.has(k.kind))
    const lists = await Promise.all(
      kinds.map((kind) =>
        client
          .list(kind, `${BOOKKEEPING.managedBy}=${FIELD_MANAGER}`, signal)
          .catch(fail(`cannot list the ${kind.kind} objects of ${target.id}`)),
      ),
    )
    const out: ManagedObject[] = []
    for (const live of lists.flat()) {
      const annotations = record(record(live.metadata).annotations)
      const address = annotations[BOOKKEEPING.address]
      // Applied for another cluster sharing this API server: not this target's to observe or prune.
      if (typeof address !== 'string' || !address.startsWith(`${target.id}/`)) continue
      out.push({
        address,
        live,
        observed: {
          address,
          component: String(annotations[BOOKKEEPING.component] ?? ''),
          source: 'kubernetes',
          object: observedObject(live),
        },
      })
    }
    return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
  }

  /** The rollout state of every workload Flotilla applied. */
  private async workloads(
    target: Target,
    managed: readonly ManagedObject[],
    signal: AbortSignal | undefined,
  ): Promise<{ address: string; state: WorkloadState }[]> {
    const client = this.client(target)
    const isWorkload = (o: KubeObject) =>
      WORKLOAD_KINDS.some((k) => k.kind === o.kind && k.apiVersion === o.apiVersion)
    const out: { address: string; state: WorkloadState }[] = []
    for (const m of managed) {
      if (!isWorkload(m.live)) continue
      const selector = podSelectorOf(m.live)
      const namespace = record(m.live.metadata).namespace
      const pods = selector
        ? (
            await client.list(POD, selector, signal).catch((error: unknown) => {
              throw providerErrorOf(error, target.id, `cannot list the pods of ${m.address}`, m.address)
            })
          ).filter((p) => record(p.metadata).namespace === namespace)
        : []
      out.push({ address: m.address, state: workloadState(m.live, pods) })
    }
    return out
  }
}

const POD: ServedKind = { apiVersion: 'v1', kind: 'Pod' }

/** `items` with Namespaces moved to the front or the back, otherwise in their order. */
/**
 * Fails closed on a cluster update this provider cannot carry out: it applies objects, and does
 * not drive a cloud's control plane or node groups (yet). A `kubernetesVersion` other than the
 * control plane's would otherwise be "applied" without anything changing.
 */
async function refuseClusterUpdate(client: ClusterClient, request: ApplyRequest): Promise<void> {
  const wanted = request.desired.nodes?.kubernetesVersion
  if (wanted === undefined) return
  const running = await client.version(request.signal).catch((error: unknown) => {
    throw providerErrorOf(error, request.target.id, 'cannot read the control plane version')
  })
  if (running === wanted) return
  throw new ProviderError(
    'refused',
    request.target.id,
    `the inventory asks for Kubernetes ${wanted} and the control plane runs ${running}: the kubernetes provider applies objects and does not upgrade control planes or rotate node groups yet; upgrade the cluster with its cloud (for EKS: UpdateClusterVersion, then each node group), or set kubernetesVersion: "${running}"; nothing was changed`,
  )
}

function byKind<T>(items: readonly T[], kindOf: (item: T) => string, namespaces: 'first' | 'last'): T[] {
  const isNamespace = (item: T) => kindOf(item) === 'Namespace'
  const ns = items.filter(isNamespace)
  const rest = items.filter((item) => !isNamespace(item))
  return namespaces === 'first' ? [...ns, ...rest] : [...rest, ...ns]
}

/** The namespace segment of an address (`_` for a cluster-scoped object). */
function namespaceOf(target: Target, address: string): string {
  return address.slice(target.id.length + 1).split('/')[0] ?? '_'
}

/** A rendered object as it is applied: with its namespace and Flotilla's label and annotations. */
export function appliedObject(target: Target, manifest: RenderedManifest): KubeObject {
  const object = structuredClone(manifest.object) as Json
  const metadata = { ...record(object.metadata) }
  const namespace = namespaceOf(target, manifest.address)
  const implied = namespace !== '_' && metadata.namespace === undefined
  if (implied) metadata.namespace = namespace
  metadata.labels = { ...record(metadata.labels), [BOOKKEEPING.managedBy]: FIELD_MANAGER }
  metadata.annotations = {
    ...record(metadata.annotations),
    [BOOKKEEPING.address]: manifest.address,
    [BOOKKEEPING.component]: manifest.component,
    ...(implied ? { [BOOKKEEPING.impliedNamespace]: 'true' } : {}),
  }
  return { ...object, metadata }
}

/**
 * A live object as Flotilla rendered it: without status, the metadata the server writes, and
 * Flotilla's own label and annotations — so that an object applied and read back fingerprints
 * equal to the rendered one, and any other difference is drift.
 */
export function observedObject(live: KubeObject): Json {
  const { status: _status, ...object } = live
  const metadata = { ...record(live.metadata) }
  for (const field of SERVER_SET_METADATA) delete metadata[field]
  const annotations = { ...record(metadata.annotations) }
  if (annotations[BOOKKEEPING.impliedNamespace] === 'true') delete metadata.namespace
  for (const key of [BOOKKEEPING.address, BOOKKEEPING.component, BOOKKEEPING.impliedNamespace])
    delete annotations[key]
  const labels = { ...record(metadata.labels) }
  delete labels[BOOKKEEPING.managedBy]
  if (Object.keys(labels).length > 0) metadata.labels = labels
  else delete metadata.labels
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations
  else delete metadata.annotations
  return { ...object, metadata }
}
