import { describe, expect, test } from 'vitest'
import {
  clusterIds,
  clusterState,
  clusterTarget,
  type ObjectSpec,
  planStates,
  validPlan,
} from '../../../../test/support/cluster-states.ts'
import type { Plan } from '../../model/plan.ts'
import type { FleetState } from '../plan-context.ts'

/** Twenty clusters that each run the `agent` component: a DaemonSet, its ConfigMap, its ServiceAccount. */
const CLUSTERS = clusterIds(20)
const agent = (component = 'agent'): ObjectSpec[] => [
  { component, kind: 'DaemonSet', apiVersion: 'apps/v1', name: 'agent', namespace: 'monitoring' },
  { component, kind: 'ConfigMap', name: 'agent-config', namespace: 'monitoring' },
  { component, kind: 'ServiceAccount', name: 'agent', namespace: 'monitoring' },
]
const dns: ObjectSpec = { component: 'dns', kind: 'ConfigMap', name: 'coredns', namespace: 'kube-system' }

/** A fleet state where `objectsOf(cluster, index)` gives each cluster's objects. */
function fleet(objectsOf: (index: number) => readonly ObjectSpec[]): FleetState {
  return clusterState(Object.fromEntries(CLUSTERS.map((id, i) => [id, objectsOf(i)])))
}

const base = fleet(() => [...agent(), dns])

function shrinks(head: FleetState, from: FleetState = base): Plan['findings'] {
  const plan = validPlan(planStates(from, head, { maxDeletes: 1000, maxShrinkPercent: 10 }))
  return plan.findings.filter((f) => f.rule === 'selection-shrink')
}

describe('selection-shrink counts objects, not component folders', () => {
  test('a component folder renamed with the same objects in the same clusters is no shrink', () => {
    expect(shrinks(fleet(() => [...agent('node-agent'), dns]))).toEqual([])
  })

  test('a component split in two that reach the same clusters is no shrink', () => {
    const split = (): ObjectSpec[] =>
      agent().map((o) => (o.kind === 'ConfigMap' ? { ...o, component: 'agent-config' } : o))
    expect(shrinks(fleet(() => [...split(), dns]))).toEqual([])
  })

  test('a split whose new half is selected more narrowly: its objects leave the other clusters', () => {
    // The ConfigMap moves to `agent-config`, which selects only the first 15 clusters.
    const head = fleet((i) => [
      ...agent().filter((o) => o.kind !== 'ConfigMap'),
      ...(i < 15 ? agent('agent-config').filter((o) => o.kind === 'ConfigMap') : []),
      dns,
    ])
    const [finding, ...rest] = shrinks(head)
    expect(rest).toEqual([])
    expect(finding!.effect).toBe('deny')
    expect(finding!.message).toBe(
      `component "agent" would no longer bring 1 of its objects (monitoring/ConfigMap/agent-config) to 5 of its 20 targets (25%: ${CLUSTERS.slice(15).join(', ')}), more than limits.maxShrinkPercent (10%) at once — check its selector and the fields it reads; a selector that matches nothing must never mean "delete everywhere"`,
    )
    expect(finding!.addresses).toEqual(
      CLUSTERS.slice(15).map((id) => `${id}/monitoring/ConfigMap/agent-config`),
    )
  })

  test('an object moved into a narrower component, within the limit: an approval for each cluster that loses it', () => {
    const head = fleet((i) =>
      i === 0
        ? [...agent().filter((o) => o.kind !== 'DaemonSet'), dns]
        : [...agent().map((o) => (o.kind === 'DaemonSet' ? { ...o, component: 'dns' } : o)), dns],
    )
    const [finding, ...rest] = shrinks(head)
    expect(rest).toEqual([])
    expect(finding).toEqual({
      rule: 'selection-shrink',
      effect: 'require-approval',
      message: `component "agent" would no longer bring 1 of its objects (monitoring/DaemonSet/agent) to 1 of its 20 targets (5.0%: ${CLUSTERS[0]}); each target that loses it needs an approval`,
      addresses: [`${CLUSTERS[0]}/monitoring/DaemonSet/agent`],
    })
  })

  test('a component whose select narrowed for some clusters leaves them whole', () => {
    const narrowed = (n: number) => fleet((i) => (i < n ? [dns] : [...agent(), dns]))
    const [one] = shrinks(narrowed(1))
    expect(one!.effect).toBe('require-approval')
    expect(one!.message).toBe(
      `component "agent" would no longer reach 1 of its 20 targets (5.0%: ${CLUSTERS[0]}); each target that loses it needs an approval`,
    )
    expect(one!.addresses).toHaveLength(3)
    const [three] = shrinks(narrowed(3))
    expect(three!.effect).toBe('deny')
    expect(three!.message).toMatch(/^component "agent" would no longer reach 3 of its 20 targets \(15%: /)
    expect(shrinks(narrowed(20))[0]!.message).toMatch(
      /^component "agent" would no longer reach 20 of its 20 targets \(100%/,
    )
  })

  test('a renamed folder that also selects fewer clusters: a shrink under its old name', () => {
    const head = fleet((i) => (i % 2 === 0 ? [...agent('node-agent'), dns] : [dns]))
    expect(shrinks(head).map((f) => [f.effect, f.message.slice(0, 55)])).toEqual([
      ['deny', 'component "agent" would no longer reach 10 of its 20 ta'],
    ])
  })

  test('a template that now renders an object for fewer clusters is a shrink; one removed everywhere is a deletion', () => {
    const fewer = fleet((i) => [...agent().filter((o) => i >= 2 || o.kind !== 'ServiceAccount'), dns])
    const [finding] = shrinks(fewer)
    expect(finding!.message).toMatch(
      /^component "agent" would no longer bring 1 of its objects \(monitoring\/ServiceAccount\/agent\) to 2 of its 20 targets \(10%: /,
    )
    expect(finding!.effect).toBe('require-approval')
    // Deleting a document (here, in every cluster) is shown as deletes for delete-budget and
    // protected-destroy to judge, like a resource removed from a stack's template.
    const removed = fleet(() => [...agent().filter((o) => o.kind !== 'ServiceAccount'), dns])
    expect(shrinks(removed)).toEqual([])
  })

  test('objects renamed inside a component (another namespace) do not narrow it', () => {
    const moved = fleet(() => [...agent().map((o) => ({ ...o, namespace: 'observability' })), dns])
    expect(shrinks(moved)).toEqual([])
  })

  test('several components narrowed at once: one finding each, counted against its own targets', () => {
    const head = fleet((i) => (i === 0 ? [] : [...agent(), dns]))
    expect(shrinks(head).map((f) => f.message)).toEqual([
      expect.stringMatching(/^component "agent" would no longer reach 1 of its 20 targets \(5\.0%/),
      expect.stringMatching(/^component "dns" would no longer reach 1 of its 20 targets \(5\.0%/),
    ])
  })

  test('objects nobody rendered (seen in the fleet) and clusters being decommissioned are not counted', () => {
    const stranger: ObjectSpec = {
      component: '',
      kind: 'Secret',
      name: 'left-by-hand',
      namespace: 'monitoring',
    }
    const observed = fleet((i) => (i < 5 ? [...agent(), dns, stranger] : [...agent(), dns]))
    expect(shrinks(base, observed)).toEqual([])
    const leaving = clusterState(
      Object.fromEntries(CLUSTERS.map((id, i) => [id, i < 5 ? [] : [...agent(), dns]])),
      Object.fromEntries(CLUSTERS.slice(0, 5).map((id) => [id, { lifecycle: 'decommission-requested' }])),
    )
    expect(shrinks(leaving)).toEqual([])
  })

  test('a regional stack that leaves an account counts the account once, whatever its regions', () => {
    const account = {
      ...clusterTarget('111111111111'),
      kind: 'account' as const,
      regions: ['eu-central-1', 'eu-west-1'],
    }
    const stack = (region: string) => ({
      address: `111111111111/${region}/vpc`,
      stackName: 'vpc',
      region,
      scope: 'region' as const,
      source: 'stacks/vpc.yaml',
      parameters: {},
      template: { Resources: {} },
    })
    const state = (stacks: ReturnType<typeof stack>[]): FleetState => ({
      side: { kind: 'observed' },
      targets: new Map([[account.id, account]]),
      desired: new Map([[account.id, { target: account, stacks, manifests: [] }]]),
      stageOf: new Map(),
      stages: [],
    })
    const findings = shrinks(state([]), state([stack('eu-central-1'), stack('eu-west-1')]))
    expect(findings.map((f) => f.message)).toEqual([
      expect.stringMatching(/^account 111111111111 \(111111111111\) would lose all 2 of its stacks/),
      expect.stringMatching(/^stack "vpc" would no longer reach 1 of its 1 targets \(100%/),
    ])
    expect(findings[1]!.addresses).toEqual(['111111111111/eu-central-1/vpc', '111111111111/eu-west-1/vpc'])
  })
})
