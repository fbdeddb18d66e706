/**
 * Whether a workload (Deployment, StatefulSet, DaemonSet) has rolled out, from its status and its
 * pods, as `kubectl rollout status` judges it — and, unlike it, failing at once on an image that
 * cannot be pulled instead of waiting for the progress deadline.
 */
import type { KubeObject } from './cluster-client.ts'

/** The kinds whose rollout `settled` and `health` follow. */
export const WORKLOAD_KINDS: readonly { readonly apiVersion: string; readonly kind: string }[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet' },
]

/** Where a workload's rollout is. */
export interface WorkloadState {
  /** `ready`: updated and available; `rolling`: still changing; `failed`: it will not get there. */
  readonly state: 'ready' | 'rolling' | 'failed'
  /** `Available`, `Progressing`, `ImagePullBackOff`, `ProgressDeadlineExceeded`, … */
  readonly status: string
  /** One line for people. */
  readonly reason: string
}

/** Container waiting reasons that mean an image will not be pulled without a change. */
const BAD_IMAGE = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'ErrImageNeverPull'])

type Json = Record<string, unknown>
const record = (value: unknown): Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {}
const count = (value: unknown): number => (typeof value === 'number' ? value : 0)

/** The label selector of a workload's pods (`matchLabels` only), as a query string. */
export function podSelectorOf(workload: KubeObject): string | undefined {
  const labels = record(record(record(workload.spec).selector).matchLabels)
  const terms = Object.entries(labels).map(([key, value]) => `${key}=${String(value)}`)
  return terms.length > 0 ? terms.join(',') : undefined
}

/** A pod of `pods` that waits for an image it cannot pull: which image, and why. */
function unpullable(
  pods: readonly KubeObject[],
): { image: string; why: string; message: string } | undefined {
  for (const pod of pods) {
    const statuses = [
      ...((record(pod.status).initContainerStatuses as Json[] | undefined) ?? []),
      ...((record(pod.status).containerStatuses as Json[] | undefined) ?? []),
    ]
    for (const status of statuses) {
      const waiting = record(record(status.state).waiting)
      const why = String(waiting.reason ?? '')
      if (!BAD_IMAGE.has(why)) continue
      const message = String(waiting.message ?? '')
      // The kubelet names the image it failed on; each container status names its own.
      const image = /image "([^"]+)"/.exec(message)?.[1] ?? String(status.image ?? 'unknown')
      return { image, why, message }
    }
  }
  return undefined
}

/**
 * The rollout state of a workload. `pods` are the pods its selector selects in its namespace
 * (only consulted for images that cannot be pulled).
 */
export function workloadState(workload: KubeObject, pods: readonly KubeObject[]): WorkloadState {
  const spec = record(workload.spec)
  const status = record(workload.status)
  const generation = count(record(workload.metadata).generation)
  const pulling = unpullable(pods)
  if (pulling)
    return {
      state: 'failed',
      status: pulling.why,
      reason: `image ${pulling.image} cannot be pulled (${pulling.why})${pulling.message ? `: ${pulling.message}` : ''}`,
    }
  const stalled = ((status.conditions as Json[] | undefined) ?? []).find(
    (c) => c.type === 'Progressing' && c.status === 'False',
  )
  if (stalled)
    return {
      state: 'failed',
      status: String(stalled.reason ?? 'Progressing'),
      reason: String(stalled.message ?? stalled.reason ?? 'the rollout stopped progressing'),
    }
  if (count(status.observedGeneration) < generation)
    return { state: 'rolling', status: 'Progressing', reason: 'the controller has not seen the change yet' }
  const [wanted, updated, available] =
    workload.kind === 'DaemonSet'
      ? [
          count(status.desiredNumberScheduled),
          count(status.updatedNumberScheduled),
          count(status.numberAvailable),
        ]
      : [
          typeof spec.replicas === 'number' ? spec.replicas : 1,
          count(status.updatedReplicas),
          count(workload.kind === 'StatefulSet' ? status.readyReplicas : status.availableReplicas),
        ]
  if (updated < wanted)
    return { state: 'rolling', status: 'Progressing', reason: `${updated} of ${wanted} pods updated` }
  if (available < wanted)
    return { state: 'rolling', status: 'Progressing', reason: `${available} of ${wanted} pods available` }
  return { state: 'ready', status: 'Available', reason: `${available} of ${wanted} pods available` }
}
