import type { ClusterNodes, NodePoolState, NodeState } from '../model/desired-state.ts'
import {
  type Change,
  CONTROL_PLANE_TYPE,
  NODE_POOL_TYPE,
  type PropertyChange,
  type Rotation,
} from '../model/plan.ts'

// Defined with the plan model (policies name them too); re-exported for the differ's callers.
export { CONTROL_PLANE_TYPE, NODE_POOL_TYPE } from '../model/plan.ts'

/** The address of a cluster's control plane: `<cluster>/_/ControlPlane/control-plane`. */
export const controlPlaneAddress = (cluster: string) => `${cluster}/_/ControlPlane/control-plane`
/** The address of a node pool: `<cluster>/_/NodePool/<name>`. */
export const nodePoolAddress = (cluster: string, pool: string) => `${cluster}/_/NodePool/${pool}`

/** Whether a node is what its pool now asks for: the cluster's version, one of the pool's instance types, its profile. */
export function nodeIsCurrent(node: NodeState, pool: NodePoolState, version: string): boolean {
  return (
    node.version === version &&
    pool.instanceTypes.includes(node.instanceType) &&
    node.profile === pool.profile
  )
}

/** Whether a pool runs the cluster's own services (kube-system's), rotated before the others. */
export function isSystemPool(pool: Pick<NodePoolState, 'name' | 'profile'>): boolean {
  return pool.profile === 'system' || pool.name.startsWith('system')
}

/** Pools in the order a cluster update rotates them: system pools first, then by name. */
export function rotationOrder<T extends Pick<NodePoolState, 'name' | 'profile'>>(pools: readonly T[]): T[] {
  return [...pools].sort(
    (a, b) => Number(isSystemPool(b)) - Number(isSystemPool(a)) || a.name.localeCompare(b.name),
  )
}

/**
 * Diffs a cluster's control plane version and node pools. A new Kubernetes version updates the
 * control plane, and every pool whose nodes run another version, instance type or profile is a
 * `rotate` of exactly those nodes (when `base` is the observed cluster) or of `min` nodes, marked
 * estimated (between revisions, where nodes are unknown). A pool only resized is an `update`; a
 * new pool a `create`, a removed one a `delete` that drains all its nodes. Without nodes on either
 * side (an account, a cluster being created or removed, a provider that reports no nodes) there
 * is nothing to diff.
 */
export function diffNodes(
  cluster: string,
  base: ClusterNodes | undefined,
  head: ClusterNodes | undefined,
): Change[] {
  if (!base || !head || base === head) return []
  const changes: Change[] = []
  if (base.kubernetesVersion !== head.kubernetesVersion) {
    changes.push({
      address: controlPlaneAddress(cluster),
      action: 'update',
      type: CONTROL_PLANE_TYPE,
      protected: false,
      properties: [property('kubernetesVersion', base.kubernetesVersion, head.kubernetesVersion)],
    })
  }
  const basePools = new Map(base.pools.map((p) => [p.name, p]))
  const headNames = new Set(head.pools.map((p) => p.name))
  for (const pool of rotationOrder(head.pools)) {
    const before = basePools.get(pool.name)
    const change = before ? changedPool(cluster, base, before, head, pool) : createdPool(cluster, pool)
    if (change) changes.push(change)
  }
  for (const pool of rotationOrder(base.pools)) {
    if (headNames.has(pool.name)) continue
    changes.push({
      address: nodePoolAddress(cluster, pool.name),
      action: 'delete',
      type: NODE_POOL_TYPE,
      protected: false,
      properties: poolProperties(pool, undefined),
      rotation: rotationOf(pool, pool.nodes, undefined),
    })
  }
  return changes
}

function createdPool(cluster: string, pool: NodePoolState): Change {
  return {
    address: nodePoolAddress(cluster, pool.name),
    action: 'create',
    type: NODE_POOL_TYPE,
    protected: false,
    properties: poolProperties(undefined, pool),
  }
}

function changedPool(
  cluster: string,
  base: ClusterNodes,
  before: NodePoolState,
  head: ClusterNodes,
  after: NodePoolState,
): Change | undefined {
  const properties: PropertyChange[] = []
  let rotates: boolean
  let outdated: readonly NodeState[] | undefined
  if (before.nodes) {
    outdated = before.nodes.filter((n) => !nodeIsCurrent(n, after, head.kubernetesVersion))
    rotates = outdated.length > 0
    const versions = [
      ...new Set(outdated.filter((n) => n.version !== head.kubernetesVersion).map((n) => n.version)),
    ].sort()
    if (outdated.some((n) => n.version !== head.kubernetesVersion))
      properties.push(property('kubernetesVersion', versions.join(', '), head.kubernetesVersion))
  } else {
    rotates =
      base.kubernetesVersion !== head.kubernetesVersion ||
      before.profile !== after.profile ||
      // Nodes run one of the old types: only a type no longer allowed forces them out.
      before.instanceTypes.some((type) => !after.instanceTypes.includes(type))
    if (base.kubernetesVersion !== head.kubernetesVersion)
      properties.push(property('kubernetesVersion', base.kubernetesVersion, head.kubernetesVersion))
  }
  properties.push(...poolProperties(before, after))
  if (!rotates && properties.length === 0) return undefined
  return {
    address: nodePoolAddress(cluster, after.name),
    action: rotates ? 'rotate' : 'update',
    type: NODE_POOL_TYPE,
    protected: false,
    properties,
    ...(rotates ? { rotation: rotationOf(before, outdated, head) } : {}),
  }
}

function rotationOf(
  pool: NodePoolState,
  nodes: readonly NodeState[] | undefined,
  head: ClusterNodes | undefined,
): Rotation {
  const budget = head?.rotation?.statefulRotationsPerMonth
  const overBudget =
    pool.stateful === true && budget !== undefined && (pool.rotationsThisMonth ?? 0) >= budget
  return {
    count: nodes ? nodes.length : pool.min,
    ...(nodes ? { nodes: nodes.map((n) => n.name).sort() } : { estimated: true }),
    ...(pool.stateful ? { stateful: true } : {}),
    ...(overBudget ? { overBudget: true } : {}),
  }
}

/** The declared settings of a pool that differ (profile, instance types, min, max). */
function poolProperties(
  before: NodePoolState | undefined,
  after: NodePoolState | undefined,
): PropertyChange[] {
  const out: PropertyChange[] = []
  for (const key of ['profile', 'instanceTypes', 'min', 'max'] as const) {
    const a = before?.[key] ?? null
    const b = after?.[key] ?? null
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(property(key, a, b))
  }
  return out
}

function property(path: string, before: unknown, after: unknown): PropertyChange {
  // Nodes are replaced, never the pool: a pool change forces nothing to be destroyed.
  return { path, before, after, forcesReplacement: false }
}
