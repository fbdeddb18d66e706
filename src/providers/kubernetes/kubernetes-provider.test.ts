import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { loadFleet } from '../../core/load/load-fleet.ts'
import type { RenderedManifest } from '../../core/model/desired-state.ts'
import type { Fleet, Target } from '../../core/model/fleet-model.ts'
import { memorySource } from '../../core/model/source.ts'
import { diffManifests } from '../../core/plan/diff-manifests.ts'
import { targetPlanOf } from '../../core/plan/plan-fleet.ts'
import { protectedTypes } from '../../core/plan/protected.ts'
import { fingerprintsOf } from '../../core/provider/fingerprint.ts'
import { type ApplyRequest, ProviderError } from '../../core/provider/port.ts'
import { generateExampleFleet } from '../../example/generate-example.ts'
import { testBackends, useTestStore } from '../../store/test-store.ts'
import { type KubernetesServer, startKubernetesServer } from '../sim/kubernetes/kubernetes-server.ts'
import { SimProvider } from '../sim/sim-provider.ts'
import { kubernetesConfigFromEnvironment } from './kubernetes-config.ts'
import { BOOKKEEPING, KubernetesProvider } from './kubernetes-provider.ts'

/** The example fleet with its clusters on the kubernetes provider (`inventory/clusters.yaml`). */
function exampleOnKubernetes(): Fleet {
  const files = generateExampleFleet({ accounts: 10, clusters: 5, seed: '7' })
  const path = 'inventory/clusters.yaml'
  const clusters = files.get(path)
  if (!clusters?.match(/^ {2}alias: /m)) throw new Error(`${path} has no alias lines`)
  files.set(path, clusters.replace(/^ {2}alias: /gm, '  provider: kubernetes\n  alias: '))
  const result = loadFleet(memorySource(files))
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return result.fleet
}

/** A kubeconfig whose contexts are named after the clusters, each at its simulated API. */
function kubeconfigFor(server: KubernetesServer, clusters: readonly Target[]): string {
  const clusterEntry = (c: Target) => ({
    name: c.id,
    // Plain http on loopback: the client takes it only without TLS verification.
    cluster: { server: server.clusterUrl(c.id), 'insecure-skip-tls-verify': true },
  })
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: clusters.map(clusterEntry),
    users: [{ name: 'flotilla', user: { token: 'any' } }],
    contexts: clusters.map((c) => ({ name: c.id, context: { cluster: c.id, user: 'flotilla' } })),
    'current-context': clusters[0]!.id,
  })
}

const isProtected = protectedTypes([])
const MISSING_IMAGE = 'registry.k8s.io/ingress-nginx/controller:v0.0.0-never-pushed'

describe.each(testBackends)(
  'the kubernetes provider against the simulated Kubernetes API on %s',
  (backend) => {
    const test = useTestStore(backend)
    const fleet = exampleOnKubernetes()
    const cluster = fleet.targets.find(
      (t) =>
        t.kind === 'cluster' &&
        fleet.desired.get(t.id)?.manifests.some((m) => m.object.kind === 'Deployment') === true,
    )!
    // Everything the cluster renders, RBAC names such as `system:aggregated-metrics-reader` too.
    const rendered = fleet.desired.get(cluster.id)!.manifests
    let server: KubernetesServer
    let provider: KubernetesProvider
    let dir: string
    /** What the cluster has, as the provider observes it. */
    let observed: () => Promise<readonly RenderedManifest[]>

    /** Applies `desired` with the plan from what is observed to it, as `flotilla apply` would. */
    const applyReviewed = async (desired: readonly RenderedManifest[], approved: readonly string[] = []) => {
      const changes = diffManifests(await observed(), desired, isProtected)
      return provider.apply(request(desired, changes, approved))
    }
    const request = (
      desired: readonly RenderedManifest[],
      changes: ReturnType<typeof diffManifests> | undefined,
      approved: readonly string[] = [],
    ): ApplyRequest => ({
      target: cluster,
      desired: { target: cluster, stacks: [], manifests: desired },
      plan: changes ? targetPlanOf(cluster, null, changes) : undefined,
      approvedDestruction: new Set(approved),
      revision: 'test',
    })
    const extraNamespace: RenderedManifest = {
      address: `${cluster.id}/_/Namespace/scratch`,
      component: 'scratch',
      source: 'test',
      object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scratch' } },
    }
    /** `base` with `edit` applied to a copy of the object at `address`. */
    const edited = (
      base: readonly RenderedManifest[],
      address: string,
      edit: (object: Record<string, unknown>) => void,
    ) =>
      base.map((m) => {
        if (m.address !== address) return m
        const object = structuredClone(m.object) as Record<string, unknown>
        edit(object)
        return { ...m, object }
      })
    const configMap = rendered.find((m) => m.object.kind === 'ConfigMap')!
    const deployment = rendered.find((m) => m.object.kind === 'Deployment')!

    beforeAll(async () => {
      const sim = new SimProvider({ db: test.store.db })
      await sim.updateSettings({ latencyScale: 0 })
      await sim.seed(fleet.targets, fleet.clusters)
      server = await startKubernetesServer({ db: test.store.db, sim })
      dir = mkdtempSync(join(tmpdir(), 'flotilla-kubernetes-'))
      const kubeconfig = join(dir, 'kubeconfig')
      writeFileSync(
        kubeconfig,
        kubeconfigFor(
          server,
          fleet.targets.filter((t) => t.kind === 'cluster'),
        ),
      )
      provider = new KubernetesProvider(kubernetesConfigFromEnvironment({ FLOTILLA_KUBECONFIG: kubeconfig }))
      observed = async () => (await provider.observe([cluster])).get(cluster.id)!.manifests
    })

    afterAll(async () => {
      await server?.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it('applies a cluster’s manifests server-side and observes them back as rendered: a plan of no changes', async () => {
      const report = await applyReviewed([...rendered, extraNamespace])
      expect(report.operations).toHaveLength(rendered.length + 1)
      expect(new Set(report.operations.map((o) => o.operation))).toEqual(new Set(['create']))
      // Namespaces first.
      const firstOther = report.operations.findIndex((o) => !o.address.includes('/Namespace/'))
      expect(report.operations.slice(firstOther).some((o) => o.address.includes('/Namespace/'))).toBe(false)
      const back = await observed()
      expect(diffManifests(back, [...rendered, extraNamespace], isProtected)).toEqual([])
      expect(fingerprintsOf({ stacks: [], manifests: back })).toEqual(
        fingerprintsOf({ stacks: [], manifests: [...rendered, extraNamespace] }),
      )
      expect(back.find((m) => m.address === deployment.address)?.component).toBe(deployment.component)
      expect(await provider.settled(cluster)).toEqual({ state: 'settled', items: [] })
      const health = await provider.health(cluster)
      expect(health.healthy).toBe(true)
      expect(health.checks.map((c) => c.name)).toContain(deployment.address)
      // Applying the same again changes nothing.
      expect((await applyReviewed([...rendered, extraNamespace])).operations).toEqual([])
    })

    it('updates an object in place', async () => {
      const desired = [
        ...edited(rendered, configMap.address, (o) => {
          o.data = { ...(o.data as object), 'flotilla-test': 'updated' }
        }),
        extraNamespace,
      ]
      const report = await applyReviewed(desired)
      expect(report.operations).toEqual([{ address: configMap.address, operation: 'update' }])
      const back = await observed()
      expect(back.find((m) => m.address === configMap.address)?.object.data).toMatchObject({
        'flotilla-test': 'updated',
      })
      expect(diffManifests(back, desired, isProtected)).toEqual([])
    })

    it('prunes only what the reviewed plan deletes, protected kinds only with an approval, and changes nothing when it refuses', async () => {
      const before = await observed()
      // Without a reviewed plan nothing is pruned, and nothing else changes either.
      const withoutConfigMap = rendered.filter((m) => m.address !== configMap.address)
      const unreviewed = await provider
        .apply(request([...withoutConfigMap, extraNamespace], undefined))
        .catch((e: unknown) => e)
      expect(unreviewed).toBeInstanceOf(ProviderError)
      expect((unreviewed as ProviderError).code).toBe('refused')
      expect((unreviewed as ProviderError).message).toContain(
        `refusing to prune ${configMap.address}: the reviewed plan does not delete it`,
      )
      expect(await observed()).toEqual(before)

      const protectedRefusal = await applyReviewed(withoutConfigMap).catch((e: unknown) => e)
      expect((protectedRefusal as ProviderError).code).toBe('refused')
      expect((protectedRefusal as ProviderError).address).toBe(extraNamespace.address)
      expect((protectedRefusal as ProviderError).message).toContain(
        `refusing to prune the protected v1/Namespace ${extraNamespace.address}: no approval covers it`,
      )
      expect(await observed()).toEqual(before)

      const report = await applyReviewed(withoutConfigMap, [extraNamespace.address])
      expect(report.operations).toEqual([
        { address: configMap.address, operation: 'delete' },
        { address: extraNamespace.address, operation: 'delete' },
      ])
      const after = await observed()
      expect(after.map((m) => m.address).sort()).toEqual(withoutConfigMap.map((m) => m.address).sort())
    })

    it('fails settled() at once on an image the registry lacks, naming it; health says why', async () => {
      const pruned = rendered.filter((m) => m.address !== configMap.address)
      const desired = edited(pruned, deployment.address, (o) => {
        const containers = (o.spec as { template: { spec: { containers: { image: string }[] } } }).template
          .spec.containers
        containers[0]!.image = MISSING_IMAGE
      })
      const report = await applyReviewed(desired)
      expect(report.operations).toEqual([{ address: deployment.address, operation: 'update' }])
      const settled = await provider.settled(cluster)
      expect(settled.state).toBe('failed')
      const item = settled.items.find((i) => i.address === deployment.address)
      expect(item?.reason).toContain(`image ${MISSING_IMAGE} cannot be pulled (ImagePullBackOff)`)
      const observedTarget = (await provider.observe([cluster])).get(cluster.id)!
      expect(observedTarget.busy).toContain(deployment.address)
      const health = await provider.health(cluster)
      expect(health.healthy).toBe(false)
      expect(health.checks.find((c) => c.name === deployment.address)?.detail).toContain(MISSING_IMAGE)
      // Rendering the good image again brings it back.
      expect((await applyReviewed(pruned)).operations).toEqual([
        { address: deployment.address, operation: 'update' },
      ])
      expect((await provider.settled(cluster)).state).toBe('settled')
    })

    it('reaches a cluster without a kubeconfig context through the inventory’s apiServer, and says when it has neither', async () => {
      const byUrl = new KubernetesProvider(
        kubernetesConfigFromEnvironment({ FLOTILLA_KUBERNETES_TOKEN: 'any' }),
      )
      const seen = (await byUrl.observe([{ ...cluster, apiServer: server.clusterUrl(cluster.id) }])).get(
        cluster.id,
      )!
      expect(seen.manifests).toEqual(await observed())
      const nowhere = await byUrl.observe([cluster]).catch((e: unknown) => e)
      expect((nowhere as ProviderError).code).toBe('invalid')
      expect((nowhere as ProviderError).message).toContain(
        `cluster ${cluster.id} has no kubeconfig context named ${cluster.id} or ${cluster.name} (FLOTILLA_KUBECONFIG is not set) and no apiServer in the inventory`,
      )
    })

    it('marks what it applies with its label and annotations, and leaves other objects alone', async () => {
      const live = await fetch(
        `${server.clusterUrl(cluster.id)}/apis/apps/v1/namespaces/${(deployment.object.metadata as { namespace: string }).namespace}/deployments`,
      ).then((r) => r.json() as Promise<{ items: { metadata: Record<string, Record<string, string>> }[] }>)
      expect(live.items.length).toBeGreaterThan(0)
      for (const item of live.items) {
        expect(item.metadata.labels?.[BOOKKEEPING.managedBy]).toBe('flotilla')
        expect(item.metadata.annotations?.[BOOKKEEPING.address]).toMatch(new RegExp(`^${cluster.id}/`))
      }
      // An object someone else created in the cluster is neither observed nor pruned.
      await fetch(`${server.clusterUrl(cluster.id)}/api/v1/namespaces/default/configmaps`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'not-flotillas' } }),
      })
      const desired = rendered.filter((m) => m.address !== configMap.address)
      expect((await applyReviewed(desired)).operations).toEqual([])
      expect((await observed()).map((m) => m.address)).not.toContain(
        `${cluster.id}/default/ConfigMap/not-flotillas`,
      )
    })

    it('refuses a Kubernetes version its control plane does not run, changing nothing; the running one passes', async () => {
      const before = await observed()
      const nodes = fleet.desired.get(cluster.id)!.nodes!
      const running = nodes.kubernetesVersion
      const next = `1.${Number(running.split('.')[1]) + 1}`
      const desired = (kubernetesVersion: string) => ({
        ...request(
          edited(rendered, configMap.address, (o) => (o.data = { changed: 'yes' })),
          undefined,
        ),
        desired: {
          target: cluster,
          stacks: [],
          manifests: edited(rendered, configMap.address, (o) => (o.data = { changed: 'yes' })),
          nodes: { ...nodes, kubernetesVersion },
        },
      })
      const refused = await provider.apply(desired(next)).catch((e: unknown) => e)
      expect((refused as ProviderError).code).toBe('refused')
      expect((refused as ProviderError).message).toContain(
        `the inventory asks for Kubernetes ${next} and the control plane runs ${running}`,
      )
      expect(await observed()).toEqual(before)
      const report = await provider.apply(desired(running))
      expect(report.operations.map((o) => o.address)).toContain(configMap.address)
    })
  },
)
