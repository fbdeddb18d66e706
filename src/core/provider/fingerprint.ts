import { createHash } from 'node:crypto'
import type { RenderedManifest, RenderedStack } from '../model/desired-state.ts'
import { toLongForm } from '../yaml/cfn-tags.ts'

/**
 * JSON with object keys sorted at every level, so equal values give equal text whatever order
 * their keys were written in (a template re-read from a provider comes back in its own order).
 */
export function canonicalJson(value: unknown): string {
  return appendCanonical('', value)
}

// One string grown by appending (V8 joins the pieces lazily) instead of an array of entries,
// a sorted copy and a joined string per object: fingerprints are taken of every stack and object
// of the fleet each time it is observed, and the intermediate arrays were most of a drill's
// allocations.
function appendCanonical(out: string, value: unknown): string {
  if (value === null || typeof value !== 'object') return out + (JSON.stringify(value) ?? 'null')
  if (Array.isArray(value)) {
    out += '['
    for (let index = 0; index < value.length; index++) {
      if (index > 0) out += ','
      out = appendCanonical(out, value[index])
    }
    return `${out}]`
  }
  const record = value as Record<string, unknown>
  // The default sort compares UTF-16 code units, as `<` does.
  const keys = Object.keys(record).sort()
  out += '{'
  let first = true
  for (const key of keys) {
    const item = record[key]
    if (item === undefined) continue
    if (!first) out += ','
    first = false
    out = appendCanonical(`${out}${JSON.stringify(key)}:`, item)
  }
  return `${out}}`
}

function digest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url').slice(0, 22)
}

/** What a stack amounts to: its long-form template and parameters, as a short digest. */
export function stackFingerprint(stack: Pick<RenderedStack, 'template' | 'parameters'>): string {
  return digest({ template: toLongForm(stack.template), parameters: stack.parameters })
}

/** What an object amounts to, as a short digest. */
export function manifestFingerprint(manifest: Pick<RenderedManifest, 'object'>): string {
  return digest(manifest.object)
}

/** Fingerprints of everything a target has, by address: what drift is measured against. */
export function fingerprintsOf(state: {
  readonly stacks: readonly RenderedStack[]
  readonly manifests: readonly RenderedManifest[]
}): Record<string, string> {
  const out: Record<string, string> = {}
  for (const stack of state.stacks) out[stack.address] = stackFingerprint(stack)
  for (const manifest of state.manifests) out[manifest.address] = manifestFingerprint(manifest)
  return out
}

/** Addresses whose fingerprints differ between two sets (present in one only, or changed), sorted. */
export function differingAddresses(
  expected: Readonly<Record<string, string>>,
  actual: Readonly<Record<string, string>>,
): string[] {
  const out = new Set<string>()
  for (const [address, print] of Object.entries(expected)) if (actual[address] !== print) out.add(address)
  for (const address of Object.keys(actual)) if (!(address in expected)) out.add(address)
  return [...out].sort()
}
