import type { Diagnostic, Location } from '../diagnostics.ts'
import type { RenderedManifest } from '../model/desired-state.ts'
import { addressParts } from '../model/plan.ts'
import type { FleetState } from '../policy/plan-context.ts'

/**
 * Namespaces every cluster has from the start and that the API server refuses to delete: objects
 * may always be rendered into them, whoever rendered (or stopped rendering) a Namespace for them.
 */
export const BUILTIN_NAMESPACES: ReadonlySet<string> = new Set([
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
])

/** The API group of an `apiVersion`: `apps` of `apps/v1`, `''` (the core group) of `v1`. */
export function apiGroupOf(apiVersion: unknown): string {
  const text = String(apiVersion)
  const slash = text.indexOf('/')
  return slash < 0 ? '' : text.slice(0, slash)
}

/** What deleting a cluster's Namespaces and CustomResourceDefinitions takes with it, base to head. */
export interface ClusterCascades {
  /** Namespace name → the Namespace's address, for namespaces of the base that the head deletes. */
  readonly namespaces: ReadonlyMap<string, string>
  /** `<group>/<Kind>` → the address of the CustomResourceDefinition that the head deletes. */
  readonly definitions: ReadonlyMap<string, string>
}

/**
 * The Namespaces and CustomResourceDefinitions of one cluster that exist in the base (rendered by
 * a revision, or observed — whoever created them) and that the head no longer renders: the plan
 * deletes them, and Kubernetes deletes with them everything in the namespace, every custom
 * resource of the definition's kind. The built-in namespaces are never deleted.
 */
export function clusterCascades(
  base: readonly RenderedManifest[],
  head: readonly RenderedManifest[],
): ClusterCascades {
  const namespaces = new Map<string, string>()
  const definitions = new Map<string, string>()
  if (base === head) return { namespaces, definitions }
  const headAddresses = new Set(head.map((m) => m.address))
  for (const manifest of base) {
    if (headAddresses.has(manifest.address)) continue
    const { object } = manifest
    if (object.kind === 'Namespace' && apiGroupOf(object.apiVersion) === '') {
      const { name } = addressParts(manifest.address)
      if (!BUILTIN_NAMESPACES.has(name)) namespaces.set(name, manifest.address)
    } else if (object.kind === 'CustomResourceDefinition') {
      const spec = object.spec as { group?: unknown; names?: { kind?: unknown } } | undefined
      if (typeof spec?.group === 'string' && typeof spec.names?.kind === 'string')
        definitions.set(`${spec.group}/${spec.names.kind}`, manifest.address)
    }
  }
  return { namespaces, definitions }
}

/**
 * Validation errors for objects the head still renders although the change deletes what they
 * live in: a Namespace of the base that no component renders any more for the cluster, or the
 * CustomResourceDefinition of their kind. Kubernetes would delete them with it (and refuse to
 * create them again into a terminating namespace), so the plan could not show the truth: the
 * change is invalid until it keeps the Namespace or definition, or stops rendering the objects.
 *
 * Namespaces that the base never had (created by someone else, or built in) are not checked:
 * manifests written by others put objects into such namespaces all the time, and Flotilla does
 * not delete what it does not have. Each problem is reported once per document, with the clusters
 * it happens in, at the document's position.
 */
export function cascadeErrors(base: FleetState, head: FleetState): Diagnostic[] {
  const problems = new Map<string, { at: Location; rule: string; message: string; targets: string[] }>()
  for (const [id, after] of head.desired) {
    if (after.target.kind !== 'cluster' || after.manifests.length === 0) continue
    const before = base.desired.get(id)
    if (!before || before.manifests.length === 0) continue
    const cascades = clusterCascades(before.manifests, after.manifests)
    if (cascades.namespaces.size === 0 && cascades.definitions.size === 0) continue
    for (const manifest of after.manifests) {
      const problem = problemOf(manifest, cascades)
      if (!problem) continue
      const at = manifest.at ?? { file: manifest.source, line: 1, col: 1 }
      const key = `${at.file}:${at.line}:${at.col}\0${problem.message}`
      const entry = problems.get(key) ?? { at, ...problem, targets: [] }
      entry.targets.push(id)
      problems.set(key, entry)
    }
  }
  return [...problems.values()].map(({ at, rule, message, targets }) => {
    const shown = `${targets.slice(0, 3).join(', ')}${targets.length > 3 ? `, … ${targets.length - 3} more` : ''}`
    return {
      ...at,
      severity: 'error',
      rule,
      message: `${message} (in ${targets.length === 1 ? 'cluster' : `${targets.length} clusters:`} ${shown})`,
    }
  })
}

function problemOf(
  manifest: RenderedManifest,
  cascades: ClusterCascades,
): { rule: string; message: string } | undefined {
  const { namespace, kind, name } = addressParts(manifest.address)
  const what = `${kind} "${name}"`
  if (cascades.namespaces.has(namespace)) {
    return {
      rule: 'namespace-removal',
      message: `${what} is still rendered into namespace "${namespace}", but no component renders the Namespace "${namespace}" any more, so the plan deletes it — and Kubernetes deletes everything in a namespace with it, this object included. Keep rendering the Namespace "${namespace}" for these clusters, or stop rendering the objects of namespace "${namespace}" (remove them, or move them to a namespace that stays) in the same change`,
    }
  }
  const definition = cascades.definitions.get(`${apiGroupOf(manifest.object.apiVersion)}/${kind}`)
  if (definition !== undefined) {
    const crd = addressParts(definition).name
    return {
      rule: 'definition-removal',
      message: `${what} (${String(manifest.object.apiVersion)}) is still rendered, but no component renders its CustomResourceDefinition "${crd}" any more, so the plan deletes it — and Kubernetes deletes every ${kind} with its definition, this object included. Keep rendering the CustomResourceDefinition "${crd}" for these clusters, or stop rendering the ${kind} objects in the same change`,
    }
  }
  return undefined
}

/**
 * The PersistentVolumeClaims that a StatefulSet's `volumeClaimTemplates` made and that Kubernetes
 * deletes because of the change, although no component renders them (the StatefulSet controller
 * creates them, `<template>-<statefulset>-<ordinal>`): all of them when the StatefulSet's
 * namespace is deleted; when the StatefulSet is deleted, or scaled down, and its
 * `persistentVolumeClaimRetentionPolicy` says `Delete` for that. Claims the base already has (seen
 * in the cluster) are left to the diff. The count comes from `replicas` in the base: the claims of
 * a StatefulSet someone scaled by hand may differ, which the approval of the namespace covers.
 */
export function claimsDeletedWith(
  base: readonly RenderedManifest[],
  head: readonly RenderedManifest[],
  cascades: ClusterCascades = clusterCascades(base, head),
): RenderedManifest[] {
  if (base === head) return []
  const baseAddresses = new Set(base.map((m) => m.address))
  const headByAddress = new Map(head.map((m) => [m.address, m]))
  const out: RenderedManifest[] = []
  for (const manifest of base) {
    if (manifest.object.kind !== 'StatefulSet' || apiGroupOf(manifest.object.apiVersion) !== 'apps') continue
    const spec = record(manifest.object.spec)
    const templates = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates.map(record) : []
    if (templates.length === 0) continue
    const { namespace, name } = addressParts(manifest.address)
    const policy = record(spec.persistentVolumeClaimRetentionPolicy)
    const after = headByAddress.get(manifest.address)
    const first = ordinalStart(spec)
    const replicas = replicasOf(spec)
    let from: number
    if (cascades.namespaces.has(namespace)) from = 0
    else if (!after) from = policy.whenDeleted === 'Delete' ? 0 : replicas
    else {
      const afterSpec = record(after.object.spec)
      // Either side's policy may be in force when the controller scales down: fail closed.
      const deletes =
        policy.whenScaled === 'Delete' ||
        record(afterSpec.persistentVolumeClaimRetentionPolicy).whenScaled === 'Delete'
      from = deletes ? Math.min(replicas, replicasOf(afterSpec)) : replicas
    }
    const cluster = manifest.address.slice(
      0,
      manifest.address.length - `${namespace}/StatefulSet/${name}`.length,
    )
    for (let i = from; i < replicas; i++) {
      for (const template of templates) {
        const templateName = record(template.metadata).name
        if (typeof templateName !== 'string') continue
        const claim = `${templateName}-${name}-${first + i}`
        const address = `${cluster}${namespace}/PersistentVolumeClaim/${claim}`
        if (baseAddresses.has(address)) continue
        out.push({
          address,
          component: manifest.component,
          source: manifest.source,
          ...(manifest.at ? { at: manifest.at } : {}),
          object: {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: { name: claim, namespace },
            ...(template.spec === undefined ? {} : { spec: template.spec }),
          },
        })
      }
    }
  }
  return out
}

/** `spec.replicas` as Kubernetes reads it: 1 when absent; a rendered number-like string counts. */
function replicasOf(spec: Record<string, unknown>): number {
  if (spec.replicas === undefined || spec.replicas === null) return 1
  const n = Number(spec.replicas)
  // Not a count Flotilla can read: at least the first claim is there, and the Namespace's approval covers the rest.
  return Number.isInteger(n) && n >= 0 ? n : 1
}

function ordinalStart(spec: Record<string, unknown>): number {
  const start = Number(record(spec.ordinals).start ?? 0)
  return Number.isInteger(start) && start >= 0 ? start : 0
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}
