import { describe, expect, test } from 'vitest'
import type { Change, Rotation, TargetPlan } from '../../model/plan.ts'
import {
  CONTROL_PLANE_TYPE,
  controlPlaneAddress,
  NODE_POOL_TYPE,
  nodePoolAddress,
} from '../../plan/diff-nodes.ts'
import type { FleetState, PlanContext } from '../plan-context.ts'
import { kubernetesVersion, rotationBudget } from './cluster-updates.ts'
import { builtinRules } from './index.ts'

const emptySide: FleetState = {
  side: { kind: 'observed' },
  targets: new Map(),
  desired: new Map(),
  stageOf: new Map(),
  stages: [],
}

/** A context holding only the given clusters' changes: all these rules look at. */
function contextOf(targets: TargetPlan[]): PlanContext {
  return {
    base: emptySide,
    head: emptySide,
    limits: { maxDeletes: 10, maxShrinkPercent: 10 },
    targets,
    summary: {
      targets: targets.length,
      targetsChanged: targets.length,
      actions: { create: 0, update: 0, replace: 0, delete: 0, move: 0, rotate: 0 },
      protectedDestroyed: 0,
      byEnvironment: {},
      byCriticality: {},
      byTeam: {},
      opsTargetsChanged: 0,
      byStage: {},
      stageMoves: 0,
    },
    findings: [],
    now: new Date('2025-06-02T12:00:00Z'),
  }
}

function clusterPlan(id: string, changes: Change[]): TargetPlan {
  return {
    id,
    kind: 'cluster',
    name: id,
    team: 'platform',
    environment: 'production',
    criticality: 'tier-1',
    group: 'core',
    stage: null,
    changes,
  }
}

function versionChange(cluster: string, before: string, after: string): Change {
  return {
    address: controlPlaneAddress(cluster),
    action: 'update',
    type: CONTROL_PLANE_TYPE,
    protected: false,
    properties: [{ path: 'kubernetesVersion', before, after, forcesReplacement: false }],
  }
}

function poolRotation(cluster: string, pool: string, rotation: Rotation): Change {
  return {
    address: nodePoolAddress(cluster, pool),
    action: 'rotate',
    type: NODE_POOL_TYPE,
    protected: false,
    properties: [{ path: 'kubernetesVersion', before: '1.30', after: '1.31', forcesReplacement: false }],
    rotation,
  }
}

const versionFindings = (...changes: [cluster: string, before: string, after: string][]) =>
  kubernetesVersion.evaluate(
    contextOf(
      changes.map(([cluster, before, after]) =>
        clusterPlan(cluster, [versionChange(cluster, before, after)]),
      ),
    ),
  )

describe('kubernetes-version', () => {
  test('allows going up one minor version', () => {
    expect(versionFindings(['kube-1', '1.30', '1.31'])).toEqual([])
  })

  test('denies a downgrade', () => {
    expect(versionFindings(['kube-1', '1.31', '1.30'])).toEqual([
      {
        rule: 'kubernetes-version',
        effect: 'deny',
        message:
          'kubernetesVersion goes from 1.31 to 1.30: a control plane cannot be downgraded or change major version; keep 1.31 (1 cluster)',
        addresses: ['kube-1/_/ControlPlane/control-plane'],
      },
    ])
  })

  test('denies a change of major version, even upwards', () => {
    const [finding] = versionFindings(['kube-1', '1.31', '2.0'])
    expect(finding?.effect).toBe('deny')
    expect(finding?.message).toContain('goes from 1.31 to 2.0: a control plane cannot be downgraded')
  })

  test('denies skipping minor versions, and says where to go first', () => {
    expect(versionFindings(['kube-1', '1.29', '1.31'])).toEqual([
      {
        rule: 'kubernetes-version',
        effect: 'deny',
        message:
          'kubernetesVersion goes from 1.29 to 1.31, skipping 1 minor version: a control plane upgrades one minor version at a time; go to 1.30 first (1 cluster)',
        addresses: ['kube-1/_/ControlPlane/control-plane'],
      },
    ])
    expect(versionFindings(['kube-1', '1.28', '1.31'])[0]?.message).toContain(
      'skipping 2 minor versions: a control plane upgrades one minor version at a time; go to 1.29 first',
    )
  })

  test('reports one finding per distinct change, listing its clusters', () => {
    const findings = versionFindings(
      ['kube-1', '1.29', '1.31'],
      ['kube-2', '1.30', '1.31'],
      ['kube-3', '1.29', '1.31'],
      ['kube-4', '1.31', '1.30'],
    )
    expect(findings.map((f) => f.addresses)).toEqual([
      ['kube-1/_/ControlPlane/control-plane', 'kube-3/_/ControlPlane/control-plane'],
      ['kube-4/_/ControlPlane/control-plane'],
    ])
    expect(findings[0]?.message).toMatch(/^kubernetesVersion goes from 1\.29 to 1\.31, .* \(2 clusters\)$/)
    expect(findings[1]?.message).toMatch(/^kubernetesVersion goes from 1\.31 to 1\.30: .* \(1 cluster\)$/)
  })

  test('looks only at control planes', () => {
    const skipping: Change = {
      ...poolRotation('kube-1', 'workers', { count: 2 }),
      properties: [{ path: 'kubernetesVersion', before: '1.28', after: '1.31', forcesReplacement: false }],
    }
    expect(kubernetesVersion.evaluate(contextOf([clusterPlan('kube-1', [skipping])]))).toEqual([])
  })
})

describe('rotation-budget', () => {
  test('says nothing while no pool is over budget', () => {
    const context = contextOf([
      clusterPlan('kube-1', [
        poolRotation('kube-1', 'db', { count: 1, nodes: ['db-1'], stateful: true }),
        poolRotation('kube-1', 'workers', { count: 3, estimated: true }),
      ]),
    ])
    expect(rotationBudget.evaluate(context)).toEqual([])
  })

  test('warns about a pool over its monthly budget', () => {
    const context = contextOf([
      clusterPlan('kube-1', [
        poolRotation('kube-1', 'workers', { count: 3, nodes: ['w-1', 'w-2', 'w-3'] }),
        poolRotation('kube-1', 'db', { count: 1, nodes: ['db-1'], stateful: true, overBudget: true }),
      ]),
    ])
    expect(rotationBudget.evaluate(context)).toEqual([
      {
        rule: 'rotation-budget',
        effect: 'warn',
        message:
          '1 stateful node pool has used its rotation budget for this month (fleet.yaml nodeRotation.statefulPools.rotationsPerMonth): the rollout skips it and reports it; it is rotated next month, or raise the budget',
        addresses: ['kube-1/_/NodePool/db'],
      },
    ])
  })

  test('lists every over-budget pool of every cluster in one warning', () => {
    const overBudget: Rotation = { count: 1, stateful: true, overBudget: true }
    const context = contextOf([
      clusterPlan('kube-1', [
        versionChange('kube-1', '1.30', '1.31'),
        poolRotation('kube-1', 'db', overBudget),
      ]),
      clusterPlan('kube-2', [poolRotation('kube-2', 'kafka', overBudget)]),
    ])
    const findings = rotationBudget.evaluate(context)
    expect(findings).toHaveLength(1)
    expect(findings[0]?.effect).toBe('warn')
    expect(findings[0]?.message).toMatch(
      /^2 stateful node pools have used their rotation budget .* skips them/,
    )
    expect(findings[0]?.addresses).toEqual(['kube-1/_/NodePool/db', 'kube-2/_/NodePool/kafka'])
  })
})

test('both rules are built in', () => {
  const ids = builtinRules().rules.map((r) => r.id)
  expect(ids).toContain('kubernetes-version')
  expect(ids).toContain('rotation-budget')
})
