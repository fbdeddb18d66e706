import type { RenderedManifest } from '../model/desired-state.ts'
import type { Change, PropertyChange } from '../model/plan.ts'
import { kubernetesReplacement } from '../resource-types/kubernetes.ts'
import { claimsDeletedWith } from './kubernetes-cascades.ts'
import { diffValues, formatPath } from './value-diff.ts'

/**
 * Diffs one cluster's Kubernetes objects, base against head, by address. An object no longer
 * rendered is a `delete` (Flotilla prunes what it applied); a change to an immutable field (a
 * Deployment's selector, a PVC's storage class) is a `replace`, because the API server refuses
 * it in place. What Kubernetes deletes by itself because of a deletion is a `delete` too: the
 * claims a StatefulSet's `volumeClaimTemplates` made, when its namespace goes (or it goes, or
 * scales down, with a retention policy of `Delete`) — see {@link claimsDeletedWith}.
 */
export function diffManifests(
  base: readonly RenderedManifest[],
  head: readonly RenderedManifest[],
  isProtected: (type: string) => boolean,
): Change[] {
  // The same rendering on both sides (reused by the load cache) cannot differ.
  if (base === head) return []
  const baseByAddress = new Map(base.map((m) => [m.address, m]))
  const headAddresses = new Set(head.map((m) => m.address))
  const changes: Change[] = []
  for (const after of head) {
    const change = diffObject(baseByAddress.get(after.address), after, isProtected)
    if (change) changes.push(change)
  }
  for (const before of base) {
    if (!headAddresses.has(before.address)) changes.push(diffObject(before, undefined, isProtected)!)
  }
  for (const claim of claimsDeletedWith(base, head)) changes.push(diffObject(claim, undefined, isProtected)!)
  return changes.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
}

function diffObject(
  before: RenderedManifest | undefined,
  after: RenderedManifest | undefined,
  isProtected: (type: string) => boolean,
): Change | undefined {
  if (before === after) return undefined
  const object = (after ?? before)!.object
  const kind = String(object.kind)
  const type = `${String(object.apiVersion)}/${kind}`
  const base = { address: (after ?? before)!.address, type, protected: isProtected(type) }
  if (!before || !after) {
    const properties = Object.entries(object)
      .filter(([key]) => key !== 'apiVersion' && key !== 'kind')
      .map(([key, value]) => property([key], before ? value : undefined, before ? undefined : value, false))
    return { ...base, action: before ? 'delete' : 'create', properties }
  }
  const properties = diffValues(before.object, after.object).map((d) =>
    // The API server judges a change by the stored object (its immutable flag, its apiVersion).
    property(d.path, d.before, d.after, kubernetesReplacement(kind, before.object, d.path.map(String))),
  )
  if (properties.length === 0) return undefined
  const replaces = properties.some((p) => p.forcesReplacement === true)
  const mayReplace = !replaces && properties.some((p) => p.forcesReplacement !== false)
  return {
    ...base,
    action: replaces ? 'replace' : 'update',
    ...(mayReplace ? { mayReplace } : {}),
    properties,
  }
}

function property(
  path: readonly (string | number)[],
  before: unknown,
  after: unknown,
  forcesReplacement: PropertyChange['forcesReplacement'],
): PropertyChange {
  return { path: formatPath(path), before: before ?? null, after: after ?? null, forcesReplacement }
}
