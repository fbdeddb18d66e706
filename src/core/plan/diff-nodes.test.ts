import { describe, expect, test } from 'vitest'
import type { ClusterNodes, NodePoolState, NodeState } from '../model/desired-state.ts'
import type { RotationLimits } from '../model/node-rotation.ts'
import {
  CONTROL_PLANE_TYPE,
  controlPlaneAddress,
  diffNodes,
  NODE_POOL_TYPE,
  nodeIsCurrent,
  nodePoolAddress,
  rotationOrder,
} from './diff-nodes.ts'

const CLUSTER = 'kube-1'

const LIMITS: RotationLimits = {
  maxSurge: 1,
  maxUnavailable: 1,
  drainTimeoutMs: 15 * 60_000,
  forcedEviction: { allowed: true, gracePeriodSeconds: 30, minPodAgeMs: 10 * 60_000, pauseMs: 60_000 },
  statefulRotationsPerMonth: 1,
}

/** A declared pool: profile `general`, `m6i.large`, 2 to 4 nodes, unless told otherwise. */
function pool(name: string, overrides: Partial<NodePoolState> = {}): NodePoolState {
  return { name, profile: 'general', instanceTypes: ['m6i.large'], min: 2, max: 4, ...overrides }
}

function node(name: string, version: string, overrides: Partial<NodeState> = {}): NodeState {
  return { name, version, instanceType: 'm6i.large', profile: 'general', ...overrides }
}

function cluster(kubernetesVersion: string, pools: NodePoolState[], rotation?: RotationLimits): ClusterNodes {
  return { kubernetesVersion, pools, ...(rotation ? { rotation } : {}) }
}

const property = (path: string, before: unknown, after: unknown) => ({
  path,
  before,
  after,
  forcesReplacement: false,
})

describe('nodeIsCurrent', () => {
  const workers = pool('workers', { instanceTypes: ['m6i.large', 'm7i.large'] })

  test('a node with the cluster version, one of the pool’s instance types and its profile is current', () => {
    expect(nodeIsCurrent(node('n', '1.31'), workers, '1.31')).toBe(true)
    expect(nodeIsCurrent(node('n', '1.31', { instanceType: 'm7i.large' }), workers, '1.31')).toBe(true)
  })

  test('another version, instance type or profile is outdated', () => {
    expect(nodeIsCurrent(node('n', '1.30'), workers, '1.31')).toBe(false)
    expect(nodeIsCurrent(node('n', '1.31', { instanceType: 'm5.large' }), workers, '1.31')).toBe(false)
    expect(nodeIsCurrent(node('n', '1.31', { profile: 'gpu' }), workers, '1.31')).toBe(false)
  })
})

describe('rotationOrder', () => {
  test('puts system pools (profile system or a name starting with system) first, each group by name', () => {
    const ordered = rotationOrder([
      pool('workers'),
      pool('system-core'),
      pool('apps'),
      pool('batch', { profile: 'system' }),
    ])
    expect(ordered.map((p) => p.name)).toEqual(['batch', 'system-core', 'apps', 'workers'])
  })

  test('does not reorder its argument', () => {
    const pools = [pool('workers'), pool('system')]
    rotationOrder(pools)
    expect(pools.map((p) => p.name)).toEqual(['workers', 'system'])
  })
})

describe('diffNodes', () => {
  test('has nothing to diff when either side has no nodes', () => {
    const nodes = cluster('1.31', [pool('workers')])
    expect(diffNodes(CLUSTER, undefined, nodes)).toEqual([])
    expect(diffNodes(CLUSTER, nodes, undefined)).toEqual([])
    expect(diffNodes(CLUSTER, nodes, nodes)).toEqual([])
  })

  test('finds no change when the observed nodes are what the pools ask for', () => {
    const base = cluster('1.31', [pool('workers', { nodes: [node('w-1', '1.31'), node('w-2', '1.31')] })])
    expect(diffNodes(CLUSTER, base, cluster('1.31', [pool('workers')]))).toEqual([])
  })

  test('a new Kubernetes version updates the control plane', () => {
    expect(diffNodes(CLUSTER, cluster('1.30', []), cluster('1.31', []))).toEqual([
      {
        address: 'kube-1/_/ControlPlane/control-plane',
        action: 'update',
        type: CONTROL_PLANE_TYPE,
        protected: false,
        properties: [property('kubernetesVersion', '1.30', '1.31')],
      },
    ])
    expect(controlPlaneAddress(CLUSTER)).toBe('kube-1/_/ControlPlane/control-plane')
  })

  describe('against the observed cluster', () => {
    test('rotates exactly the nodes on another version', () => {
      const base = cluster('1.30', [
        pool('workers', { nodes: [node('w-3', '1.30'), node('w-1', '1.30'), node('w-2', '1.31')] }),
      ])
      const changes = diffNodes(CLUSTER, base, cluster('1.31', [pool('workers')]))
      expect(changes[1]).toEqual({
        address: 'kube-1/_/NodePool/workers',
        action: 'rotate',
        type: NODE_POOL_TYPE,
        protected: false,
        properties: [property('kubernetesVersion', '1.30', '1.31')],
        rotation: { count: 2, nodes: ['w-1', 'w-3'] },
      })
    })

    test('lists every version the outdated nodes run', () => {
      const base = cluster('1.30', [pool('workers', { nodes: [node('w-1', '1.30'), node('w-2', '1.29')] })])
      const [, workers] = diffNodes(CLUSTER, base, cluster('1.31', [pool('workers')]))
      expect(workers?.properties).toEqual([property('kubernetesVersion', '1.29, 1.30', '1.31')])
    })

    test('rotates nodes of an instance type or profile the pool no longer asks for', () => {
      const base = cluster('1.31', [
        pool('workers', {
          nodes: [
            node('w-1', '1.31'),
            node('w-2', '1.31', { instanceType: 'm7i.large' }),
            node('w-3', '1.31', { profile: 'gpu' }),
          ],
        }),
      ])
      const head = cluster('1.31', [pool('workers', { instanceTypes: ['m7i.large'] })])
      expect(diffNodes(CLUSTER, base, head)).toEqual([
        {
          address: nodePoolAddress(CLUSTER, 'workers'),
          action: 'rotate',
          type: NODE_POOL_TYPE,
          protected: false,
          properties: [property('instanceTypes', ['m6i.large'], ['m7i.large'])],
          rotation: { count: 2, nodes: ['w-1', 'w-3'] },
        },
      ])
    })

    test('a pool only resized is an update, without rotation', () => {
      const base = cluster('1.31', [pool('workers', { nodes: [node('w-1', '1.31'), node('w-2', '1.31')] })])
      expect(diffNodes(CLUSTER, base, cluster('1.31', [pool('workers', { max: 6 })]))).toEqual([
        {
          address: 'kube-1/_/NodePool/workers',
          action: 'update',
          type: NODE_POOL_TYPE,
          protected: false,
          properties: [property('max', 4, 6)],
        },
      ])
    })
  })

  describe('between revisions (nodes unknown)', () => {
    test('a new version rotates every pool by its min, estimated', () => {
      const changes = diffNodes(
        CLUSTER,
        cluster('1.30', [pool('workers', { min: 3 })]),
        cluster('1.31', [pool('workers', { min: 3 })]),
      )
      expect(changes.map((c) => c.address)).toEqual([
        'kube-1/_/ControlPlane/control-plane',
        'kube-1/_/NodePool/workers',
      ])
      expect(changes[1]).toEqual({
        address: 'kube-1/_/NodePool/workers',
        action: 'rotate',
        type: NODE_POOL_TYPE,
        protected: false,
        properties: [property('kubernetesVersion', '1.30', '1.31')],
        rotation: { count: 3, estimated: true },
      })
    })

    test('new instance types or a new profile rotate the pool, estimated', () => {
      const base = cluster('1.31', [pool('workers')])
      const types = diffNodes(
        CLUSTER,
        base,
        cluster('1.31', [pool('workers', { instanceTypes: ['c7i.xlarge'] })]),
      )
      expect(types).toEqual([
        {
          address: 'kube-1/_/NodePool/workers',
          action: 'rotate',
          type: NODE_POOL_TYPE,
          protected: false,
          properties: [property('instanceTypes', ['m6i.large'], ['c7i.xlarge'])],
          rotation: { count: 2, estimated: true },
        },
      ])
      const profile = diffNodes(CLUSTER, base, cluster('1.31', [pool('workers', { profile: 'gpu' })]))
      expect(profile.map((c) => [c.action, c.rotation])).toEqual([['rotate', { count: 2, estimated: true }]])
      expect(profile[0]?.properties).toEqual([property('profile', 'general', 'gpu')])
    })

    test('a change of min or max only is an update, without rotation', () => {
      const changes = diffNodes(
        CLUSTER,
        cluster('1.31', [pool('workers')]),
        cluster('1.31', [pool('workers', { min: 3, max: 6 })]),
      )
      expect(changes).toEqual([
        {
          address: 'kube-1/_/NodePool/workers',
          action: 'update',
          type: NODE_POOL_TYPE,
          protected: false,
          properties: [property('min', 2, 3), property('max', 4, 6)],
        },
      ])
    })
  })

  test('a new pool is a create of its settings', () => {
    const changes = diffNodes(CLUSTER, cluster('1.31', []), cluster('1.31', [pool('batch', { min: 0 })]))
    expect(changes).toEqual([
      {
        address: 'kube-1/_/NodePool/batch',
        action: 'create',
        type: NODE_POOL_TYPE,
        protected: false,
        properties: [
          property('profile', null, 'general'),
          property('instanceTypes', null, ['m6i.large']),
          property('min', null, 0),
          property('max', null, 4),
        ],
      },
    ])
  })

  test('a removed pool is a delete that drains all its nodes', () => {
    const observed = cluster('1.31', [
      pool('legacy', { nodes: [node('l-2', '1.31'), node('l-1', '1.31'), node('l-3', '1.30')] }),
    ])
    expect(diffNodes(CLUSTER, observed, cluster('1.31', []))).toEqual([
      {
        address: 'kube-1/_/NodePool/legacy',
        action: 'delete',
        type: NODE_POOL_TYPE,
        protected: false,
        properties: [
          property('profile', 'general', null),
          property('instanceTypes', ['m6i.large'], null),
          property('min', 2, null),
          property('max', 4, null),
        ],
        rotation: { count: 3, nodes: ['l-1', 'l-2', 'l-3'] },
      },
    ])
    const declared = diffNodes(CLUSTER, cluster('1.31', [pool('legacy', { min: 5 })]), cluster('1.31', []))
    expect(declared[0]?.rotation).toEqual({ count: 5, estimated: true })
  })

  test('lists the control plane first, then pools in rotation order, then removed pools', () => {
    const base = cluster('1.30', [
      pool('apps'),
      pool('system'),
      pool('old-apps'),
      pool('old-system-pool', { profile: 'system' }),
    ])
    const head = cluster('1.31', [pool('apps'), pool('system'), pool('new-pool')])
    expect(diffNodes(CLUSTER, base, head).map((c) => `${c.action} ${c.address}`)).toEqual([
      'update kube-1/_/ControlPlane/control-plane',
      'rotate kube-1/_/NodePool/system',
      'rotate kube-1/_/NodePool/apps',
      'create kube-1/_/NodePool/new-pool',
      'delete kube-1/_/NodePool/old-system-pool',
      'delete kube-1/_/NodePool/old-apps',
    ])
  })

  describe('stateful pools', () => {
    const observed = (overrides: Partial<NodePoolState>) =>
      cluster('1.30', [pool('db', { nodes: [node('db-1', '1.30')], ...overrides })])

    test('a stateful pool within its budget is marked stateful only', () => {
      const head = cluster('1.31', [pool('db')], LIMITS)
      const [, db] = diffNodes(CLUSTER, observed({ stateful: true, rotationsThisMonth: 0 }), head)
      expect(db?.rotation).toEqual({ count: 1, nodes: ['db-1'], stateful: true })
    })

    test('a stateful pool that used its monthly rotations is over budget', () => {
      const head = cluster('1.31', [pool('db')], LIMITS)
      const [, db] = diffNodes(CLUSTER, observed({ stateful: true, rotationsThisMonth: 1 }), head)
      expect(db?.rotation).toEqual({ count: 1, nodes: ['db-1'], stateful: true, overBudget: true })

      const noRotations = cluster('1.31', [pool('db')], { ...LIMITS, statefulRotationsPerMonth: 0 })
      const [, never] = diffNodes(CLUSTER, observed({ stateful: true }), noRotations)
      expect(never?.rotation?.overBudget).toBe(true)
    })

    test('neither a pool without StatefulSet pods nor a head without limits is over budget', () => {
      const head = cluster('1.31', [pool('db')], LIMITS)
      const [, stateless] = diffNodes(CLUSTER, observed({ rotationsThisMonth: 5 }), head)
      expect(stateless?.rotation).toEqual({ count: 1, nodes: ['db-1'] })

      const [, unlimited] = diffNodes(
        CLUSTER,
        observed({ stateful: true, rotationsThisMonth: 5 }),
        cluster('1.31', [pool('db')]),
      )
      expect(unlimited?.rotation).toEqual({ count: 1, nodes: ['db-1'], stateful: true })
    })
  })
})

describe('diffNodes: instance types between revisions', () => {
  test('adding or reordering instance types rotates nothing; dropping one rotates the pool', () => {
    const base = cluster('1.31', [pool('w', { instanceTypes: ['m6i.large', 'm5.large'] })])
    const added = cluster('1.31', [pool('w', { instanceTypes: ['m5.large', 'm6i.large', 'm7i.large'] })])
    const dropped = cluster('1.31', [pool('w', { instanceTypes: ['m7i.large'] })])
    expect(diffNodes(CLUSTER, base, added).map((c) => c.action)).toEqual(['update'])
    expect(diffNodes(CLUSTER, base, dropped).map((c) => c.action)).toEqual(['rotate'])
  })
})
