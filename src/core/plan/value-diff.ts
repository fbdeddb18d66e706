import { isDeepStrictEqual } from 'node:util'

/** A path into a value: object keys and array indexes. */
export type DiffPath = readonly (string | number)[]

/** A leaf-level difference between two values. `undefined` means absent. */
export interface ValueDifference {
  readonly path: DiffPath
  readonly before: unknown
  readonly after: unknown
}

/**
 * The differences between two JSON-like values, at the deepest level where they differ:
 * mappings key by key, lists index by index; a change of kind (string to list, say) is one
 * difference at that path. Keys are visited in a stable order, so the result is deterministic.
 */
export function diffValues(
  before: unknown,
  after: unknown,
  path: (string | number)[] = [],
): ValueDifference[] {
  const out: ValueDifference[] = []
  walk(before, after, path, out)
  return out
}

/**
 * CloudFormation intrinsic functions (`{ "Ref": … }`, `{ "Fn::Sub": … }`) are compared as a whole:
 * `!Ref DomainName` becoming `!Sub "*.${DomainName}"` is one change of `DomainName`, not a removed
 * `Ref` and an added `Fn::Sub`.
 */
function isIntrinsic(value: unknown): boolean {
  if (!isPlainObject(value)) return false
  const keys = Object.keys(value)
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || keys[0]!.startsWith('Fn::'))
}

function walk(before: unknown, after: unknown, path: (string | number)[], out: ValueDifference[]): void {
  if (before === after) return
  if (isPlainObject(before) && isPlainObject(after) && !isIntrinsic(before) && !isIntrinsic(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)])
    for (const key of [...keys].sort()) {
      path.push(key)
      walk(
        Object.hasOwn(before, key) ? before[key] : undefined,
        Object.hasOwn(after, key) ? after[key] : undefined,
        path,
        out,
      )
      path.pop()
    }
    return
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const length = Math.max(before.length, after.length)
    for (let i = 0; i < length; i++) {
      path.push(i)
      walk(before[i], after[i], path, out)
      path.pop()
    }
    return
  }
  if (isDeepStrictEqual(before, after)) return
  out.push({ path: [...path], before, after })
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/**
 * Formats a path the way people read it: `Tags[0].Value`, and keys that are not identifiers in
 * brackets (`metadata.labels["app.kubernetes.io/name"]`).
 */
export function formatPath(path: DiffPath): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else if (/^[A-Za-z_$][\w$:-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`
    else out += `[${JSON.stringify(segment)}]`
  }
  return out
}
