/**
 * The simulated cluster's controllers, run before every API request to the cluster (the
 * simulation has no background loop of its own): the cluster's built-in namespaces and its Nodes
 * (from the inventory's node pools, once), Pods for Deployments, StatefulSets and DaemonSets,
 * garbage collection of pods whose owner or node is gone, and the scheduler, which binds pending
 * pods to schedulable nodes (not cordoned, matching the pod's nodeSelector, with room).
 */
import { createHash } from 'node:crypto'
import type { SimDb } from '../sim-database.ts'
import {
  deleteObjects,
  insertClusterObjects,
  loadClusterObjects,
  type StoredObject,
  updateObject,
} from './cluster-objects.ts'
import { type ClusterView, controllerOf, eligibleNodes, templateHash } from './cluster-view.ts'

type Json = Record<string, unknown>

/** A node pool as the inventory declares it. */
export interface SimNodePool {
  readonly name: string
  readonly profile: string
  readonly instanceTypes: readonly string[]
  readonly min: number
  readonly max: number
  /** The kubelet version of the pool's new nodes; default the cluster's (a pool whose rotation was skipped lags behind). */
  readonly version?: string
}

/** What the simulator knows of a cluster from the inventory. */
export interface SimClusterInfo {
  readonly regions: readonly string[]
  /** `1.31`; nodes report `v1.31.0`. */
  readonly kubernetesVersion?: string
  readonly nodePools?: readonly SimNodePool[]
}

/** Pods a node takes, as the kubelet's default `maxPods`. */
export const MAX_PODS_PER_NODE = 110

const BUILT_IN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease']

/** Namespaces every cluster has and no client may delete. */
export function isBuiltInNamespace(name: string): boolean {
  return BUILT_IN_NAMESPACES.includes(name)
}

/** A short hex digest of `text`, for generated names. */
export const short = (text: string, length: number) =>
  createHash('sha256').update(text).digest('hex').slice(0, length)

/** A Node of a pool, as a kubelet registers it. */
export function nodeObject(
  cluster: string,
  info: SimClusterInfo,
  pool: SimNodePool,
  name: string,
  index: number,
): Json {
  const region = info.regions[0] ?? 'eu-central-1'
  const zone = `${region}${'abc'[index % 3]}`
  const version = `v${pool.version ?? info.kubernetesVersion ?? '1.31'}.0`
  const instanceType = pool.instanceTypes[0] ?? 'm6i.large'
  const ip = `10.${parseInt(short(`${cluster}/${name}`, 4), 16) % 250}.${index % 250}.${10 + (index % 200)}`
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': instanceType,
        'topology.kubernetes.io/region': region,
        'topology.kubernetes.io/zone': zone,
        'flotilla.dev/node-pool': pool.name,
        'flotilla.dev/node-profile': pool.profile,
      },
    },
    spec: { providerID: `aws:///${zone}/i-${short(`${cluster}/${name}`, 17)}` },
    status: {
      capacity: { pods: String(MAX_PODS_PER_NODE) },
      allocatable: { pods: String(MAX_PODS_PER_NODE) },
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
      conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      ],
      nodeInfo: {
        kubeletVersion: version,
        kubeProxyVersion: version,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  }
}

/**
 * A new cluster's namespaces and nodes: `min` nodes of every pool (named `<pool>-<5 hex>`). Done
 * once — the `default` namespace marks it — so nodes deleted or added later stay as clients left them.
 */
export async function bootstrap(
  db: SimDb,
  cluster: string,
  info: SimClusterInfo,
  objects: readonly StoredObject[],
): Promise<boolean> {
  if (objects.some((o) => o.kind === 'Namespace' && o.name === 'default')) return false
  const namespaces = BUILT_IN_NAMESPACES.map((name) => ({
    kind: 'Namespace',
    namespace: undefined,
    name,
    object: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
    },
  }))
  const nodes = (info.nodePools ?? []).flatMap((pool) =>
    Array.from({ length: pool.min }, (_, index) => {
      const name = `${pool.name}-${short(`${cluster}/${pool.name}/${index}`, 5)}`
      return {
        kind: 'Node',
        namespace: undefined,
        name,
        object: nodeObject(cluster, info, pool, name, index),
      }
    }),
  )
  await insertClusterObjects(db, cluster, [...nodes, ...namespaces])
  return true
}

/** Runs the controllers once; returns the cluster's objects afterwards. */
export async function reconcileCluster(
  db: SimDb,
  cluster: string,
  info: SimClusterInfo,
  view: (objects: readonly StoredObject[]) => ClusterView,
): Promise<StoredObject[]> {
  let objects = await loadClusterObjects(db, cluster)
  if (await bootstrap(db, cluster, info, objects)) objects = await loadClusterObjects(db, cluster)
  const current = view(objects)
  const plan = planPods(current)
  if (plan.deletes.length === 0 && plan.creates.length === 0 && !hasPending(current)) return objects
  await deleteObjects(db, plan.deletes)
  const deleted = new Set(plan.deletes.map((p) => p.address))
  const remaining = objects.filter((o) => !deleted.has(o.address))
  const bindings = schedule(current, remaining, plan.creates)
  await insertClusterObjects(
    db,
    cluster,
    plan.creates.map((p) => ({ kind: 'Pod', namespace: p.namespace, name: p.name, object: p.object })),
  )
  for (const { pod, object } of bindings)
    await updateObject(db, pod, object, pod.managedFields, { bumpGeneration: false })
  return loadClusterObjects(db, cluster)
}

const hasPending = (view: ClusterView) =>
  view.ofKind('Pod').some((p) => typeof (p.object.spec as Json | undefined)?.nodeName !== 'string')

interface NewPod {
  readonly namespace: string | undefined
  readonly name: string
  object: Json
}

/** What the workload controllers and the pod garbage collector change. */
function planPods(view: ClusterView): { deletes: StoredObject[]; creates: NewPod[] } {
  const deletes: StoredObject[] = []
  const creates: NewPod[] = []
  const nodes = new Set(view.ofKind('Node').map((n) => n.name))
  const uids = new Set(view.objects.map((o) => o.uid))
  for (const pod of view.ofKind('Pod')) {
    const nodeName = (pod.object.spec as Json | undefined)?.nodeName
    const owner = controllerOf(pod)
    if ((typeof nodeName === 'string' && !nodes.has(nodeName)) || (owner && !uids.has(owner.uid)))
      deletes.push(pod)
  }
  const gone = new Set(deletes.map((d) => d.address))
  const alive = (pods: StoredObject[]) => pods.filter((p) => !gone.has(p.address))
  for (const workload of view.objects) {
    if (workload.kind === 'Deployment')
      deployment(view, workload, alive(view.podsOf(workload)), deletes, creates)
    else if (workload.kind === 'StatefulSet')
      statefulSet(workload, alive(view.podsOf(workload)), deletes, creates)
    else if (workload.kind === 'DaemonSet')
      daemonSet(view, workload, alive(view.podsOf(workload)), deletes, creates)
  }
  return { deletes, creates }
}

const labelsOf = (o: StoredObject) => ((o.object.metadata as Json | undefined)?.labels ?? {}) as Json
const replicasOf = (o: StoredObject) => {
  const replicas = (o.object.spec as Json | undefined)?.replicas
  return typeof replicas === 'number' ? replicas : 1
}

/**
 * A Deployment's pods: its template's pods up to `replicas`, all at once; the previous
 * template's pods stay until every new one is ready (a bad image therefore never takes the old
 * ones down, as with a rolling update's `maxUnavailable`).
 */
function deployment(
  view: ClusterView,
  d: StoredObject,
  pods: StoredObject[],
  deletes: StoredObject[],
  creates: NewPod[],
) {
  const hash = templateHash((d.object.spec as Json).template)
  const current = pods.filter((p) => labelsOf(p)['pod-template-hash'] === hash)
  const old = pods.filter((p) => labelsOf(p)['pod-template-hash'] !== hash)
  const replicas = replicasOf(d)
  for (let i = current.length; i < replicas; i++)
    creates.push(
      podOf(d, `${d.name}-${hash}-${short(`${d.uid}/${hash}/${Date.now()}/${Math.random()}`, 5)}`, {
        'pod-template-hash': hash,
      }),
    )
  // Scaling down removes pods that are not ready first, then the newest.
  const surplus = [...current]
    .sort(
      (a, b) =>
        Number(view.isReady(a)) - Number(view.isReady(b)) || b.createdAt.getTime() - a.createdAt.getTime(),
    )
    .slice(0, Math.max(0, current.length - replicas))
  deletes.push(...surplus)
  if (old.length > 0 && current.length >= replicas && current.every((p) => view.isReady(p)))
    deletes.push(...old)
}

/** A StatefulSet's pods `<name>-0` … `<name>-(replicas-1)`; an outdated pod is replaced at once. */
function statefulSet(s: StoredObject, pods: StoredObject[], deletes: StoredObject[], creates: NewPod[]) {
  const revision = `${s.name}-${templateHash((s.object.spec as Json).template)}`
  const replicas = replicasOf(s)
  for (const pod of pods) {
    const ordinal = Number(pod.name.slice(s.name.length + 1))
    if (ordinal >= replicas || labelsOf(pod)['controller-revision-hash'] !== revision) deletes.push(pod)
  }
  const kept = new Set(pods.filter((p) => !deletes.includes(p)).map((p) => p.name))
  for (let i = 0; i < replicas; i++) {
    const name = `${s.name}-${i}`
    if (!kept.has(name))
      creates.push(
        podOf(s, name, { 'controller-revision-hash': revision, 'statefulset.kubernetes.io/pod-name': name }),
      )
  }
}

/** A DaemonSet's pods: one on every node its nodeSelector selects, bound at once (they tolerate cordons). */
function daemonSet(
  view: ClusterView,
  s: StoredObject,
  pods: StoredObject[],
  deletes: StoredObject[],
  creates: NewPod[],
) {
  const revision = `${s.name}-${templateHash((s.object.spec as Json).template)}`
  const nodes = eligibleNodes(view, s).map((n) => n.name)
  const covered = new Set<string>()
  for (const pod of pods) {
    const nodeName = String((pod.object.spec as Json).nodeName ?? '')
    if (
      !nodes.includes(nodeName) ||
      labelsOf(pod)['controller-revision-hash'] !== revision ||
      covered.has(nodeName)
    )
      deletes.push(pod)
    else covered.add(nodeName)
  }
  for (const node of nodes) {
    if (covered.has(node)) continue
    const pod = podOf(s, `${s.name}-${short(`${s.uid}/${node}/${revision}`, 5)}`, {
      'controller-revision-hash': revision,
    })
    bind(pod.object, view.objects.find((n) => n.kind === 'Node' && n.name === node)!, view.now)
    creates.push(pod)
  }
}

function podOf(owner: StoredObject, name: string, extraLabels: Record<string, string>): NewPod {
  const template = ((owner.object.spec as Json).template ?? {}) as Json
  const templateMeta = (template.metadata ?? {}) as Json
  return {
    namespace: owner.namespace,
    name,
    object: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: owner.namespace,
        labels: { ...((templateMeta.labels ?? {}) as Json), ...extraLabels },
        ...(templateMeta.annotations ? { annotations: templateMeta.annotations } : {}),
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: owner.kind,
            name: owner.name,
            uid: owner.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: structuredClone((template.spec ?? {}) as Json),
      status: {},
    },
  }
}

function bind(pod: Json, node: StoredObject, now: Date): void {
  const hostIP = ((node.object.status as Json).addresses as { address: string }[] | undefined)?.[0]?.address
  pod.spec = { ...(pod.spec as Json), nodeName: node.name }
  const name = String((pod.metadata as Json).name)
  pod.status = {
    startTime: now.toISOString(),
    ...(hostIP ? { hostIP } : {}),
    podIP: `100.64.${parseInt(short(name, 2), 16)}.${parseInt(short(`${name}/`, 2), 16)}`,
  }
}

/** Binds pending pods (new and old) to nodes, fewest pods first; returns the old ones rebound. */
function schedule(
  view: ClusterView,
  remaining: readonly StoredObject[],
  creates: readonly NewPod[],
): { pod: StoredObject; object: Json }[] {
  const nodes = view.ofKind('Node').filter((n) => (n.object.spec as Json | undefined)?.unschedulable !== true)
  const load = new Map(nodes.map((n) => [n.name, 0]))
  const nodeOf = (o: Json) => (o.spec as Json | undefined)?.nodeName
  for (const pod of remaining)
    if (pod.kind === 'Pod') {
      const name = nodeOf(pod.object)
      if (typeof name === 'string' && load.has(name)) load.set(name, load.get(name)! + 1)
    }
  for (const pod of creates) {
    const name = nodeOf(pod.object)
    if (typeof name === 'string' && load.has(name)) load.set(name, load.get(name)! + 1)
  }
  const pick = (pod: Json): StoredObject | undefined => {
    const selector = ((pod.spec as Json | undefined)?.nodeSelector ?? {}) as Json
    const fits = nodes
      .filter((n) => load.get(n.name)! < MAX_PODS_PER_NODE)
      .filter((n) => Object.entries(selector).every(([k, v]) => labelsOf(n)[k] === v))
      .sort((a, b) => load.get(a.name)! - load.get(b.name)! || a.name.localeCompare(b.name))
    const node = fits[0]
    if (node) load.set(node.name, load.get(node.name)! + 1)
    return node
  }
  for (const pod of creates) {
    if (typeof nodeOf(pod.object) === 'string') continue
    const node = pick(pod.object)
    if (node) bind(pod.object, node, view.now)
  }
  const rebound: { pod: StoredObject; object: Json }[] = []
  for (const pod of remaining) {
    if (pod.kind !== 'Pod' || typeof nodeOf(pod.object) === 'string') continue
    const object = structuredClone(pod.object)
    const node = pick(object)
    if (!node) continue
    bind(object, node, view.now)
    rebound.push({ pod, object })
  }
  return rebound
}
