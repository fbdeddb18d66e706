/**
 * Field ownership for server-side apply (`metadata.managedFields`). The granularity: a field is
 * a path through nested maps down to a value that is not a map — a scalar or a list — so
 * `.spec.replicas` and `.metadata.labels.app` are fields, and a list (`.spec.template.spec.containers`)
 * is one atomic field, owned and replaced whole. Kubernetes merges some lists by key
 * (containers by `name`); the simulation does not, so two managers setting different containers
 * of one list conflict here where Kubernetes would let them share it.
 */
import { canonicalJson } from '../../../core/provider/fingerprint.ts'
import { KubeError, type StatusCause } from './kube-errors.ts'

/** One entry of `metadata.managedFields`, in the API's own shape (`FieldsV1`). */
export interface ManagedFieldsEntry {
  readonly manager: string
  readonly operation: 'Apply' | 'Update'
  readonly apiVersion: string
  readonly time: string
  readonly fieldsType: 'FieldsV1'
  readonly fieldsV1: Record<string, unknown>
}

type Json = Record<string, unknown>
type Path = readonly string[]

/** Fields nobody owns: identity, server-set metadata and status. */
const UNOWNED_TOP = new Set(['apiVersion', 'kind', 'status'])
const UNOWNED_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'deletionTimestamp',
  'selfLink',
])

const isMap = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The fields an object sets (see the module's note on granularity). */
export function fieldPaths(object: Json): Path[] {
  const out: Path[] = []
  const walk = (value: unknown, path: string[]) => {
    if (isMap(value) && Object.keys(value).length > 0) {
      for (const [key, child] of Object.entries(value)) {
        if (path.length === 0 && UNOWNED_TOP.has(key)) continue
        if (path.length === 1 && path[0] === 'metadata' && UNOWNED_METADATA.has(key)) continue
        walk(child, [...path, key])
      }
    } else if (path.length > 0 && value !== undefined) out.push(path)
  }
  walk(object, [])
  return out
}

/** `.spec.replicas`, as conflicts name fields. */
export function pathText(path: Path): string {
  return path.map((key) => (/^[A-Za-z0-9_-]+$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`)).join('')
}

function toFieldsV1(paths: readonly Path[]): Json {
  const root: Json = {}
  for (const path of paths) {
    let at = root
    for (const key of path) {
      const name = `f:${key}`
      at[name] ??= {}
      at = at[name] as Json
    }
  }
  return root
}

/** The fields of an entry (its leaves). */
export function entryPaths(entry: ManagedFieldsEntry): Path[] {
  const out: Path[] = []
  const walk = (node: Json, path: string[]) => {
    const children = Object.keys(node).filter((k) => k.startsWith('f:'))
    if (children.length === 0 && path.length > 0) out.push(path)
    for (const key of children) walk(node[key] as Json, [...path, key.slice(2)])
  }
  walk(entry.fieldsV1, [])
  return out
}

function valueAt(object: unknown, path: Path): unknown {
  let at = object
  for (const key of path) at = isMap(at) ? at[key] : undefined
  return at
}

function setAt(object: Json, path: Path, value: unknown): void {
  let at = object
  for (const key of path.slice(0, -1)) {
    if (!isMap(at[key])) at[key] = {}
    at = at[key] as Json
  }
  at[path.at(-1)!] = structuredClone(value)
}

function removeAt(object: Json, path: Path): void {
  const parents: Json[] = []
  let at: unknown = object
  for (const key of path.slice(0, -1)) {
    if (!isMap(at)) return
    parents.push(at)
    at = at[key]
  }
  if (!isMap(at)) return
  delete at[path.at(-1)!]
  // Maps emptied by the removal go too, as they would from the applier's own object.
  for (let i = parents.length - 1; i >= 0; i--) {
    const child = parents[i]![path[i]!]
    if (isMap(child) && Object.keys(child).length === 0) delete parents[i]![path[i]!]
  }
}

/** Whether one path is the other or contains it. */
const overlaps = (a: Path, b: Path) => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false
  return true
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b)

const key = (path: Path) => JSON.stringify(path)

function entry(
  manager: string,
  operation: 'Apply' | 'Update',
  apiVersion: string,
  time: Date,
  paths: readonly Path[],
): ManagedFieldsEntry {
  return {
    manager,
    operation,
    apiVersion,
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(paths),
  }
}

/** What a server-side apply request makes of an object. */
export interface ApplyRequest {
  /** The object as stored (without server metadata); undefined when it does not exist yet. */
  readonly current: Json | undefined
  readonly managedFields: readonly ManagedFieldsEntry[]
  /** The applier's configuration: every field it wants to own. */
  readonly applied: Json
  readonly manager: string
  readonly force: boolean
  readonly apiVersion: string
  readonly now: Date
  /** For the conflict's message: `deployments.apps "web"`. */
  readonly describe: string
}

/**
 * Server-side apply: the applied fields are set and owned by the manager; fields it owned before
 * and no longer applies are removed unless someone else owns them too. A field another manager
 * owns with a different value is a conflict (409 Conflict, naming the fields and the managers)
 * unless `force`, which takes the field over.
 */
export function serverSideApply(request: ApplyRequest): {
  object: Json
  managedFields: ManagedFieldsEntry[]
} {
  const { current, applied, manager } = request
  const appliedPaths = fieldPaths(applied)
  const isMine = (e: ManagedFieldsEntry) => e.manager === manager && e.operation === 'Apply'
  const others = request.managedFields.filter((e) => !isMine(e))
  const conflicts: { manager: string; apiVersion: string; path: Path }[] = []
  const othersPaths = others.map((e) => ({ entry: e, paths: entryPaths(e) }))
  for (const other of othersPaths) {
    for (const owned of other.paths) {
      const clash = appliedPaths.find(
        (p) => overlaps(p, owned) && !same(valueAt(current, owned), valueAt(applied, owned)),
      )
      if (clash)
        conflicts.push({ manager: other.entry.manager, apiVersion: other.entry.apiVersion, path: owned })
    }
  }
  if (conflicts.length > 0 && !request.force) {
    const causes: StatusCause[] = conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${c.manager}" using ${c.apiVersion}`,
      field: pathText(c.path),
    }))
    const n = conflicts.length
    throw new KubeError(
      409,
      'Conflict',
      `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${causes.map((c) => `${c.message}: ${c.field}`).join(', ')} (${request.describe}); apply with force=true to take the field${n === 1 ? '' : 's'} over, or stop applying ${n === 1 ? 'it' : 'them'}`,
      { causes },
    )
  }
  const taken = new Set(conflicts.map((c) => key(c.path)))
  const remaining = othersPaths.map(({ entry: e, paths }) => ({
    entry: e,
    paths: paths.filter((p) => !taken.has(key(p))),
  }))
  const object: Json = structuredClone(current ?? {})
  const mine = request.managedFields.find(isMine)
  const stillApplied = new Set(appliedPaths.map(key))
  for (const dropped of mine ? entryPaths(mine) : []) {
    if (stillApplied.has(key(dropped))) continue
    if (remaining.some((r) => r.paths.some((p) => overlaps(p, dropped)))) continue
    removeAt(object, dropped)
  }
  for (const path of appliedPaths) setAt(object, path, valueAt(applied, path))
  for (const field of ['apiVersion', 'kind']) object[field] = applied[field]
  const metadata = (object.metadata ?? {}) as Json
  const appliedMetadata = (applied.metadata ?? {}) as Json
  object.metadata = {
    ...metadata,
    name: appliedMetadata.name,
    ...(appliedMetadata.namespace !== undefined ? { namespace: appliedMetadata.namespace } : {}),
  }
  const managedFields = [
    ...remaining
      .filter((r) => r.paths.length > 0)
      .map((r) => ({ ...r.entry, fieldsV1: toFieldsV1(r.paths) })),
    entry(manager, 'Apply', request.apiVersion, request.now, appliedPaths),
  ]
  return { object, managedFields }
}

/**
 * Ownership after a write that is not an apply (create, update, a merge patch): the manager owns
 * every field it changed (`Update`), others lose those and any that no longer exist.
 */
export function updateManagedFields(
  before: Json | undefined,
  after: Json,
  managedFields: readonly ManagedFieldsEntry[],
  manager: string,
  apiVersion: string,
  now: Date,
): ManagedFieldsEntry[] {
  const afterPaths = fieldPaths(after)
  const present = new Set(afterPaths.map(key))
  const changed = afterPaths.filter(
    (p) => before === undefined || !same(valueAt(before, p), valueAt(after, p)),
  )
  const changedKeys = new Set(changed.map(key))
  const isMine = (e: ManagedFieldsEntry) => e.manager === manager && e.operation === 'Update'
  const mine = managedFields.find(isMine)
  const minePaths = [
    ...(mine ? entryPaths(mine) : []).filter((p) => present.has(key(p)) && !changedKeys.has(key(p))),
    ...changed,
  ]
  const others = managedFields
    .filter((e) => !isMine(e))
    .map((e) => ({
      e,
      paths: entryPaths(e).filter((p) => present.has(key(p)) && !changed.some((c) => overlaps(c, p))),
    }))
    .filter((o) => o.paths.length > 0)
    .map((o) => ({ ...o.e, fieldsV1: toFieldsV1(o.paths) }))
  return minePaths.length > 0 ? [...others, entry(manager, 'Update', apiVersion, now, minePaths)] : others
}

/** Ownership of an object Flotilla's `sim` provider writes whole: `flotilla` applied every field. */
export function appliedByFlotilla(object: Json, now: Date): ManagedFieldsEntry[] {
  return [entry('flotilla', 'Apply', String(object.apiVersion ?? 'v1'), now, fieldPaths(object))]
}
