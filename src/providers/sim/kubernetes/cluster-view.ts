/**
 * One simulated cluster at one moment, as its controllers and kubelets would report it: a Pod is
 * ready once its node has pulled its images and started it (after its workload kind's delay at
 * the simulator's latency scale), never when the registry lacks an image; workloads, budgets,
 * nodes and namespaces get their `status` from their pods. Status is derived on every read, never
 * stored, so it settles with time alone, as real controllers' status does.
 */
import { objectReadyMs } from '../latency.ts'
import type { StoredObject } from './cluster-objects.ts'
import type { ImageRegistry } from './image-registry.ts'
import { matchesLabels, selectorRequirements } from './selectors.ts'

type Json = Record<string, unknown>

/** A pod's state as its kubelet sees it. */
export interface PodState {
  readonly phase: 'Pending' | 'Running'
  readonly ready: boolean
  /** Why a container waits: `ContainerCreating`, `ImagePullBackOff`; undefined when running or unscheduled. */
  readonly waiting: { readonly reason: string; readonly message: string } | undefined
}

const meta = (o: Json) => (o.metadata ?? {}) as Json
const specOf = (o: Json) => (o.spec ?? {}) as Json

/** The images of a pod spec (init containers and containers). */
export function podImages(spec: Json): string[] {
  const containers = [...((spec.initContainers ?? []) as Json[]), ...((spec.containers ?? []) as Json[])]
  return containers.map((c) => String(c.image ?? ''))
}

/** `maxUnavailable`/`minAvailable` as a count of `total`: an int, or a percentage rounded as Kubernetes does. */
export function scaledValue(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value
  const percent = /^(\d+)%$/.exec(String(value ?? ''))
  if (!percent) return 0
  const exact = (Number(percent[1]) * total) / 100
  return roundUp ? Math.ceil(exact) : Math.floor(exact)
}

/** The objects of one cluster, with what time and the registry make of them. */
export class ClusterView {
  readonly objects: readonly StoredObject[]
  readonly now: Date
  private readonly scale: number
  readonly registry: ImageRegistry

  constructor(objects: readonly StoredObject[], now: Date, scale: number, registry: ImageRegistry) {
    this.objects = objects
    this.now = now
    this.scale = scale
    this.registry = registry
  }

  ofKind(kind: string): StoredObject[] {
    return this.objects.filter((o) => o.kind === kind)
  }

  /** Pods whose controller is the workload. */
  podsOf(workload: StoredObject): StoredObject[] {
    return this.ofKind('Pod').filter((pod) => controllerOf(pod)?.uid === workload.uid)
  }

  /** What the pod's kubelet reports. */
  podState(pod: StoredObject): PodState {
    const spec = specOf(pod.object)
    const startTime = (pod.object.status as Json | undefined)?.startTime
    if (typeof spec.nodeName !== 'string' || typeof startTime !== 'string')
      return { phase: 'Pending', ready: false, waiting: undefined }
    const missing = podImages(spec).find((image) => !this.registry.has(image))
    if (missing !== undefined)
      return {
        phase: 'Pending',
        ready: false,
        waiting: {
          reason: 'ImagePullBackOff',
          message: `Back-off pulling image "${missing}": the simulated registry does not have it (flotilla sim image --add ${missing} pushes it)`,
        },
      }
    const delay = objectReadyMs(controllerOf(pod)?.kind ?? 'Pod', this.scale)
    if (Date.parse(startTime) + delay > this.now.getTime())
      return { phase: 'Pending', ready: false, waiting: { reason: 'ContainerCreating', message: '' } }
    return { phase: 'Running', ready: true, waiting: undefined }
  }

  isReady(pod: StoredObject): boolean {
    return this.podState(pod).ready
  }

  /** The pods a selector selects in a namespace. */
  selectPods(namespace: string | undefined, selector: unknown): StoredObject[] {
    const requirements = selectorRequirements(selector)
    return this.ofKind('Pod').filter(
      (pod) => pod.namespace === namespace && matchesLabels(requirements, meta(pod.object).labels as Json),
    )
  }

  /** The status the object's controller (or kubelet) reports; undefined for kinds without one. */
  statusOf(stored: StoredObject): Json | undefined {
    switch (stored.kind) {
      case 'Pod':
        return this.podStatus(stored)
      case 'Deployment':
        return this.deploymentStatus(stored)
      case 'StatefulSet':
        return this.statefulSetStatus(stored)
      case 'DaemonSet':
        return this.daemonSetStatus(stored)
      case 'PodDisruptionBudget':
        return { ...budgetOf(this, stored), observedGeneration: stored.generation }
      case 'Node':
        return stored.object.status as Json
      case 'Namespace':
        return { phase: 'Active' }
      default:
        return undefined
    }
  }

  private podStatus(pod: StoredObject): Json {
    const state = this.podState(pod)
    const stored = (pod.object.status ?? {}) as Json
    const spec = specOf(pod.object)
    const scheduled = typeof spec.nodeName === 'string'
    const condition = (type: string, ok: boolean, reason?: string, message?: string) => ({
      type,
      status: ok ? 'True' : 'False',
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
    })
    const containers = ((spec.containers ?? []) as Json[]).map((c) => ({
      name: c.name,
      image: c.image,
      ready: state.ready,
      started: state.ready,
      restartCount: 0,
      state: state.ready
        ? { running: { startedAt: stored.startTime } }
        : { waiting: state.waiting ?? { reason: 'ContainerCreating' } },
    }))
    return {
      phase: state.phase,
      ...(scheduled ? { startTime: stored.startTime, hostIP: stored.hostIP, podIP: stored.podIP } : {}),
      conditions: scheduled
        ? [
            condition('PodScheduled', true),
            condition('Initialized', true),
            condition('ContainersReady', state.ready, state.ready ? undefined : 'ContainersNotReady'),
            condition('Ready', state.ready, state.ready ? undefined : 'ContainersNotReady'),
          ]
        : [
            condition(
              'PodScheduled',
              false,
              'Unschedulable',
              `0/${this.ofKind('Node').length} nodes are available: no node is schedulable, matches the pod's nodeSelector and has room`,
            ),
          ],
      ...(scheduled ? { containerStatuses: containers } : {}),
    }
  }

  private deploymentStatus(deployment: StoredObject): Json {
    const spec = specOf(deployment.object)
    const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1
    const hash = templateHash(spec.template)
    const pods = this.podsOf(deployment)
    const updated = pods.filter(
      (p) => meta(p.object).labels && (meta(p.object).labels as Json)['pod-template-hash'] === hash,
    )
    const ready = pods.filter((p) => this.isReady(p)).length
    const maxUnavailable = scaledValue(
      ((spec.strategy as Json | undefined)?.rollingUpdate as Json | undefined)?.maxUnavailable ?? '25%',
      replicas,
      false,
    )
    const available = ready >= replicas - maxUnavailable
    const complete =
      updated.length === replicas && pods.length === replicas && updated.every((p) => this.isReady(p))
    const pulling = updated.map((p) => this.podState(p).waiting).find((w) => w?.reason === 'ImagePullBackOff')
    const deadlineMs = Number(spec.progressDeadlineSeconds ?? 600) * 1000 * this.scale
    const newest = Math.max(0, ...updated.map((p) => p.createdAt.getTime()))
    const stalled = !complete && pulling !== undefined && this.now.getTime() >= newest + deadlineMs
    const at = this.now.toISOString()
    return {
      observedGeneration: deployment.generation,
      replicas: pods.length,
      updatedReplicas: updated.length,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(0, replicas - ready),
      conditions: [
        {
          type: 'Available',
          status: available ? 'True' : 'False',
          reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message: available
            ? 'Deployment has minimum availability.'
            : 'Deployment does not have minimum availability.',
          lastUpdateTime: at,
          lastTransitionTime: at,
        },
        {
          type: 'Progressing',
          status: stalled ? 'False' : 'True',
          reason: stalled
            ? 'ProgressDeadlineExceeded'
            : complete
              ? 'NewReplicaSetAvailable'
              : 'ReplicaSetUpdated',
          message: stalled
            ? `ReplicaSet "${deployment.name}-${hash}" has timed out progressing: ${pulling.message}`
            : complete
              ? `ReplicaSet "${deployment.name}-${hash}" has successfully progressed.`
              : `ReplicaSet "${deployment.name}-${hash}" is progressing.`,
          lastUpdateTime: at,
          lastTransitionTime: at,
        },
      ],
    }
  }

  private statefulSetStatus(set: StoredObject): Json {
    const spec = specOf(set.object)
    const hash = templateHash(spec.template)
    const pods = this.podsOf(set)
    const updated = pods.filter(
      (p) =>
        (meta(p.object).labels as Json | undefined)?.['controller-revision-hash'] === `${set.name}-${hash}`,
    )
    const ready = pods.filter((p) => this.isReady(p)).length
    return {
      observedGeneration: set.generation,
      replicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: updated.length,
      updatedReplicas: updated.length,
      currentRevision: `${set.name}-${hash}`,
      updateRevision: `${set.name}-${hash}`,
    }
  }

  private daemonSetStatus(set: StoredObject): Json {
    const spec = specOf(set.object)
    const hash = templateHash(spec.template)
    const pods = this.podsOf(set)
    const ready = pods.filter((p) => this.isReady(p)).length
    const desired = eligibleNodes(this, set).length
    return {
      observedGeneration: set.generation,
      desiredNumberScheduled: desired,
      currentNumberScheduled: pods.length,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      numberUnavailable: Math.max(0, desired - ready),
      updatedNumberScheduled: pods.filter(
        (p) =>
          (meta(p.object).labels as Json | undefined)?.['controller-revision-hash'] === `${set.name}-${hash}`,
      ).length,
    }
  }
}

/** The controller owner reference of an object, if any. */
export function controllerOf(object: StoredObject): { kind: string; name: string; uid: string } | undefined {
  const refs = (meta(object.object).ownerReferences ?? []) as {
    kind: string
    name: string
    uid: string
    controller?: boolean
  }[]
  return refs.find((r) => r.controller)
}

/** A short, stable digest of a pod template (`pod-template-hash`). */
export function templateHash(template: unknown): string {
  let h = 2166136261
  const text = JSON.stringify(template ?? {})
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return (h >>> 0).toString(36).padStart(7, '0').slice(0, 10)
}

/** Nodes a DaemonSet runs on: those its pod template's nodeSelector selects. */
export function eligibleNodes(view: ClusterView, set: StoredObject): StoredObject[] {
  const selector = (specOf((specOf(set.object).template ?? {}) as Json).nodeSelector ?? {}) as Json
  return view.ofKind('Node').filter((node) => {
    const labels = (meta(node.object).labels ?? {}) as Json
    return Object.entries(selector).every(([k, v]) => labels[k] === v)
  })
}

/** A PodDisruptionBudget's numbers, as its status reports them and eviction checks them. */
export interface Budget {
  readonly currentHealthy: number
  readonly desiredHealthy: number
  readonly disruptionsAllowed: number
  readonly expectedPods: number
}

/** How many pods a budget covers, how many are healthy and how many may go now. */
export function budgetOf(view: ClusterView, pdb: StoredObject): Budget {
  const spec = specOf(pdb.object)
  const pods = view.selectPods(pdb.namespace, spec.selector)
  // Expected: the scale of the pods' controllers, as the disruption controller counts it.
  const owners = new Map<string, number>()
  for (const pod of pods) {
    const owner = controllerOf(pod)
    const workload = owner && view.objects.find((o) => o.uid === owner.uid)
    if (workload && workload.kind !== 'DaemonSet')
      owners.set(workload.uid, Number(specOf(workload.object).replicas ?? 1))
  }
  const expectedPods = owners.size > 0 ? [...owners.values()].reduce((a, b) => a + b, 0) : pods.length
  const currentHealthy = pods.filter((p) => view.isReady(p)).length
  const desiredHealthy =
    spec.minAvailable !== undefined
      ? scaledValue(spec.minAvailable, expectedPods, true)
      : Math.max(0, expectedPods - scaledValue(spec.maxUnavailable ?? 0, expectedPods, true))
  return {
    currentHealthy,
    desiredHealthy,
    expectedPods,
    disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy),
  }
}
