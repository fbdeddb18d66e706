import { describe, expect, test } from 'vitest'
import type { RotationLimits } from '../model/node-rotation.ts'
import {
  type RotationAction,
  type RotationInput,
  type RotationNode,
  type RotationPod,
  rotationStep,
} from './rotation-step.ts'

const NOW = new Date('2025-06-02T12:00:00Z')
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000)

const LIMITS: RotationLimits = {
  maxSurge: 1,
  maxUnavailable: 1,
  drainTimeoutMs: 15 * 60_000,
  forcedEviction: { allowed: true, gracePeriodSeconds: 30, minPodAgeMs: 10 * 60_000, pauseMs: 60_000 },
  statefulRotationsPerMonth: 1,
}

function limits(overrides: Partial<RotationLimits> = {}): RotationLimits {
  return { ...LIMITS, ...overrides }
}

/** An outdated, ready, schedulable node unless told otherwise. */
function node(name: string, pool: string, overrides: Partial<RotationNode> = {}): RotationNode {
  return { name, pool, current: false, ready: true, cordoned: false, ...overrides }
}

/** A node the rotation cordoned `minutes` ago. */
function draining(name: string, pool: string, minutes: number): RotationNode {
  return node(name, pool, { cordoned: true, drainStartedAt: minutesAgo(minutes) })
}

function fresh(name: string, pool: string, ready = true): RotationNode {
  return node(name, pool, { current: true, ready })
}

/** An application pod created two hours ago unless told otherwise. */
function pod(key: string, onNode: string, overrides: Partial<RotationPod> = {}): RotationPod {
  return { key, node: onNode, daemon: false, createdAt: minutesAgo(120), ...overrides }
}

function step(input: Partial<RotationInput> & Pick<RotationInput, 'pools' | 'nodes'>) {
  return rotationStep({ now: NOW, limits: LIMITS, pods: [], ...input })
}

const evict = (onNode: string, key: string): RotationAction => ({ kind: 'evict', node: onNode, pod: key })
const forceEvict = (onNode: string, key: string, gracePeriodSeconds = 30): RotationAction => ({
  kind: 'force-evict',
  node: onNode,
  pod: key,
  gracePeriodSeconds,
})

describe('rotationStep: surge and cordon', () => {
  test('surges maxSurge nodes and cordons one old node while size - maxUnavailable stay available', () => {
    const result = step({
      pools: [{ name: 'w', size: 3 }],
      nodes: [node('w-c', 'w'), node('w-a', 'w'), node('w-b', 'w')],
      pods: [pod('default/app-a', 'w-a'), pod('default/app-b', 'w-b'), pod('default/app-c', 'w-c')],
    })
    expect(result).toEqual({
      actions: [
        { kind: 'launch', pool: 'w', count: 1 },
        { kind: 'cordon', node: 'w-a' },
        evict('w-a', 'default/app-a'),
      ],
      done: false,
      pool: 'w',
      progress: 'pool w: 0 of 3 nodes replaced, draining w-a',
    })
  })

  test('does not launch past maxSurge while new nodes boot, nor count booting nodes as available', () => {
    const result = step({
      pools: [{ name: 'w', size: 3 }],
      nodes: [draining('w-a', 'w', 1), node('w-b', 'w'), node('w-c', 'w'), fresh('w-new-1', 'w', false)],
      pods: [pod('default/app-a', 'w-a'), pod('default/app-b', 'w-b')],
    })
    expect(result.actions).toEqual([evict('w-a', 'default/app-a')])
  })

  test('a larger maxSurge launches more at once, but never more than the pool is short', () => {
    const nodes = [node('w-a', 'w'), node('w-b', 'w'), node('w-c', 'w')]
    expect(
      step({ limits: limits({ maxSurge: 2 }), pools: [{ name: 'w', size: 3 }], nodes }).actions[0],
    ).toEqual({ kind: 'launch', pool: 'w', count: 2 })
    expect(
      step({ limits: limits({ maxSurge: 5 }), pools: [{ name: 'w', size: 1 }], nodes: [node('w-a', 'w')] })
        .actions[0],
    ).toEqual({ kind: 'launch', pool: 'w', count: 1 })
  })

  test('cordons up to maxUnavailable old nodes at once', () => {
    const result = step({
      limits: limits({ maxUnavailable: 2 }),
      pools: [{ name: 'w', size: 4 }],
      nodes: [node('w-a', 'w'), node('w-b', 'w'), node('w-c', 'w'), node('w-d', 'w')],
      pods: ['a', 'b', 'c', 'd'].map((n) => pod(`default/app-${n}`, `w-${n}`)),
    })
    expect(result.actions.filter((a) => a.kind === 'cordon')).toEqual([
      { kind: 'cordon', node: 'w-a' },
      { kind: 'cordon', node: 'w-b' },
    ])
  })

  test('a ready new node makes room for the next cordon', () => {
    const result = step({
      pools: [{ name: 'w', size: 3 }],
      nodes: [draining('w-a', 'w', 2), node('w-b', 'w'), node('w-c', 'w'), fresh('w-new-1', 'w')],
      pods: [pod('default/app-a', 'w-a'), pod('default/app-b', 'w-b')],
    })
    // The old drained node still counts towards the surge, so nothing is launched yet.
    expect(result.actions).toEqual([
      { kind: 'cordon', node: 'w-b' },
      evict('w-a', 'default/app-a'),
      evict('w-b', 'default/app-b'),
    ])
    expect(result.progress).toBe('pool w: 0 of 3 nodes replaced, draining w-a, w-b')
  })

  test('does not cordon when the pool is already at size - maxUnavailable', () => {
    const result = step({
      pools: [{ name: 'w', size: 2 }],
      nodes: [draining('w-a', 'w', 2), node('w-b', 'w'), fresh('w-new-1', 'w', false)],
      pods: [pod('default/app-a', 'w-a')],
    })
    expect(result.actions.some((a) => a.kind === 'cordon')).toBe(false)
  })
})

describe('rotationStep: drain and remove', () => {
  test('DaemonSet pods are not evicted and a node left with only them is removed', () => {
    const result = step({
      limits: limits({ maxUnavailable: 2 }),
      pools: [{ name: 'w', size: 3 }],
      nodes: [draining('w-a', 'w', 3), draining('w-b', 'w', 3), node('w-c', 'w')],
      pods: [
        pod('kube-system/fluent-bit-a', 'w-a', { daemon: true }),
        pod('default/app-z', 'w-a'),
        pod('default/app-y', 'w-a'),
        pod('kube-system/fluent-bit-b', 'w-b', { daemon: true }),
        pod('default/app-c', 'w-c'),
      ],
    })
    expect(result.actions).toEqual([
      { kind: 'launch', pool: 'w', count: 1 },
      evict('w-a', 'default/app-y'),
      evict('w-a', 'default/app-z'),
      { kind: 'remove', node: 'w-b' },
    ])
  })

  test('a node cordoned now that runs no pods is removed in the same step', () => {
    const result = step({
      pools: [{ name: 'w', size: 2 }],
      nodes: [node('w-a', 'w'), node('w-b', 'w')],
      pods: [pod('default/app-b', 'w-b')],
    })
    expect(result.actions).toEqual([
      { kind: 'launch', pool: 'w', count: 1 },
      { kind: 'cordon', node: 'w-a' },
      { kind: 'remove', node: 'w-a' },
    ])
  })

  test('counts the replaced nodes in its progress line', () => {
    const result = step({
      pools: [{ name: 'w', size: 3 }],
      nodes: [draining('w-c', 'w', 1), fresh('w-n1', 'w'), fresh('w-n2', 'w'), fresh('w-n3', 'w')],
      pods: [pod('default/app-c', 'w-c')],
    })
    expect(result.progress).toBe('pool w: 2 of 3 nodes replaced, draining w-c')
  })
})

describe('rotationStep: a drain past drainTimeout', () => {
  const stuck = (minutes: number, pods: RotationPod[], extra: Partial<RotationInput> = {}) =>
    step({
      pools: [{ name: 'w', size: 2 }],
      // The new node still boots: w-b stays schedulable, so only w-a drains.
      nodes: [draining('w-a', 'w', minutes), node('w-b', 'w'), fresh('w-new-1', 'w', false)],
      pods: [...pods, pod('default/app-b', 'w-b')],
      ...extra,
    })
  const noForcing = limits({ forcedEviction: { ...LIMITS.forcedEviction, allowed: false } })

  test('fails, closed, where forced evictions are not allowed', () => {
    const result = stuck(16, [pod('default/db-0', 'w-a')], { limits: noForcing })
    expect(result.failure).toBe(
      'node w-a of pool w did not drain within 15m: 1 pod (default/db-0) cannot be evicted within their PodDisruptionBudgets, and forced evictions are not allowed here (nodeRotation forcedEviction.allowed); fix the budgets or the pods, then roll out again',
    )
    expect(result.done).toBe(false)
    expect(result.actions.some((a) => a.kind === 'force-evict')).toBe(false)
  })

  test('the failure names at most three of the blocking pods', () => {
    const pods = ['d', 'c', 'b', 'a'].map((n) => pod(`default/db-${n}`, 'w-a'))
    expect(stuck(16, pods, { limits: noForcing }).failure).toContain(
      '4 pods (default/db-a, default/db-b, default/db-c) cannot be evicted',
    )
  })

  test('does not fail or force within drainTimeout, nor for a node the rotation did not cordon', () => {
    const withinTimeout = stuck(15, [pod('default/db-0', 'w-a')], { limits: noForcing })
    expect(withinTimeout.failure).toBeUndefined()
    expect(withinTimeout.actions).toEqual([evict('w-a', 'default/db-0')])

    const cordonedByHand = step({
      limits: noForcing,
      pools: [{ name: 'w', size: 2 }],
      nodes: [node('w-a', 'w', { cordoned: true }), node('w-b', 'w'), fresh('w-new-1', 'w', false)],
      pods: [pod('default/db-0', 'w-a')],
    })
    expect(cordonedByHand.failure).toBeUndefined()
    expect(cordonedByHand.actions).toEqual([evict('w-a', 'default/db-0')])
  })

  test('force-evicts one pod old enough, with the grace period, where forced evictions are allowed', () => {
    const result = stuck(16, [
      pod('default/a-young', 'w-a', { createdAt: minutesAgo(5) }),
      pod('default/b-old', 'w-a', { createdAt: minutesAgo(11) }),
      pod('default/c-old', 'w-a'),
    ])
    expect(result.failure).toBeUndefined()
    expect(result.actions).toEqual([
      evict('w-a', 'default/a-young'),
      evict('w-a', 'default/b-old'),
      evict('w-a', 'default/c-old'),
      forceEvict('w-a', 'default/b-old'),
    ])
  })

  test('never force-evicts a pod younger than minPodAge', () => {
    const result = stuck(60, [pod('default/a-young', 'w-a', { createdAt: minutesAgo(9) })])
    expect(result.actions).toEqual([evict('w-a', 'default/a-young')])
  })

  test('waits `pause` after the cluster’s last forced eviction', () => {
    const pods = [pod('default/db-0', 'w-a')]
    expect(stuck(16, pods, { lastForcedEvictionAt: new Date(NOW.getTime() - 59_000) }).actions).toEqual([
      evict('w-a', 'default/db-0'),
    ])
    expect(stuck(16, pods, { lastForcedEvictionAt: new Date(NOW.getTime() - 60_000) }).actions).toEqual([
      evict('w-a', 'default/db-0'),
      forceEvict('w-a', 'default/db-0'),
    ])
  })

  test('force-evicts at most one pod per step, across nodes', () => {
    const result = step({
      limits: limits({ maxUnavailable: 2 }),
      pools: [{ name: 'w', size: 2 }],
      nodes: [draining('w-a', 'w', 20), draining('w-b', 'w', 20), fresh('w-new-1', 'w')],
      pods: [pod('default/db-0', 'w-a'), pod('default/db-1', 'w-a'), pod('default/db-2', 'w-b')],
    })
    expect(result.actions.filter((a) => a.kind === 'force-evict')).toEqual([
      forceEvict('w-a', 'default/db-0'),
    ])
  })
})

describe('rotationStep: pools', () => {
  test('rotates one pool at a time, in the order given', () => {
    const nodes = [node('sys-a', 'system'), node('w-a', 'workers')]
    const pods = [pod('kube-system/coredns', 'sys-a'), pod('default/app', 'w-a')]
    const systemFirst = step({
      pools: [
        { name: 'system', size: 1 },
        { name: 'workers', size: 1 },
      ],
      nodes,
      pods,
    })
    expect(systemFirst.pool).toBe('system')
    // size 1 - maxUnavailable 1 = 0 nodes must stay available: the only node is cordoned at once.
    expect(systemFirst.actions).toEqual([
      { kind: 'launch', pool: 'system', count: 1 },
      { kind: 'cordon', node: 'sys-a' },
      evict('sys-a', 'kube-system/coredns'),
    ])

    const workersFirst = step({
      pools: [
        { name: 'workers', size: 1 },
        { name: 'system', size: 1 },
      ],
      nodes,
      pods,
    })
    expect(workersFirst.pool).toBe('workers')
    expect(workersFirst.actions).toEqual([
      { kind: 'launch', pool: 'workers', count: 1 },
      { kind: 'cordon', node: 'w-a' },
      evict('w-a', 'default/app'),
    ])
  })

  test('moves to the next pool once a pool has only current, ready nodes', () => {
    const result = step({
      pools: [
        { name: 'system', size: 1 },
        { name: 'workers', size: 1 },
      ],
      nodes: [fresh('sys-new', 'system'), node('w-a', 'workers')],
    })
    expect(result.pool).toBe('workers')
    expect(result.actions).toEqual([
      { kind: 'launch', pool: 'workers', count: 1 },
      { kind: 'cordon', node: 'w-a' },
      { kind: 'remove', node: 'w-a' },
    ])
  })

  test('waits for new nodes of a pool to be ready before the next pool', () => {
    const result = step({
      pools: [
        { name: 'system', size: 1 },
        { name: 'workers', size: 1 },
      ],
      nodes: [fresh('sys-new', 'system', false), node('w-a', 'workers')],
    })
    expect(result).toEqual({
      actions: [],
      done: false,
      pool: 'system',
      progress: 'pool system: waiting for new nodes',
    })
  })

  test('is done when every pool has only current nodes, as many as its size', () => {
    const result = step({
      pools: [
        { name: 'system', size: 1 },
        { name: 'workers', size: 2 },
      ],
      nodes: [fresh('sys-1', 'system'), fresh('w-1', 'workers'), fresh('w-2', 'workers')],
      pods: [pod('default/app', 'w-1')],
    })
    expect(result).toEqual({ actions: [], done: true, progress: 'every node is current' })
  })

  test('is not done while a pool has fewer current nodes than its size', () => {
    const result = step({
      pools: [{ name: 'workers', size: 2 }],
      nodes: [fresh('w-1', 'workers')],
    })
    expect(result.done).toBe(false)
    expect(result.actions).toEqual([{ kind: 'launch', pool: 'workers', count: 1 }])
  })

  test('a new pool launches every node at once, without the surge limit', () => {
    const result = step({ pools: [{ name: 'batch', size: 4 }], nodes: [] })
    expect(result).toEqual({
      actions: [{ kind: 'launch', pool: 'batch', count: 4 }],
      done: false,
      pool: 'batch',
      progress: 'pool batch: launching 4 nodes',
    })
  })

  test('a removed pool (size 0) cordons and drains every node, whatever maxUnavailable', () => {
    const result = step({
      pools: [{ name: 'old', size: 0 }],
      nodes: [node('old-b', 'old'), node('old-a', 'old'), node('old-c', 'old')],
      pods: [pod('default/app-c', 'old-c')],
    })
    expect(result.actions).toEqual([
      { kind: 'cordon', node: 'old-a' },
      { kind: 'cordon', node: 'old-b' },
      { kind: 'cordon', node: 'old-c' },
      { kind: 'remove', node: 'old-a' },
      { kind: 'remove', node: 'old-b' },
      evict('old-c', 'default/app-c'),
    ])
    expect(step({ pools: [{ name: 'old', size: 0 }], nodes: [] }).done).toBe(true)
  })

  test('ignores nodes of pools it is not asked to rotate', () => {
    const result = step({
      pools: [{ name: 'workers', size: 1 }],
      nodes: [fresh('w-1', 'workers'), node('skipped-1', 'stateful')],
    })
    expect(result.done).toBe(true)
  })
})

describe('rotationStep: nodes that are not ready', () => {
  test('a NotReady old node does not count toward what the pool keeps available', () => {
    const result = step({
      pools: [{ name: 'w', size: 3 }],
      nodes: [node('w-a', 'w'), node('w-b', 'w', { ready: false }), node('w-c', 'w')],
      pods: [pod('d/x', 'w-a')],
    })
    // Cordoning w-a would leave only w-c ready and schedulable, below size - maxUnavailable (2).
    expect(result.actions).toEqual([{ kind: 'launch', pool: 'w', count: 1 }])
  })
})
