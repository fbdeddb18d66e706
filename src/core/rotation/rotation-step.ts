/**
 * The next step of a node rotation, as a pure function of what the cluster looks like now: which
 * nodes to launch, cordon, drain (by evictions, which the API server refuses while a
 * PodDisruptionBudget would be violated) and remove. A provider runs it on every look at the
 * cluster (`settled`), carries out the actions, and looks again; nothing but the cluster itself
 * (and the size each pool keeps) is remembered between steps, so a rotation interrupted by a crash
 * goes on where the cluster is.
 *
 * One pool at a time, in the order given (system pools first). Within a pool: surge up to
 * `maxSurge` new nodes; cordon old nodes while the pool keeps at least `size - maxUnavailable`
 * schedulable, ready nodes; evict the pods of cordoned nodes (DaemonSet pods stay, as with
 * `kubectl drain --ignore-daemonsets`); remove a node once only DaemonSet pods are left. A drain
 * that outlives `drainTimeout` may delete one pod past its budget per `pause`, only pods older
 * than `minPodAge`, and only when forced evictions are allowed; otherwise the rotation fails,
 * closed: a stuck drain is reported, never forced.
 */
import type { RotationLimits } from '../model/node-rotation.ts'

/** A node of a rotating cluster. */
export interface RotationNode {
  readonly name: string
  readonly pool: string
  /** Whether the node is what its pool asks for (version, instance type, profile). */
  readonly current: boolean
  /** Whether the kubelet reports Ready. */
  readonly ready: boolean
  readonly cordoned: boolean
  /** When the rotation cordoned it (its drain started); undefined when it was not the rotation. */
  readonly drainStartedAt?: Date
}

/** A pod, as far as draining is concerned. */
export interface RotationPod {
  /** `<namespace>/<name>`. */
  readonly key: string
  readonly node: string
  /** A DaemonSet's pod: not drained (it runs on every node and goes with it). */
  readonly daemon: boolean
  readonly createdAt: Date
}

/** A pool that rotates, and how many nodes it keeps. */
export interface RotationPool {
  readonly name: string
  /** Nodes the pool has once rotated: its size when the rotation started, within min and max. */
  readonly size: number
}

/** What a step looks at. */
export interface RotationInput {
  readonly now: Date
  readonly limits: RotationLimits
  /** The pools to rotate, in order (skipped pools are left out). */
  readonly pools: readonly RotationPool[]
  readonly nodes: readonly RotationNode[]
  readonly pods: readonly RotationPod[]
  /** The cluster's last forced eviction (for `forcedEviction.pause`). */
  readonly lastForcedEvictionAt?: Date
}

/** One thing to do to the cluster. */
export type RotationAction =
  | { readonly kind: 'launch'; readonly pool: string; readonly count: number }
  | { readonly kind: 'cordon'; readonly node: string }
  | { readonly kind: 'evict'; readonly node: string; readonly pod: string }
  | {
      readonly kind: 'force-evict'
      readonly node: string
      readonly pod: string
      readonly gracePeriodSeconds: number
    }
  | { readonly kind: 'remove'; readonly node: string }

/** What to do now, and where the rotation stands. */
export interface RotationStep {
  readonly actions: readonly RotationAction[]
  /** Every pool has only current nodes, as many as its size. */
  readonly done: boolean
  /** The pool being rotated. */
  readonly pool?: string
  /** One line: `pool default-worker: 3 of 10 nodes replaced, draining default-worker-1a2b3`. */
  readonly progress: string
  /** Why the rotation cannot go on (a drain that timed out where forced evictions are not allowed). */
  readonly failure?: string
}

const byName = <T extends { readonly name: string }>(a: T, b: T) => a.name.localeCompare(b.name)

/** The next step of a rotation. See the module comment. */
export function rotationStep(input: RotationInput): RotationStep {
  for (const pool of input.pools) {
    const nodes = input.nodes.filter((n) => n.pool === pool.name)
    const old = nodes.filter((n) => !n.current).sort(byName)
    const fresh = nodes.filter((n) => n.current)
    if (old.length === 0) {
      // A new or grown pool: launching is not disruptive, so no surge limit applies.
      if (fresh.length < pool.size)
        return {
          actions: [{ kind: 'launch', pool: pool.name, count: pool.size - fresh.length }],
          done: false,
          pool: pool.name,
          progress: `pool ${pool.name}: launching ${pool.size - fresh.length} nodes`,
        }
      if (fresh.some((n) => !n.ready))
        return {
          actions: [],
          done: false,
          pool: pool.name,
          progress: `pool ${pool.name}: waiting for new nodes`,
        }
      continue
    }
    return poolStep(input, pool, old, fresh)
  }
  return { actions: [], done: true, progress: 'every node is current' }
}

function poolStep(
  input: RotationInput,
  pool: RotationPool,
  old: readonly RotationNode[],
  fresh: readonly RotationNode[],
): RotationStep {
  const { limits, now } = input
  const actions: RotationAction[] = []
  const launch = Math.min(pool.size - fresh.length, pool.size + limits.maxSurge - old.length - fresh.length)
  if (launch > 0) actions.push({ kind: 'launch', pool: pool.name, count: launch })

  // Cordon while the pool keeps `size - maxUnavailable` ready, schedulable nodes.
  const readyFresh = fresh.filter((n) => n.ready).length
  const draining = old.filter((n) => n.cordoned)
  // A NotReady old node serves nothing: it does not count toward what the pool keeps available.
  let available = readyFresh + old.filter((n) => n.ready && !n.cordoned).length
  const cordonNow: RotationNode[] = []
  for (const node of old) {
    if (node.cordoned || available - 1 < pool.size - limits.maxUnavailable) continue
    cordonNow.push(node)
    available--
    actions.push({ kind: 'cordon', node: node.name })
  }

  const podsByNode = new Map<string, RotationPod[]>()
  for (const pod of input.pods) {
    if (pod.daemon) continue
    const list = podsByNode.get(pod.node) ?? []
    list.push(pod)
    podsByNode.set(pod.node, list)
  }
  let forcedThisStep = false
  let failure: string | undefined
  for (const node of [...draining, ...cordonNow]) {
    const pods = (podsByNode.get(node.name) ?? []).sort((a, b) => a.key.localeCompare(b.key))
    if (pods.length === 0) {
      actions.push({ kind: 'remove', node: node.name })
      continue
    }
    for (const pod of pods) actions.push({ kind: 'evict', node: node.name, pod: pod.key })
    const startedAt = node.drainStartedAt
    if (!startedAt || now.getTime() - startedAt.getTime() <= limits.drainTimeoutMs) continue
    const rules = limits.forcedEviction
    const minutes = Math.round(limits.drainTimeoutMs / 60_000)
    if (!rules.allowed) {
      failure ??= `node ${node.name} of pool ${pool.name} did not drain within ${minutes}m: ${pods.length} ${pods.length === 1 ? 'pod' : 'pods'} (${pods
        .slice(0, 3)
        .map((p) => p.key)
        .join(
          ', ',
        )}) cannot be evicted within their PodDisruptionBudgets, and forced evictions are not allowed here (nodeRotation forcedEviction.allowed); fix the budgets or the pods, then roll out again`
      continue
    }
    const paused =
      input.lastForcedEvictionAt && now.getTime() - input.lastForcedEvictionAt.getTime() < rules.pauseMs
    const oldEnough = pods.find((p) => now.getTime() - p.createdAt.getTime() >= rules.minPodAgeMs)
    if (!forcedThisStep && !paused && oldEnough) {
      forcedThisStep = true
      actions.push({
        kind: 'force-evict',
        node: node.name,
        pod: oldEnough.key,
        gracePeriodSeconds: rules.gracePeriodSeconds,
      })
    }
  }
  const replaced = Math.max(0, pool.size - old.length)
  const drainingNames = [...draining, ...cordonNow].map((n) => n.name)
  return {
    actions,
    done: false,
    pool: pool.name,
    progress: `pool ${pool.name}: ${Math.min(replaced, pool.size)} of ${pool.size} nodes replaced${drainingNames.length > 0 ? `, draining ${drainingNames.join(', ')}` : ''}`,
    ...(failure ? { failure } : {}),
  }
}
