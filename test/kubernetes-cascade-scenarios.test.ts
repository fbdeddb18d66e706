import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import type { Plan } from '../src/core/model/plan.ts'
import { writeExampleFleet } from '../src/example/write-example.ts'
import { commitScenario, type Edit, planScenario } from './support/example-scenarios.ts'
import { NOW, simFleet } from './support/sim-cli.ts'

/**
 * Kubernetes cascades and object-based selection-shrink on a small example fleet
 * (`flotilla init --example --accounts 20 --clusters 12`): each scenario is a commit, planned
 * through the CLI as a pull request check would (`flotilla plan --base … --head … --format json`).
 */
let repo = ''
const NAMESPACES = 'cluster/manifests/namespaces/namespaces.yaml'

beforeAll(async () => {
  repo = join(mkdtempSync(join(tmpdir(), 'flotilla-cascades-')), 'fleet')
  await writeExampleFleet(repo, { accounts: 20, clusters: 12 })
})

const scenario = (name: string, edits: Record<string, Edit>, from = 'main') =>
  commitScenario(repo, name, edits, from)
const plan = (head: string, base = 'main') => planScenario(repo, head, base)

const changes = (p: Plan) => p.targets.flatMap((t) => t.changes)

/** Removes the document of `kind` named `name` from a multi-document YAML text. */
function withoutDocument(text: string, kind: string, name: string): string {
  const docs = text.split(/^---\n/m)
  const kept = docs.filter(
    (d) => !(new RegExp(`^kind: ${kind}$`, 'm').test(d) && new RegExp(`^  name: ${name}$`, 'm').test(d)),
  )
  expect(kept.length, `no ${kind} ${name}`).toBe(docs.length - 1)
  return kept.join('---\n')
}

const MONITORING_COMPONENTS = ['monitoring-agent', 'kube-state-metrics', 'prometheus-rules']

describe('Kubernetes cascades on the example fleet', () => {
  test('a Namespace deleted while its objects are still rendered is invalid, each object at its file:line:col', async () => {
    const branch = await scenario('drop-monitoring-namespace', {
      [NAMESPACES]: (t) => withoutDocument(t, 'Namespace', 'monitoring'),
    })
    const { code, stderr } = await plan(branch)
    expect(code).toBe(1)
    const lines = stderr.split('\n').filter((l) => /^cluster\/manifests\//.test(l))
    // Every object of the namespace, in each of the three components that put objects there.
    expect(lines).toHaveLength(9)
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^cluster\/manifests\/monitoring-agent\/node-exporter\.yaml:7:1: DaemonSet "node-exporter" is still rendered into namespace "monitoring", but no component renders the Namespace "monitoring" any more, .* \(in \d+ clusters: /,
      ),
    )
    for (const component of MONITORING_COMPONENTS)
      expect(lines.some((l) => l.startsWith(`cluster/manifests/${component}/`))).toBe(true)
    expect(stderr).toContain('the change is invalid (9 errors)')
  })

  test('a Namespace deleted with everything in it: every object a delete, the namespaces need approvals, the budget counts all', async () => {
    const edits: Record<string, Edit> = { [NAMESPACES]: (t) => withoutDocument(t, 'Namespace', 'monitoring') }
    for (const component of MONITORING_COMPONENTS) edits[`cluster/manifests/${component}`] = null
    const { code, plan: p } = await plan(await scenario('drop-monitoring', edits))
    expect(code).toBe(3)
    const all = changes(p!)
    const namespaces = all.filter((c) => c.address.endsWith('/_/Namespace/monitoring'))
    const inside = all.filter((c) => c.address.includes('/monitoring/'))
    expect(namespaces.length).toBeGreaterThan(5)
    expect(inside).toHaveLength(9 * namespaces.length)
    expect(new Set([...namespaces, ...inside].map((c) => c.action))).toEqual(new Set(['delete']))
    expect(p!.approvalsRequired).toEqual(expect.arrayContaining(namespaces.map((c) => c.address)))
    const budget = p!.findings.find((f) => f.rule === 'delete-budget')!
    expect(budget.addresses).toEqual(expect.arrayContaining([...namespaces, ...inside].map((c) => c.address)))
    // Three components leave every cluster at once: denied, not quietly pruned.
    expect(p!.findings.filter((f) => f.rule === 'selection-shrink' && f.effect === 'deny')).toHaveLength(3)
  })

  test('a renamed Namespace: the old one is deleted with all its objects, the new one created with them', async () => {
    const rename = (t: string) => t.replaceAll('namespace: ingress-nginx', 'namespace: ingress')
    const branch = await scenario('rename-ingress-namespace', {
      [NAMESPACES]: (t) => t.replace('name: ingress-nginx', 'name: ingress'),
      'cluster/manifests/ingress-nginx/controller.yaml': rename,
      'cluster/manifests/ingress-nginx/rbac.yaml': rename,
      'cluster/manifests/disruption-budgets/disruption-budgets.yaml': rename,
    })
    const { code, plan: p } = await plan(branch)
    // No shrink: the components still reach every cluster, with their objects in the new namespace.
    expect(p!.findings.map((f) => `${f.rule} ${f.effect}`)).toEqual([
      'protected-destroy require-approval',
      'delete-budget require-approval',
      'tier-1-destructive-changes require-approval',
    ])
    expect(p!.verdict).toBe('requires-approval')
    expect(code).toBe(3)
    const all = changes(p!)
    const old = all.filter(
      (c) => c.address.includes('/ingress-nginx/') || c.address.endsWith('/Namespace/ingress-nginx'),
    )
    const renamed = all.filter(
      (c) => c.address.includes('/ingress/') || c.address.endsWith('/Namespace/ingress'),
    )
    expect(old.length).toBeGreaterThan(10)
    expect(new Set(old.map((c) => c.action))).toEqual(new Set(['delete']))
    expect(renamed.filter((c) => c.action === 'create')).toHaveLength(old.length)
    expect(p!.approvalsRequired).toEqual(
      expect.arrayContaining(old.filter((c) => c.type === 'v1/Namespace').map((c) => c.address)),
    )
  })

  test('a CustomResourceDefinition deleted while its custom resources are still rendered is invalid', async () => {
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.org
spec:
  group: example.org
  scope: Namespaced
  names: { kind: Widget, plural: widgets, singular: widget }
  versions:
    - name: v1
      served: true
      storage: true
      schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
`
    const widget = `# The team's widget.
apiVersion: example.org/v1
kind: Widget
metadata:
  name: "{{ cluster.team }}-widget"
  namespace: monitoring
spec: { size: 3 }
`
    const base = await scenario('with-widgets', {
      'cluster/manifests/widget-crds/crd.yaml': crd,
      'cluster/manifests/widgets/widget.yaml': widget,
    })
    const branch = await scenario('drop-widget-crd', { 'cluster/manifests/widget-crds': null }, base)
    const { code, stderr } = await plan(branch, base)
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /^cluster\/manifests\/widgets\/widget\.yaml:2:1: Widget "[\w-]+-widget" \(example\.org\/v1\) is still rendered, but no component renders its CustomResourceDefinition "widgets\.example\.org" any more, .* \(in (cluster|\d+ clusters:) /m,
    )
    // Deleted together, they are deletes (the definition protected).
    const both = await scenario(
      'drop-widgets',
      { 'cluster/manifests/widget-crds': null, 'cluster/manifests/widgets': null },
      base,
    )
    const { plan: p } = await plan(both, base)
    expect(new Set(changes(p!).map((c) => c.action))).toEqual(new Set(['delete']))
    expect(p!.approvalsRequired).toContainEqual(
      expect.stringMatching(/\/_\/CustomResourceDefinition\/widgets\.example\.org$/),
    )
  })
  test('a Namespace deleted with a StatefulSet in it: the claims it made are protected deletes too', async () => {
    const shop = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: shop
spec:
  replicas: 2
  serviceName: db
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      containers: [{ name: db, image: postgres:17 }]
  volumeClaimTemplates:
    - metadata: { name: data }
      spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 20Gi } } }
`
    const base = await scenario('with-shop', { 'cluster/manifests/shop/shop.yaml': shop })
    const branch = await scenario('drop-shop', { 'cluster/manifests/shop': null }, base)
    const { plan: p } = await plan(branch, base)
    const all = changes(p!)
    const statefulSets = all.filter((c) => c.address.endsWith('/shop/StatefulSet/db'))
    const claims = all.filter((c) => c.type === 'v1/PersistentVolumeClaim')
    expect(statefulSets.length).toBeGreaterThan(5)
    expect(claims.map((c) => c.address.split('/').slice(1).join('/'))).toEqual(
      statefulSets.flatMap(() => [
        'shop/PersistentVolumeClaim/data-db-0',
        'shop/PersistentVolumeClaim/data-db-1',
      ]),
    )
    expect(new Set(claims.map((c) => `${c.action} ${c.protected}`))).toEqual(new Set(['delete true']))
    expect(p!.approvalsRequired).toEqual(expect.arrayContaining(claims.map((c) => c.address)))
    expect(p!.summary.protectedDestroyed).toBe(claims.length + statefulSets.length)
  })
})

describe('selection-shrink counts objects on the example fleet', () => {
  test('a component folder renamed with the same objects is no change at all', async () => {
    const text = readFileSync(join(repo, 'cluster/manifests/coredns/coredns.yaml'), 'utf8')
    const branch = await scenario('rename-coredns-folder', {
      'cluster/manifests/coredns': null,
      'cluster/manifests/dns/coredns.yaml': text,
    })
    const { code, plan: p } = await plan(branch)
    expect(p!.findings).toEqual([])
    expect(p!.verdict).toBe('no-changes')
    expect(code).toBe(0)
  })

  test('an object moved into a component selected for production only leaves the other clusters: denied', async () => {
    const alerts = readFileSync(join(repo, 'cluster/manifests/monitoring-agent/node-alerts.yaml'), 'utf8')
    const branch = await scenario('move-node-alerts', {
      'cluster/manifests/monitoring-agent/node-alerts.yaml': null,
      'cluster/manifests/node-alerts/node-alerts.yaml': alerts,
      'cluster/manifests/node-alerts/component.yaml': "select: cluster.environment == 'production'\n",
    })
    const { code, plan: p } = await plan(branch)
    expect(code).toBe(3)
    const shrink = p!.findings.find((f) => f.rule === 'selection-shrink')!
    expect(shrink.effect).toBe('deny')
    expect(shrink.message).toMatch(
      /^component "monitoring-agent" would no longer bring 1 of its objects \(monitoring\/ConfigMap\/node-alerts\) to \d+ of its \d+ targets/,
    )
    const deleted = changes(p!).filter((c) => c.action === 'delete')
    expect(shrink.addresses).toEqual(deleted.map((c) => c.address))
  })
})

describe('against the simulated fleet (the observed base)', () => {
  test('a cluster as applied: its monitoring Namespace dropped with objects still in it is invalid; moved out, the old namespace goes with all of them', async () => {
    const sim = await simFleet('pglite')
    try {
      const cluster = sim.fleet.targets.find(
        (t) =>
          t.kind === 'cluster' &&
          t.environment === 'test' &&
          sim.fleet.desired.get(t.id)!.manifests.some((m) => m.address.endsWith('/_/Namespace/monitoring')),
      )!
      const only = `target.id == '${cluster.id}'`
      await sim.cli('sim', 'settings', '--latency-scale', '0')
      const applied = await sim.cli('apply', '--target', cluster.id)
      expect(applied.code, applied.stderr).toBe(0)

      const namespaces = join(sim.repo, NAMESPACES)
      writeFileSync(namespaces, withoutDocument(readFileSync(namespaces, 'utf8'), 'Namespace', 'monitoring'))
      const invalid = await sim.cli('plan', '--now', NOW, '--target', only)
      expect(invalid.code).toBe(1)
      expect(invalid.stderr).toContain(
        `cluster/manifests/monitoring-agent/node-exporter.yaml:7:1: DaemonSet "node-exporter" is still rendered into namespace "monitoring"`,
      )
      expect(invalid.stderr).toContain(`(in cluster ${cluster.id})`)

      // Move everything of the namespace into kube-system, which always exists.
      for (const component of MONITORING_COMPONENTS) {
        const dir = join(sim.repo, 'cluster/manifests', component)
        for (const file of readdirSync(dir)) {
          const path = join(dir, file)
          writeFileSync(
            path,
            readFileSync(path, 'utf8').replaceAll('namespace: monitoring', 'namespace: kube-system'),
          )
        }
      }
      const planned = await sim.cli('plan', '--format', 'json', '--now', NOW, '--target', only)
      const p = JSON.parse(planned.stdout) as Plan
      const deleted = changes(p).filter((c) => c.action === 'delete')
      expect(deleted.map((c) => c.address.slice(cluster.id.length + 1).split('/')[0])).toEqual(
        Array.from({ length: 10 }, (_, i) => (i === 0 ? '_' : 'monitoring')),
      )
      expect(changes(p).filter((c) => c.action === 'create')).toHaveLength(9)
      expect(p.findings.map((f) => f.rule)).not.toContain('selection-shrink')
      expect(p.approvalsRequired).toContain(`${cluster.id}/_/Namespace/monitoring`)

      const approvals = p.approvalsRequired.flatMap((a) => ['--approve', a])
      const moved = await sim.cli('apply', '--target', cluster.id, ...approvals)
      expect(moved.code, moved.stderr).toBe(0)
      const after = await sim.cli('plan', '--format', 'json', '--now', NOW, '--target', only)
      expect((JSON.parse(after.stdout) as Plan).verdict).toBe('no-changes')
    } finally {
      await sim.dispose()
    }
    // Two applies and four plans of a cluster: slow on a busy machine.
  }, 240_000)
})
