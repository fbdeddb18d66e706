import { describe, expect, test } from 'vitest'
import {
  clusterIds,
  clusterState,
  manifest,
  type ObjectSpec,
  planStates,
  validPlan,
} from '../../../test/support/cluster-states.ts'
import { formatDiagnostic } from '../diagnostics.ts'
import { addressParts } from '../model/plan.ts'
import { apiGroupOf, clusterCascades } from './kubernetes-cascades.ts'

const [C1, C2, C3, C4] = clusterIds(4) as [string, string, string, string]

const ns = (name: string, component = 'namespaces', line = 1): ObjectSpec => ({
  component,
  kind: 'Namespace',
  name,
  line,
})
const shop: ObjectSpec[] = [
  { component: 'shop', kind: 'Deployment', apiVersion: 'apps/v1', name: 'web', namespace: 'shop', line: 1 },
  { component: 'shop', kind: 'ConfigMap', name: 'web-config', namespace: 'shop', line: 12 },
  { component: 'shop', kind: 'PersistentVolumeClaim', name: 'uploads', namespace: 'shop', line: 20 },
]
const crd = (kind: string, group: string, component = 'crds'): ObjectSpec => ({
  component,
  kind: 'CustomResourceDefinition',
  apiVersion: 'apiextensions.k8s.io/v1',
  name: `${kind.toLowerCase()}s.${group}`,
  fields: { spec: { group, scope: 'Namespaced', names: { kind, plural: `${kind.toLowerCase()}s` } } },
})
const rule = (name: string, group = 'monitoring.coreos.com', line = 1): ObjectSpec => ({
  component: 'alerts',
  kind: 'PrometheusRule',
  apiVersion: `${group}/v1`,
  name,
  namespace: 'monitoring',
  line,
})

function errors(base: Parameters<typeof planStates>[0], head: Parameters<typeof planStates>[1]): string[] {
  const outcome = planStates(base, head)
  return outcome.ok ? [] : outcome.errors.map(formatDiagnostic)
}

describe('a deleted Namespace', () => {
  test('removed together with its objects: every object is a delete, protected kinds need their approvals, the budget counts them', () => {
    const base = clusterState({ [C1]: [ns('shop'), ...shop] })
    const head = clusterState({ [C1]: [] })
    const plan = validPlan(planStates(base, head, { maxDeletes: 2, maxShrinkPercent: 100 }))
    expect(plan.targets[0]!.changes.map((c) => `${c.action} ${addressParts(c.address).kind}`)).toEqual([
      'delete Namespace',
      'delete ConfigMap',
      'delete Deployment',
      'delete PersistentVolumeClaim',
    ])
    expect(plan.findings.find((f) => f.rule === 'protected-destroy')!.addresses).toEqual([
      `${C1}/_/Namespace/shop`,
      `${C1}/shop/PersistentVolumeClaim/uploads`,
    ])
    expect(plan.findings.find((f) => f.rule === 'delete-budget')!.pattern).toEqual({
      glob: `${C1}/*/*/*`,
      expectedCount: 4,
    })
  })

  test('objects still rendered into it make the change invalid, once per document with its clusters', () => {
    const base = clusterState({
      [C1]: [ns('shop'), ...shop],
      [C2]: [ns('shop'), ...shop],
      [C3]: [ns('shop')],
    })
    const head = clusterState({ [C1]: shop, [C2]: shop, [C3]: [] })
    expect(errors(base, head)).toEqual([
      `cluster/manifests/shop/shop.yaml:1:1: Deployment "web" is still rendered into namespace "shop", but no component renders the Namespace "shop" any more, so the plan deletes it — and Kubernetes deletes everything in a namespace with it, this object included. Keep rendering the Namespace "shop" for these clusters, or stop rendering the objects of namespace "shop" (remove them, or move them to a namespace that stays) in the same change (in 2 clusters: ${C1}, ${C2})`,
      expect.stringMatching(
        /^cluster\/manifests\/shop\/shop\.yaml:12:1: ConfigMap "web-config" is still rendered into namespace "shop".* \(in 2 clusters: /,
      ),
      expect.stringMatching(
        /^cluster\/manifests\/shop\/shop\.yaml:20:1: PersistentVolumeClaim "uploads" is still rendered/,
      ),
    ])
  })

  test('a Namespace that leaves only some clusters (its component narrowed) is an error only there', () => {
    const base = clusterState({ [C1]: [ns('shop'), ...shop], [C2]: [ns('shop'), ...shop] })
    const head = clusterState({ [C1]: [ns('shop'), ...shop], [C2]: shop })
    const found = errors(base, head)
    expect(found).toHaveLength(3)
    for (const error of found) expect(error).toMatch(new RegExp(`\\(in cluster ${C2}\\)$`))
  })

  test('a renamed Namespace deletes the old one with its objects and creates the new one: valid', () => {
    const moved = shop.map((o) => ({ ...o, namespace: 'store' }))
    const plan = validPlan(
      planStates(
        clusterState({ [C1]: [ns('shop'), ...shop] }),
        clusterState({ [C1]: [ns('store'), ...moved] }),
        { maxDeletes: 10, maxShrinkPercent: 100 },
      ),
    )
    const actions = plan.targets[0]!.changes.map((c) => `${c.action} ${c.address.slice(C1.length + 1)}`)
    expect(actions.filter((a) => a.startsWith('delete'))).toEqual([
      'delete _/Namespace/shop',
      'delete shop/ConfigMap/web-config',
      'delete shop/Deployment/web',
      'delete shop/PersistentVolumeClaim/uploads',
    ])
    expect(actions.filter((a) => a.startsWith('create'))).toHaveLength(4)
    expect(plan.approvalsRequired).toEqual([
      `${C1}/_/Namespace/shop`,
      `${C1}/shop/PersistentVolumeClaim/uploads`,
    ])
  })

  test('a rename that forgets one object leaves it in the old namespace: an error at that object', () => {
    const moved = shop.map((o) => (o.kind === 'ConfigMap' ? o : { ...o, namespace: 'store' }))
    expect(
      errors(clusterState({ [C1]: [ns('shop'), ...shop] }), clusterState({ [C1]: [ns('store'), ...moved] })),
    ).toEqual([
      expect.stringMatching(/^cluster\/manifests\/shop\/shop\.yaml:12:1: ConfigMap "web-config" is still/),
    ])
  })

  test('a Namespace now rendered by another component is not deleted', () => {
    const base = clusterState({ [C1]: [ns('shop'), ...shop] })
    expect(errors(base, clusterState({ [C1]: [ns('shop', 'shop'), ...shop] }))).toEqual([])
  })

  test('namespaces the base never had, and built-in ones, are not checked', () => {
    const inKubeSystem: ObjectSpec = {
      component: 'dns',
      kind: 'ConfigMap',
      name: 'coredns',
      namespace: 'kube-system',
    }
    const inDefault: ObjectSpec = { component: 'dns', kind: 'Service', name: 'web' }
    // Someone else's namespace: objects go into it in both revisions.
    const base = clusterState({ [C1]: [ns('kube-system'), ns('default'), inKubeSystem, inDefault, ...shop] })
    const head = clusterState({ [C1]: [inKubeSystem, inDefault, ...shop] })
    expect(errors(base, head)).toEqual([])
  })

  test('a cluster new in the head, or leaving, has nothing to cascade', () => {
    const base = clusterState({ [C1]: [ns('shop'), ...shop] })
    expect(errors(base, clusterState({ [C1]: [ns('shop'), ...shop], [C2]: shop }))).toEqual([])
    expect(
      errors(base, clusterState({ [C1]: [] }, { [C1]: { lifecycle: 'decommission-requested' } })),
    ).toEqual([])
  })

  test('against the fleet: a Namespace someone created by hand is pruned, so objects rendered into it are an error', () => {
    // Observed objects that no component rendered have the component "".
    const handMade = clusterState({ [C1]: [{ ...ns('shop'), component: '' }, ...shop] })
    expect(errors(handMade, clusterState({ [C1]: shop }))).toHaveLength(3)
  })

  test('against the fleet: objects someone else put into the deleted namespace are deletes too', () => {
    const stranger: ObjectSpec = { component: '', kind: 'Secret', name: 'tls', namespace: 'shop' }
    const plan = validPlan(
      planStates(clusterState({ [C1]: [ns('shop'), ...shop, stranger] }), clusterState({ [C1]: [] }), {
        maxDeletes: 10,
        maxShrinkPercent: 100,
      }),
    )
    expect(plan.targets[0]!.changes.map((c) => c.action)).toEqual([
      'delete',
      'delete',
      'delete',
      'delete',
      'delete',
    ])
    expect(plan.targets[0]!.changes.map((c) => addressParts(c.address).name)).toContain('tls')
  })
})

describe('a deleted CustomResourceDefinition', () => {
  const group = 'monitoring.coreos.com'

  test('custom resources still rendered make the change invalid', () => {
    const base = clusterState({
      [C1]: [crd('PrometheusRule', group), rule('pods'), rule('nodes', group, 30)],
    })
    const head = clusterState({ [C1]: [rule('pods'), rule('nodes', group, 30)] })
    expect(errors(base, head)).toEqual([
      `cluster/manifests/alerts/alerts.yaml:1:1: PrometheusRule "pods" (monitoring.coreos.com/v1) is still rendered, but no component renders its CustomResourceDefinition "prometheusrules.monitoring.coreos.com" any more, so the plan deletes it — and Kubernetes deletes every PrometheusRule with its definition, this object included. Keep rendering the CustomResourceDefinition "prometheusrules.monitoring.coreos.com" for these clusters, or stop rendering the PrometheusRule objects in the same change (in cluster ${C1})`,
      expect.stringMatching(/^cluster\/manifests\/alerts\/alerts\.yaml:30:1: PrometheusRule "nodes"/),
    ])
  })

  test('deleted with its custom resources: valid, every one a delete, the definition needs its approval', () => {
    const base = clusterState({ [C1]: [crd('PrometheusRule', group), rule('pods')] })
    const plan = validPlan(
      planStates(base, clusterState({ [C1]: [] }), { maxDeletes: 10, maxShrinkPercent: 100 }),
    )
    expect(plan.targets[0]!.changes.map((c) => `${c.action} ${c.type}`)).toEqual([
      'delete apiextensions.k8s.io/v1/CustomResourceDefinition',
      'delete monitoring.coreos.com/v1/PrometheusRule',
    ])
    expect(plan.findings.find((f) => f.rule === 'protected-destroy')!.addresses).toEqual([
      `${C1}/_/CustomResourceDefinition/prometheusrules.monitoring.coreos.com`,
    ])
    // The cluster's only definition and alerts leave it whole: a shrink, as any component that does.
    expect(plan.findings.filter((f) => f.rule === 'selection-shrink').map((f) => f.message)).toEqual([
      expect.stringMatching(/^component "crds" would no longer reach 1 of its 1 targets/),
      expect.stringMatching(/^component "alerts" would no longer reach 1 of its 1 targets/),
    ])
  })

  test('only its own group and kind: another group’s kind of the same name, and kept definitions, are fine', () => {
    const base = clusterState({
      [C1]: [
        crd('PrometheusRule', group),
        crd('Probe', group),
        rule('pods', 'example.org'),
        { ...rule('up'), kind: 'Probe' },
      ],
    })
    const head = clusterState({
      [C1]: [crd('Probe', group, 'other'), rule('pods', 'example.org'), { ...rule('up'), kind: 'Probe' }],
    })
    expect(errors(base, head)).toEqual([])
  })

  test('in several clusters at once: one error per document', () => {
    const base = clusterState({
      [C1]: [crd('PrometheusRule', group), rule('pods')],
      [C2]: [crd('PrometheusRule', group), rule('pods')],
      [C3]: [crd('PrometheusRule', group), rule('pods')],
      [C4]: [crd('PrometheusRule', group), rule('pods')],
    })
    const head = clusterState({
      [C1]: [rule('pods')],
      [C2]: [rule('pods')],
      [C3]: [rule('pods')],
      [C4]: [rule('pods')],
    })
    expect(errors(base, head)).toEqual([
      expect.stringMatching(new RegExp(`\\(in 4 clusters: ${C1}, ${C2}, ${C3}, … 1 more\\)$`)),
    ])
  })
})

describe('clusterCascades', () => {
  test('only core Namespaces and definitions with a group and kind count', () => {
    const objects = [
      ns('shop'),
      ns('kube-public'),
      {
        component: 'x',
        kind: 'Namespace',
        apiVersion: 'example.org/v1',
        name: 'not-core',
        namespace: 'shop',
      },
      crd('Widget', 'example.org'),
      {
        component: 'crds',
        kind: 'CustomResourceDefinition',
        apiVersion: 'apiextensions.k8s.io/v1',
        name: 'broken',
      },
    ].map((spec) => manifest(C1, spec))
    const cascades = clusterCascades(objects, [])
    expect([...cascades.namespaces]).toEqual([['shop', `${C1}/_/Namespace/shop`]])
    expect([...cascades.definitions]).toEqual([
      ['example.org/Widget', `${C1}/_/CustomResourceDefinition/widgets.example.org`],
    ])
    expect(clusterCascades(objects, objects)).toEqual({ namespaces: new Map(), definitions: new Map() })
  })

  test('addresses and groups', () => {
    expect(addressParts(`${C1}/shop/Deployment/web`)).toEqual({
      namespace: 'shop',
      kind: 'Deployment',
      name: 'web',
    })
    expect(apiGroupOf('apps/v1')).toBe('apps')
    expect(apiGroupOf('v1')).toBe('')
  })
})

describe('claims of StatefulSets', () => {
  const db = (spec: Record<string, unknown>, namespace = 'shop'): ObjectSpec => ({
    component: 'shop',
    kind: 'StatefulSet',
    apiVersion: 'apps/v1',
    name: 'db',
    namespace,
    fields: {
      spec: {
        replicas: 3,
        volumeClaimTemplates: [
          { metadata: { name: 'data' }, spec: { resources: { requests: { storage: '10Gi' } } } },
          { metadata: { name: 'wal' } },
        ],
        ...spec,
      },
    },
  })
  const limits = { maxDeletes: 100, maxShrinkPercent: 100 }
  const claimDeletes = (base: ObjectSpec[], head: ObjectSpec[]) =>
    validPlan(planStates(clusterState({ [C1]: base }), clusterState({ [C1]: head }), limits))
      .targets.flatMap((t) => t.changes)
      .filter((c) => c.type === 'v1/PersistentVolumeClaim')
      .map((c) => `${c.action} ${c.address.slice(C1.length + 1)}${c.protected ? ' (protected)' : ''}`)

  test('a deleted namespace takes the claims its StatefulSets made: each one a protected delete', () => {
    const plan = validPlan(
      planStates(clusterState({ [C1]: [ns('shop'), db({})] }), clusterState({ [C1]: [] }), limits),
    )
    const claims = plan.targets[0]!.changes.filter((c) => c.type === 'v1/PersistentVolumeClaim')
    expect(claims.map((c) => addressParts(c.address).name)).toEqual([
      'data-db-0',
      'data-db-1',
      'data-db-2',
      'wal-db-0',
      'wal-db-1',
      'wal-db-2',
    ])
    expect(claims.every((c) => c.action === 'delete' && c.protected)).toBe(true)
    expect(claims[0]!.properties).toContainEqual({
      path: 'spec',
      before: { resources: { requests: { storage: '10Gi' } } },
      after: null,
      forcesReplacement: false,
    })
    expect(plan.approvalsRequired).toEqual(expect.arrayContaining(claims.map((c) => c.address)))
    expect(plan.summary.actions.delete).toBe(8)
  })

  test('a StatefulSet deleted on its own keeps its claims, unless its retention policy deletes them', () => {
    expect(claimDeletes([ns('shop'), db({})], [ns('shop')])).toEqual([])
    expect(
      claimDeletes(
        [ns('shop'), db({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' } })],
        [ns('shop')],
      ),
    ).toHaveLength(6)
  })

  test('scaled down with whenScaled: Delete, the claims of the ordinals that go are deleted', () => {
    const policy = { persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete' } }
    expect(claimDeletes([ns('shop'), db(policy)], [ns('shop'), db({ ...policy, replicas: 1 })])).toEqual([
      'delete shop/PersistentVolumeClaim/data-db-1 (protected)',
      'delete shop/PersistentVolumeClaim/data-db-2 (protected)',
      'delete shop/PersistentVolumeClaim/wal-db-1 (protected)',
      'delete shop/PersistentVolumeClaim/wal-db-2 (protected)',
    ])
    // The policy in the head counts as much as the base's; ordinals may start elsewhere.
    expect(
      claimDeletes(
        [ns('shop'), db({ replicas: '2', ordinals: { start: 5 } })],
        [ns('shop'), db({ ...policy, replicas: 1, ordinals: { start: 5 } })],
      ),
    ).toEqual([
      'delete shop/PersistentVolumeClaim/data-db-6 (protected)',
      'delete shop/PersistentVolumeClaim/wal-db-6 (protected)',
    ])
    expect(claimDeletes([ns('shop'), db({})], [ns('shop'), db({ replicas: 1 })])).toEqual([])
  })

  test('claims the base already has (seen in the cluster) are deleted once; a kept namespace keeps them', () => {
    const seen: ObjectSpec = {
      component: '',
      kind: 'PersistentVolumeClaim',
      name: 'data-db-0',
      namespace: 'shop',
    }
    expect(claimDeletes([ns('shop'), db({ replicas: 1 }), seen], [])).toEqual([
      'delete shop/PersistentVolumeClaim/data-db-0 (protected)',
      'delete shop/PersistentVolumeClaim/wal-db-0 (protected)',
    ])
    expect(claimDeletes([ns('shop'), db({}), seen], [ns('shop'), db({}), seen])).toEqual([])
    // In a namespace Flotilla never rendered, a StatefulSet removed alone takes nothing.
    expect(claimDeletes([db({}, 'other')], [])).toEqual([])
  })
})
