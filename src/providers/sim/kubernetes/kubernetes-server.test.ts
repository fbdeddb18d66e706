import * as k8s from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testBackends, useTestStore } from '../../../store/test-store.ts'
import { loadObjects } from '../sim-clusters.ts'
import { simDatabase } from '../sim-database.ts'
import { SimProvider } from '../sim-provider.ts'
import { type KubernetesServer, startKubernetesServer } from './kubernetes-server.ts'

const CLUSTER = 'aws:111111111111:eu-central-1:kube-1'
const T0 = new Date('2026-11-10T10:00:00Z')
const POOLS = [
  { name: 'system', profile: 'system', instanceTypes: ['m6i.large'], min: 2, max: 4 },
  { name: 'worker', profile: 'worker', instanceTypes: ['m6i.xlarge'], min: 3, max: 10 },
]

/** The status and Status body of a failed call. */
async function failure(call: Promise<unknown>): Promise<{ code: number; reason: string; message: string }> {
  try {
    await call
  } catch (error) {
    const e = error as { code: number; body: string }
    const status = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as {
      reason: string
      message: string
    }
    return { code: e.code, reason: status.reason, message: status.message }
  }
  throw new Error('the call succeeded')
}

function deployment(name: string, image: string, replicas = 2): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop', labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
    },
  }
}

const GOOD_IMAGE = 'registry.k8s.io/ingress-nginx/controller:v1.12.1'

describe.each(testBackends)('the simulated Kubernetes API on %s', (backend) => {
  const test = useTestStore(backend)
  let server: KubernetesServer
  let at = T0.getTime()
  const advance = (ms: number) => {
    at += ms
  }
  let core: k8s.CoreV1Api
  let apps: k8s.AppsV1Api
  let objects: k8s.KubernetesObjectApi
  let version: k8s.VersionApi
  let sim: SimProvider

  beforeAll(async () => {
    sim = new SimProvider({ db: test.store.db })
    await sim.updateSettings({ latencyScale: 1 })
    const info = {
      regions: ['eu-central-1'],
      environment: 'production',
      group: 'shop',
      services: [],
      kubernetesVersion: '1.31',
      nodePools: POOLS,
    }
    await (await simDatabase(test.store.db))
      .insertInto('sim_targets')
      .values({
        id: CLUSTER,
        kind: 'cluster',
        name: 'shop-kube-1',
        account: '111111111111',
        info: JSON.stringify(info),
      })
      .execute()
    server = await startKubernetesServer({ db: test.store.db, sim, now: () => new Date(at) })
    const kc = new k8s.KubeConfig()
    kc.loadFromOptions({
      clusters: [{ name: 'sim', server: server.clusterUrl(CLUSTER), skipTLSVerify: true }],
      users: [{ name: 'sim', token: 'any' }],
      contexts: [{ name: 'sim', cluster: 'sim', user: 'sim' }],
      currentContext: 'sim',
    })
    core = kc.makeApiClient(k8s.CoreV1Api)
    apps = kc.makeApiClient(k8s.AppsV1Api)
    objects = k8s.KubernetesObjectApi.makeApiClient(kc)
    version = kc.makeApiClient(k8s.VersionApi)
    await core.createNamespace({ body: { metadata: { name: 'shop', labels: { team: 'shop' } } } })
  })

  afterAll(async () => {
    await server?.close()
  })

  it('serves each cluster under its own base URL, with discovery and the cluster version', async () => {
    expect(await server.clusterUrls()).toEqual({ [CLUSTER]: `${server.url}/clusters/${CLUSTER}` })
    expect((await version.getCode()).gitVersion).toBe('v1.31.0')
    const groups = await fetch(`${server.clusterUrl(CLUSTER)}/apis`).then(
      (r) => r.json() as Promise<{ groups: { name: string }[] }>,
    )
    expect(groups.groups.map((g) => g.name)).toContain('policy')
    const unknown = await fetch(`${server.url}/clusters/nope/api/v1/pods`)
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { message: string }).message).toContain(
      'nope is not a cluster of the simulated fleet',
    )
  })

  it('creates, gets, lists by label selector and deletes, with Kubernetes-shaped errors', async () => {
    for (const [name, tier] of [
      ['a', 'front'],
      ['b', 'back'],
      ['c', 'front'],
    ] as const)
      await core.createNamespacedConfigMap({
        namespace: 'shop',
        body: {
          metadata: { name: `cm-${name}`, labels: { tier, ...(name === 'c' ? { legacy: 'yes' } : {}) } },
          data: { x: name },
        },
      })
    const names = async (labelSelector: string) =>
      (await core.listNamespacedConfigMap({ namespace: 'shop', labelSelector })).items.map(
        (i) => i.metadata?.name,
      )
    expect(await names('tier=front')).toEqual(['cm-a', 'cm-c'])
    expect(await names('tier in (front,back),!legacy')).toEqual(['cm-a', 'cm-b'])
    expect(await names('tier notin (front)')).toEqual(['cm-b'])
    expect((await core.readNamespacedConfigMap({ name: 'cm-b', namespace: 'shop' })).data).toEqual({ x: 'b' })
    expect(
      await failure(
        core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'cm-a' } } }),
      ),
    ).toMatchObject({ code: 409, reason: 'AlreadyExists' })
    await core.deleteNamespacedConfigMap({ name: 'cm-a', namespace: 'shop' })
    expect(await failure(core.readNamespacedConfigMap({ name: 'cm-a', namespace: 'shop' }))).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'configmaps "cm-a" not found',
    })
    expect(
      await failure(
        core.createNamespacedConfigMap({ namespace: 'nowhere', body: { metadata: { name: 'x' } } }),
      ),
    ).toMatchObject({ code: 404, reason: 'NotFound' })
    const bad = deployment('bad-selector', GOOD_IMAGE)
    bad.spec!.selector = { matchLabels: { app: 'other' } }
    expect(await failure(apps.createNamespacedDeployment({ namespace: 'shop', body: bad }))).toMatchObject({
      code: 422,
      reason: 'Invalid',
    })
    // Cluster-scoped objects, and the fleet's own table: plans see what clients create.
    expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).toEqual(
      expect.arrayContaining(['default', 'kube-system', 'shop']),
    )
    expect(await failure(core.deleteNamespace({ name: 'kube-system' }))).toMatchObject({
      code: 403,
      reason: 'Forbidden',
    })
    const fleet = await loadObjects(await simDatabase(test.store.db), [CLUSTER])
    expect(fleet.map((o) => o.address)).toContain(`${CLUSTER}/shop/ConfigMap/cm-b`)
  })

  it('applies server-side: idempotent, with managed fields, conflicts and force', async () => {
    const config: k8s.V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'shop', labels: { app: 'shop' } },
      data: { level: 'info' },
    }
    const first = await objects.patch(
      config,
      undefined,
      undefined,
      'flotilla',
      false,
      k8s.PatchStrategy.ServerSideApply,
    )
    const again = await objects.patch(
      config,
      undefined,
      undefined,
      'flotilla',
      false,
      k8s.PatchStrategy.ServerSideApply,
    )
    expect(again.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion)
    expect(first.metadata?.managedFields?.map((m) => [m.manager, m.operation, m.fieldsV1])).toEqual([
      ['flotilla', 'Apply', { 'f:data': { 'f:level': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } }],
    ])
    const other: k8s.V1ConfigMap = { ...config, data: { level: 'debug' } }
    const conflict = await failure(
      objects.patch(other, undefined, undefined, 'kubectl', false, k8s.PatchStrategy.ServerSideApply),
    )
    expect(conflict).toMatchObject({ code: 409, reason: 'Conflict' })
    expect(conflict.message).toContain('conflict with "flotilla" using v1: .data.level')
    // The same value is no conflict: both own it.
    await objects.patch(
      { ...config, metadata: { ...config.metadata, labels: { app: 'shop' } }, data: undefined },
      undefined,
      undefined,
      'kubectl',
      false,
      k8s.PatchStrategy.ServerSideApply,
    )
    const forced = await objects.patch(
      other,
      undefined,
      undefined,
      'kubectl',
      true,
      k8s.PatchStrategy.ServerSideApply,
    )
    expect((forced as k8s.V1ConfigMap).data).toEqual({ level: 'debug' })
    expect(forced.metadata?.managedFields?.find((m) => m.manager === 'flotilla')?.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
    })
    // A field the applier stops applying goes, unless someone else owns it.
    const dropped = await objects.patch(
      { ...other, metadata: { name: 'settings', namespace: 'shop' } } as k8s.V1ConfigMap,
      undefined,
      undefined,
      'kubectl',
      false,
      k8s.PatchStrategy.ServerSideApply,
    )
    expect(dropped.metadata?.labels).toEqual({ app: 'shop' })
    const missingManager = await fetch(
      `${server.clusterUrl(CLUSTER)}/api/v1/namespaces/shop/configmaps/settings`,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/apply-patch+yaml' },
        body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n',
      },
    )
    expect(missingManager.status).toBe(422)
  })

  it('runs pods on the node pools, becomes available after a delay, never with a missing image; honours cordons', async () => {
    const nodes = (await core.listNode()).items
    expect(nodes.map((n) => n.metadata?.labels?.['flotilla.dev/node-pool']).sort()).toEqual([
      'system',
      'system',
      'worker',
      'worker',
      'worker',
    ])
    expect(nodes[0]!.status?.nodeInfo?.kubeletVersion).toBe('v1.31.0')
    const cordoned = nodes.find((n) => n.metadata?.labels?.['flotilla.dev/node-pool'] === 'worker')!.metadata!
      .name!
    await core.patchNode(
      { name: cordoned, body: { spec: { unschedulable: true } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    )
    await objects.patch(
      deployment('web', GOOD_IMAGE, 6),
      undefined,
      undefined,
      'flotilla',
      false,
      k8s.PatchStrategy.ServerSideApply,
    )
    await objects.patch(
      deployment('typo', `${GOOD_IMAGE}-typo`, 1),
      undefined,
      undefined,
      'flotilla',
      false,
      k8s.PatchStrategy.ServerSideApply,
    )
    const available = async (name: string) =>
      (await apps.readNamespacedDeployment({ name, namespace: 'shop' })).status?.conditions?.find(
        (c) => c.type === 'Available',
      )?.status
    expect(await available('web')).toBe('False')
    const pods = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' })).items
    expect(pods).toHaveLength(6)
    expect(pods.map((p) => p.spec?.nodeName)).not.toContain(cordoned)
    expect(pods[0]!.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ContainerCreating')
    advance(2_000)
    expect(await available('web')).toBe('True')
    expect(await available('typo')).toBe('False')
    const [typo] = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=typo' })).items
    expect(typo!.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ImagePullBackOff')
    advance(3_600_000)
    expect(await available('typo')).toBe('False')
    const onNode = await core.listPodForAllNamespaces({
      fieldSelector: `spec.nodeName=${pods[0]!.spec!.nodeName}`,
    })
    expect(onNode.items.length).toBeGreaterThan(0)
  })

  it('evicts pods only as far as their PodDisruptionBudget allows (429 otherwise)', async () => {
    await apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('api', GOOD_IMAGE, 2) })
    await objects.create({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'api', namespace: 'shop' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'api' } } },
    } as k8s.KubernetesObject)
    advance(2_000)
    const [first, second] = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=api' }))
      .items
    const evict = (pod: k8s.V1Pod) =>
      core.createNamespacedPodEviction({
        name: pod.metadata!.name!,
        namespace: 'shop',
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: pod.metadata!.name!, namespace: 'shop' },
        },
      })
    await evict(first!)
    const refused = await failure(evict(second!))
    expect(refused).toMatchObject({ code: 429, reason: 'TooManyRequests' })
    const pdb = (await objects.read({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'api', namespace: 'shop' },
    })) as k8s.V1PodDisruptionBudget
    expect(pdb.status).toMatchObject({
      currentHealthy: 1,
      desiredHealthy: 1,
      disruptionsAllowed: 0,
      expectedPods: 2,
    })
    advance(2_000) // the replacement becomes ready
    await evict(second!)
    expect(
      (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=api' })).items.map(
        (p) => p.metadata?.name,
      ),
    ).not.toContain(second!.metadata!.name)
  })

  it('answers under the simulated fleet’s faults: throttling 429, api-errors 500, a region outage 503', async () => {
    const scope = { kind: 'target', id: CLUSTER } as const
    for (const [kind, code, reason] of [
      ['throttling', 429, 'TooManyRequests'],
      ['api-errors', 500, 'InternalError'],
    ] as const) {
      await sim.addFault({ scope, kind, rate: 1 })
      const refused = await failure(core.listNamespace())
      expect(refused).toMatchObject({ code, reason })
      expect(refused.message).toContain('simulated fault')
      await sim.clearFaults({ scope })
    }
    await sim.addFault({
      scope: { kind: 'region', name: 'eu-central-1' },
      kind: 'region-outage',
    })
    expect(await failure(core.listNamespace())).toMatchObject({ code: 503, reason: 'ServiceUnavailable' })
    await sim.clearFaults({ scope: { kind: 'region', name: 'eu-central-1' } })
    expect((await core.listNamespace()).items.length).toBeGreaterThan(0)
  })
})
