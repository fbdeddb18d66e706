/**
 * The simulated clusters' node pools and their updates. A cluster's control plane version and
 * pools live in its `sim_targets` entry; its Nodes and Pods in `sim_cluster_objects`, as the
 * Kubernetes-compatible API serves them. Applying a new version or pool shape upgrades the
 * control plane at once and starts a rotation; each look at the cluster (`settled`) runs the
 * rotation's next steps ({@link rotationStep}) until every node is current: new nodes are
 * launched (they register after a boot delay), old ones cordoned, drained by evictions that
 * honour PodDisruptionBudgets exactly as the API's eviction subresource does, and removed — the
 * cluster's controllers reschedule the evicted pods in between.
 */
import type { ClusterNodes, NodePoolState, NodeState } from '../../../core/model/desired-state.ts'
import { nodeRotationSchema, type RotationLimits, rotationLimits } from '../../../core/model/node-rotation.ts'
import { isSystemPool, nodeIsCurrent, nodePoolAddress, rotationOrder } from '../../../core/plan/diff-nodes.ts'
import type { ProviderEvent, UnsettledItem } from '../../../core/provider/port.ts'
import {
  type RotationAction,
  type RotationNode,
  type RotationPod,
  rotationStep,
} from '../../../core/rotation/rotation-step.ts'
import type { SimDb } from '../sim-database.ts'
import { deleteObjects, insertClusterObjects, type StoredObject, updateObject } from './cluster-objects.ts'
import { budgetOf, ClusterView, controllerOf } from './cluster-view.ts'
import { nodeObject, reconcileCluster, type SimClusterInfo, type SimNodePool, short } from './controllers.ts'
import { evictionRefusal } from './eviction.ts'
import { type ImageRegistry, loadImageRegistry } from './image-registry.ts'

type Json = Record<string, unknown>

/** Seconds a launched node takes to boot and register, at a latency scale of 1. */
const NODE_BOOT_SECONDS = 3
/** Steps one look at a cluster runs at most (a step waits for nothing when latency is zero). */
const STEPS_PER_LOOK = 500
const DRAIN_STARTED = 'flotilla.dev/drain-started-at'

/** A rotation in progress, as the simulated cluster keeps it. */
export interface SimRotation {
  readonly revision: string
  readonly startedAt: string
  /** Pools to rotate, in order, each with the size it keeps. */
  readonly pools: readonly { readonly name: string; readonly size: number }[]
  readonly limits: RotationLimits
  /** Nodes launched and still booting. */
  readonly launching: readonly { readonly pool: string; readonly name: string; readonly readyAt: string }[]
  readonly lastForcedEvictionAt?: string
  readonly nodesRemoved: number
  readonly forcedEvictions: number
  /** The most pods under budgets that were unavailable at once, and what their budgets allowed then. */
  readonly peakUnavailable: number
  readonly peakAllowed: number
  /** Looks at which a budget had fewer healthy pods than it needs. */
  readonly budgetViolations: number
  readonly failure?: string
  readonly finishedAt?: string
}

/** A cluster's `sim_targets` info, as far as nodes are concerned. */
export interface SimNodeInfo extends SimClusterInfo {
  readonly environment?: string
  readonly rotation?: SimRotation
  /** Rotations started, per pool (kept for the monthly budget of stateful pools). */
  readonly rotations?: readonly { readonly pool: string; readonly at: string }[]
}

/** The environment of a simulated look at clusters. */
export interface NodePoolsContext {
  readonly db: SimDb
  readonly now: Date
  readonly latencyScale: number
}

const NODE_LABEL_POOL = 'flotilla.dev/node-pool'

function nodeState(node: StoredObject): NodeState {
  const labels = ((node.object.metadata as Json | undefined)?.labels ?? {}) as Record<string, string>
  const kubelet = String(
    ((node.object.status as Json | undefined)?.nodeInfo as Json | undefined)?.kubeletVersion ?? '',
  )
  return {
    name: node.name,
    version: /^v(\d+\.\d+)/.exec(kubelet)?.[1] ?? kubelet,
    instanceType: labels['node.kubernetes.io/instance-type'] ?? '',
    profile: labels['flotilla.dev/node-profile'] ?? '',
  }
}

const poolOf = (node: StoredObject) =>
  (((node.object.metadata as Json | undefined)?.labels ?? {}) as Record<string, string>)[NODE_LABEL_POOL]

/** Pools running a StatefulSet's pods (their rotations are budgeted). */
function statefulPools(objects: readonly StoredObject[]): Set<string> {
  const poolByNode = new Map(objects.filter((o) => o.kind === 'Node').map((n) => [n.name, poolOf(n)]))
  const out = new Set<string>()
  for (const pod of objects) {
    if (pod.kind !== 'Pod' || controllerOf(pod)?.kind !== 'StatefulSet') continue
    const pool = poolByNode.get(String((pod.object.spec as Json | undefined)?.nodeName ?? ''))
    if (pool) out.add(pool)
  }
  return out
}

const monthOf = (date: Date) => date.toISOString().slice(0, 7)

function rotationsThisMonth(info: SimNodeInfo, pool: string, now: Date): number {
  return (info.rotations ?? []).filter((r) => r.pool === pool && r.at.slice(0, 7) === monthOf(now)).length
}

/** The cluster's objects after its controllers ran (nodes made on first use, pods scheduled). */
async function reconciled(
  context: NodePoolsContext,
  cluster: string,
  info: SimClusterInfo,
  images?: ImageRegistry,
) {
  const registry = images ?? (await loadImageRegistry(context.db))
  const viewOf = (objects: readonly StoredObject[]) =>
    new ClusterView(objects, context.now, context.latencyScale, registry)
  return viewOf(await reconcileCluster(context.db, cluster, info, viewOf))
}

/** What a simulated cluster reports of its control plane and node pools. */
export async function observeNodes(
  context: NodePoolsContext,
  cluster: string,
  info: SimNodeInfo,
  images: ImageRegistry,
): Promise<ClusterNodes | undefined> {
  if (info.kubernetesVersion === undefined || info.nodePools === undefined) return undefined
  const view = await reconciled(context, cluster, info, images)
  const nodes = view.ofKind('Node')
  const stateful = statefulPools(view.objects)
  return {
    kubernetesVersion: info.kubernetesVersion,
    pools: info.nodePools.map(
      (pool): NodePoolState => ({
        name: pool.name,
        profile: pool.profile,
        instanceTypes: pool.instanceTypes,
        min: pool.min,
        max: pool.max,
        nodes: nodes.filter((n) => poolOf(n) === pool.name).map(nodeState),
        ...(stateful.has(pool.name) ? { stateful: true } : {}),
        rotationsThisMonth: rotationsThisMonth(info, pool.name, context.now),
      }),
    ),
  }
}

/**
 * Applies a cluster's desired version and pools: the control plane takes the new version at once;
 * every pool with outdated nodes (or fewer than `min`) joins a rotation, except a stateful pool
 * over its monthly budget, which keeps its old shape and is reported. Returns the new info.
 */
export async function startRotation(
  context: NodePoolsContext,
  cluster: string,
  info: SimNodeInfo,
  desired: ClusterNodes,
  revision: string,
  onEvent: ((event: ProviderEvent) => void) | undefined,
): Promise<SimNodeInfo> {
  // The controllers make a new cluster's nodes on first use, so every pool has its nodes here.
  const view = await reconciled(context, cluster, info)
  const limits = desired.rotation ?? DEFAULT_LIMITS
  const nodes = view.ofKind('Node')
  const stateful = statefulPools(view.objects)
  const previous = new Map((info.nodePools ?? []).map((p) => [p.name, p]))
  const pools: SimNodePool[] = []
  const rotating: { name: string; size: number }[] = []
  const rotations = [...(info.rotations ?? [])]
  const event = (pool: string, status: string, message: string) =>
    onEvent?.({ target: cluster, address: nodePoolAddress(cluster, pool), status, message })
  for (const pool of rotationOrder(desired.pools)) {
    const members = nodes.filter((n) => poolOf(n) === pool.name)
    const outdated = members.filter((n) => !nodeIsCurrent(nodeState(n), pool, desired.kubernetesVersion))
    const used = rotationsThisMonth(info, pool.name, context.now)
    const before = previous.get(pool.name)
    if (
      outdated.length > 0 &&
      stateful.has(pool.name) &&
      used >= limits.statefulRotationsPerMonth &&
      before
    ) {
      const lagging = before.version ?? info.kubernetesVersion
      pools.push(lagging === undefined ? before : { ...before, version: lagging })
      event(
        pool.name,
        'rotation-skipped',
        `skipped: stateful pool ${pool.name} was rotated ${used} ${used === 1 ? 'time' : 'times'} in ${monthOf(context.now)}, its budget is ${limits.statefulRotationsPerMonth} (nodeRotation.statefulPools.rotationsPerMonth); its ${outdated.length} outdated ${outdated.length === 1 ? 'node stays' : 'nodes stay'} until next month`,
      )
      continue
    }
    pools.push({ ...pool, version: desired.kubernetesVersion })
    const size = Math.min(pool.max, Math.max(pool.min, members.length))
    const current = members.length - outdated.length
    if (outdated.length === 0 && current >= size) continue
    rotating.push({ name: pool.name, size })
    if (outdated.length > 0) rotations.push({ pool: pool.name, at: context.now.toISOString() })
    event(
      pool.name,
      'rotation-started',
      outdated.length > 0
        ? `rotating ${outdated.length} of ${members.length} nodes to Kubernetes ${desired.kubernetesVersion}, ${pool.instanceTypes[0]} (${isSystemPool(pool) ? 'system pool, first' : 'after the system pools'})`
        : `launching ${size - current} nodes`,
    )
  }
  // Pools no longer declared drain every node.
  const declared = new Set(desired.pools.map((p) => p.name))
  for (const name of new Set(nodes.map(poolOf))) {
    if (name === undefined || declared.has(name)) continue
    rotating.push({ name, size: 0 })
    event(name, 'rotation-started', `removing pool ${name}: draining its nodes`)
  }
  // The last rotation ends here: a new one replaces it, or there is none.
  const { rotation: _last, ...kept } = info
  return {
    ...kept,
    kubernetesVersion: desired.kubernetesVersion,
    nodePools: pools,
    rotations: rotations.filter(
      (r) => r.at.slice(0, 7) >= monthOf(new Date(context.now.getTime() - 62 * 86_400_000)),
    ),
    ...(rotating.length > 0
      ? {
          rotation: {
            revision,
            startedAt: context.now.toISOString(),
            pools: rotating,
            limits,
            launching: [],
            nodesRemoved: 0,
            forcedEvictions: 0,
            peakUnavailable: 0,
            peakAllowed: 0,
            budgetViolations: 0,
          },
        }
      : {}),
  }
}

/** The limits of a fleet that sets none (an apply whose desired nodes carry none). */
const DEFAULT_LIMITS: RotationLimits = rotationLimits(nodeRotationSchema.parse(undefined), 'development')

/** Where a cluster's rotation stands after a look. */
export interface RotationProgress {
  readonly info: SimNodeInfo
  readonly state: 'settled' | 'in-progress' | 'failed'
  readonly items: readonly UnsettledItem[]
}

/**
 * Runs a cluster's rotation as far as it can go now: steps until one has nothing to do (it waits
 * for boots, pods becoming ready, budgets) or the rotation is done or failed.
 */
export async function advanceRotation(
  context: NodePoolsContext,
  cluster: string,
  info: SimNodeInfo,
): Promise<RotationProgress> {
  let rotation = info.rotation
  if (!rotation || rotation.finishedAt) return { info, state: 'settled', items: [] }
  const address = (pool: string | undefined) => (pool ? nodePoolAddress(cluster, pool) : cluster)
  if (rotation.failure)
    return {
      info,
      state: 'failed',
      items: [{ address: address(undefined), status: 'RotationFailed', reason: rotation.failure }],
    }
  const desired = new Map((info.nodePools ?? []).map((p) => [p.name, p]))
  const images = await loadImageRegistry(context.db)
  for (let i = 0; i < STEPS_PER_LOOK; i++) {
    rotation = await registerBooted(context, cluster, info, rotation)
    const view = await reconciled(context, cluster, info, images)
    rotation = { ...rotation, ...budgetTally(view, rotation) }
    const step = rotationStep({
      now: context.now,
      limits: rotation.limits,
      pools: rotation.pools,
      nodes: [
        ...view.ofKind('Node').map((n) => rotationNode(n, desired, info)),
        ...rotation.launching.map((l) => ({
          name: l.name,
          pool: l.pool,
          current: true,
          ready: false,
          cordoned: false,
        })),
      ],
      pods: view.ofKind('Pod').map(rotationPod),
      ...(rotation.lastForcedEvictionAt
        ? { lastForcedEvictionAt: new Date(rotation.lastForcedEvictionAt) }
        : {}),
    })
    if (step.failure) {
      rotation = { ...rotation, failure: step.failure }
      return {
        info: { ...info, rotation },
        state: 'failed',
        items: [{ address: address(step.pool), status: 'RotationFailed', reason: step.failure }],
      }
    }
    if (step.done) {
      // Done once the evicted pods run again on the new nodes, not when the last node is gone.
      // (A pod whose image cannot be pulled never will: that is its workload's failure, not the rotation's.)
      const starting = view
        .ofKind('Pod')
        .filter((p) => !view.isReady(p) && view.podState(p).waiting?.reason !== 'ImagePullBackOff').length
      if (starting > 0)
        return {
          info: { ...info, rotation },
          state: 'in-progress',
          items: [
            {
              address: cluster,
              status: 'Rotating',
              reason: `every node is current; waiting for ${starting} ${starting === 1 ? 'pod' : 'pods'} to run again`,
            },
          ],
        }
      rotation = { ...rotation, finishedAt: context.now.toISOString() }
      return { info: { ...info, rotation }, state: 'settled', items: [] }
    }
    const acted = await carryOut(context, cluster, rotation, view, step.actions)
    rotation = acted.rotation
    if (!acted.changed)
      return {
        info: { ...info, rotation },
        state: 'in-progress',
        items: [{ address: address(step.pool), status: 'Rotating', reason: step.progress }],
      }
  }
  return {
    info: { ...info, rotation },
    state: 'in-progress',
    items: [{ address: cluster, status: 'Rotating', reason: 'rotation continues at the next look' }],
  }
}

function rotationNode(
  node: StoredObject,
  desired: ReadonlyMap<string, SimNodePool>,
  info: SimNodeInfo,
): RotationNode {
  const pool = desired.get(poolOf(node) ?? '')
  const annotations = ((node.object.metadata as Json | undefined)?.annotations ?? {}) as Record<
    string,
    string
  >
  const started = annotations[DRAIN_STARTED]
  return {
    name: node.name,
    pool: poolOf(node) ?? '',
    current:
      pool !== undefined &&
      nodeIsCurrent(nodeState(node), pool, pool.version ?? info.kubernetesVersion ?? ''),
    ready: true,
    cordoned: (node.object.spec as Json | undefined)?.unschedulable === true,
    ...(started ? { drainStartedAt: new Date(started) } : {}),
  }
}

function rotationPod(pod: StoredObject): RotationPod {
  return {
    key: `${pod.namespace}/${pod.name}`,
    node: String((pod.object.spec as Json | undefined)?.nodeName ?? ''),
    daemon: controllerOf(pod)?.kind === 'DaemonSet',
    createdAt: pod.createdAt,
  }
}

/** Nodes whose boot finished register with the cluster. */
async function registerBooted(
  context: NodePoolsContext,
  cluster: string,
  info: SimNodeInfo,
  rotation: SimRotation,
): Promise<SimRotation> {
  const booted = rotation.launching.filter((l) => Date.parse(l.readyAt) <= context.now.getTime())
  if (booted.length === 0) return rotation
  const pools = new Map((info.nodePools ?? []).map((p) => [p.name, p]))
  await insertClusterObjects(
    context.db,
    cluster,
    booted.flatMap((l, index) => {
      const pool = pools.get(l.pool)
      return pool
        ? [
            {
              kind: 'Node',
              namespace: undefined,
              name: l.name,
              object: nodeObject(cluster, info, pool, l.name, index + rotation.nodesRemoved),
            },
          ]
        : []
    }),
  )
  return { ...rotation, launching: rotation.launching.filter((l) => !booted.includes(l)) }
}

/** Pods under budgets unavailable now, against what the budgets allow. */
function budgetTally(view: ClusterView, rotation: SimRotation) {
  let unavailable = 0
  let allowed = 0
  let violated = false
  for (const pdb of view.ofKind('PodDisruptionBudget')) {
    const budget = budgetOf(view, pdb)
    unavailable += Math.max(0, budget.expectedPods - budget.currentHealthy)
    allowed += Math.max(0, budget.expectedPods - budget.desiredHealthy)
    if (budget.currentHealthy < budget.desiredHealthy) violated = true
  }
  return {
    peakUnavailable: Math.max(rotation.peakUnavailable, unavailable),
    peakAllowed: unavailable >= rotation.peakUnavailable ? allowed : rotation.peakAllowed,
    budgetViolations: rotation.budgetViolations + (violated ? 1 : 0),
  }
}

/** Carries out a step's actions; evictions one by one, each against the cluster as it is then. */
async function carryOut(
  context: NodePoolsContext,
  cluster: string,
  rotation: SimRotation,
  view: ClusterView,
  actions: readonly RotationAction[],
): Promise<{ rotation: SimRotation; changed: boolean }> {
  let objects = [...view.objects]
  const byAddressName = (kind: string, key: string) =>
    objects.find((o) => o.kind === kind && (kind === 'Pod' ? `${o.namespace}/${o.name}` : o.name) === key)
  let changed = false
  let next = rotation
  const bootMs = Math.round(NODE_BOOT_SECONDS * 1000 * context.latencyScale)
  for (const action of actions) {
    if (action.kind === 'launch') {
      const launched = Array.from({ length: action.count }, () => ({
        pool: action.pool,
        name: `${action.pool}-${short(`${cluster}/${action.pool}/${Date.now()}/${Math.random()}`, 5)}`,
        readyAt: new Date(context.now.getTime() + bootMs).toISOString(),
      }))
      next = { ...next, launching: [...next.launching, ...launched] }
      changed = true
    } else if (action.kind === 'cordon') {
      const node = byAddressName('Node', action.node)
      if (!node) continue
      await cordon(context, node)
      changed = true
    } else if (action.kind === 'remove') {
      const node = byAddressName('Node', action.node)
      if (!node) continue
      await deleteObjects(context.db, [node])
      objects = objects.filter((o) => o !== node)
      next = { ...next, nodesRemoved: next.nodesRemoved + 1 }
      changed = true
    } else {
      const pod = byAddressName('Pod', action.pod)
      if (!pod) continue
      if (action.kind === 'evict') {
        const current = new ClusterView(objects, view.now, context.latencyScale, view.registry)
        if (evictionRefusal(current, pod)) continue
      } else {
        next = {
          ...next,
          lastForcedEvictionAt: context.now.toISOString(),
          forcedEvictions: next.forcedEvictions + 1,
        }
      }
      await deleteObjects(context.db, [pod])
      objects = objects.filter((o) => o !== pod)
      changed = true
    }
  }
  return { rotation: next, changed }
}

/** Marks a node unschedulable, noting when its drain started. */
async function cordon(context: NodePoolsContext, node: StoredObject): Promise<void> {
  const metadata = (node.object.metadata ?? {}) as Json
  const object = {
    ...node.object,
    metadata: {
      ...metadata,
      annotations: { ...((metadata.annotations ?? {}) as Json), [DRAIN_STARTED]: context.now.toISOString() },
    },
    spec: { ...((node.object.spec ?? {}) as Json), unschedulable: true },
  }
  await updateObject(context.db, node, object, node.managedFields, { bumpGeneration: false })
}
