import { z } from 'zod'
import type { DiagnosticSink } from '../diagnostics.ts'
import { closest, didYouMean } from '../suggest.ts'
import { CfnTag } from '../yaml/cfn-tags.ts'
import type { ParsedDocument, ValuePath } from '../yaml/parse.ts'

type Issue = z.core.$ZodIssue

/**
 * Checks `value` (found at `base` inside `doc`) against a zod schema and reports every issue as a
 * diagnostic at its exact position, phrased for people: unknown keys with the closest valid key,
 * missing keys, wrong types with the fix, invalid enum values with the closest valid one.
 * Returns the parsed output (defaults applied), or `undefined` when anything was wrong.
 */
export function checkSchema<S extends z.ZodType>(
  schema: S,
  doc: ParsedDocument,
  sink: DiagnosticSink,
  value: unknown = doc.value,
  base: ValuePath = [],
): z.output<S> | undefined {
  const result = schema.safeParse(value, { reportInput: true })
  if (result.success) return result.data
  const explained = misspeltKeys(schema, value, result.error.issues)
  for (const issue of result.error.issues) {
    // "missing Metadata" says nothing new after "unknown key Metadpata; did you mean Metadata?".
    if (isMissingKey(issue) && explained.has(pathKey(issue.path))) continue
    report(schema, doc, sink, value, base, issue)
  }
  return undefined
}

function isMissingKey(issue: Issue): boolean {
  return (issue.code === 'invalid_type' || issue.code === 'invalid_value') && issue.input === undefined
}

function pathKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map(String))
}

/** Paths of required keys that an unknown key next to them is a misspelling of. */
function misspeltKeys(root: z.ZodType, rootValue: unknown, issues: readonly Issue[]): Set<string> {
  const out = new Set<string>()
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
    const known = knownKeys(root, path, rootValue)
    for (const extra of issue.keys) {
      const meant = closest(extra, known)
      if (meant !== undefined) out.add(pathKey([...path, meant]))
    }
  }
  return out
}

function report(
  root: z.ZodType,
  doc: ParsedDocument,
  sink: DiagnosticSink,
  rootValue: unknown,
  base: ValuePath,
  issue: Issue,
): void {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
  const full = [...base, ...path]
  const key = lastKey(path)
  const what = key === undefined ? 'this value' : `"${key}"`
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(root, path, rootValue)
      for (const extra of issue.keys) {
        sink.error(
          doc.locateKey([...full, extra]),
          'unknown-key',
          `unknown key "${extra}"${didYouMean(extra, known)}${known.length > 0 && !closest(extra, known) ? ` (valid keys: ${known.join(', ')})` : ''}`,
        )
      }
      return
    }
    case 'invalid_type': {
      if (issue.input === undefined) {
        sink.error(doc.locate(full.slice(0, -1)), 'missing-key', `missing required key ${what}`)
        return
      }
      const got = describeValue(issue.input)
      const hint =
        issue.expected === 'string' && (typeof issue.input === 'number' || typeof issue.input === 'boolean')
          ? `; quote it: "${doc.sourceText(full) ?? String(issue.input)}"`
          : ''
      sink.error(
        doc.locate(full),
        'wrong-type',
        `${what} must be ${article(issue.expected)}, not ${got}${hint}`,
      )
      return
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => String(v))
      const input = issue.input
      // zod reports an absent enum or literal key as an invalid value (with no input), not as a missing key.
      if (input === undefined) {
        sink.error(
          doc.locate(full.slice(0, -1)),
          'missing-key',
          `missing required key ${what} (${allowed.length === 1 ? `expected ${JSON.stringify(allowed[0])}` : `one of ${allowed.join(', ')}`})`,
        )
        return
      }
      sink.error(
        doc.locate(full),
        'invalid-value',
        `invalid value ${JSON.stringify(input)} for ${what}: expected ${allowed.length === 1 ? JSON.stringify(allowed[0]) : `one of ${allowed.join(', ')}`}${typeof input === 'string' && allowed.length > 1 ? didYouMean(input, allowed) : ''}`,
      )
      return
    }
    case 'invalid_union': {
      if ('discriminator' in issue && issue.discriminator) {
        // zod points the issue at the discriminator key itself; the object holding it is one level up.
        const objectPath = path.at(-1) === issue.discriminator ? path.slice(0, -1) : path
        const options = ('options' in issue ? (issue.options ?? []) : []).map(String)
        const got = (valueAt(rootValue, objectPath) as Record<string, unknown> | undefined)?.[
          issue.discriminator
        ]
        const place = [...base, ...objectPath, issue.discriminator]
        if (got === undefined) {
          sink.error(
            doc.locate([...base, ...objectPath]),
            'missing-key',
            `missing required key "${issue.discriminator}" (one of ${options.join(', ')})`,
          )
        } else {
          sink.error(
            doc.locate(place),
            'invalid-value',
            `invalid value ${JSON.stringify(got)} for "${issue.discriminator}": expected one of ${options.join(', ')}${typeof got === 'string' ? didYouMean(got, options) : ''}`,
          )
        }
        return
      }
      const branches = issue.errors
      const allTypes = branches.every(
        (b) => b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === 0,
      )
      if (allTypes) {
        const expected = branches.map((b) => (b[0] as { expected: string }).expected)
        sink.error(
          doc.locate(full),
          'wrong-type',
          `${what} must be ${listOr(expected.map(article))}, not ${describeValue(issue.input)}`,
        )
        return
      }
      // The branch that got furthest is the one the user meant; report its issues.
      const best = [...branches].sort((a, b) => depth(b) - depth(a))[0] ?? []
      for (const inner of best)
        report(root, doc, sink, rootValue, base, { ...inner, path: [...issue.path, ...inner.path] } as Issue)
      return
    }
    case 'invalid_key': {
      for (const inner of issue.issues) {
        sink.error(doc.locateKey(full), 'invalid-key', `invalid key ${what}: ${inner.message}`)
      }
      return
    }
    case 'invalid_element': {
      for (const inner of issue.issues)
        sink.error(doc.locate(full), 'invalid-value', `${what}: ${inner.message}`)
      return
    }
    case 'too_small': {
      const message =
        issue.origin === 'array'
          ? `${what} needs at least ${issue.minimum} ${Number(issue.minimum) === 1 ? 'entry' : 'entries'}`
          : issue.origin === 'string'
            ? `${what} must not be empty`
            : `${what} must be at least ${issue.minimum}`
      sink.error(doc.locate(full), 'invalid-value', message)
      return
    }
    case 'too_big': {
      sink.error(doc.locate(full), 'invalid-value', `${what} must be at most ${issue.maximum}`)
      return
    }
    default: {
      const input = 'input' in issue ? issue.input : undefined
      const shown = typeof input === 'string' || typeof input === 'number' ? ` ${JSON.stringify(input)}` : ''
      sink.error(doc.locate(full), 'invalid-value', `invalid ${what}${shown}: ${issue.message}`)
    }
  }
}

function depth(branch: readonly Issue[]): number {
  return Math.max(0, ...branch.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 0.5)))
}

function lastKey(path: ValuePath): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === 'string') return path[i] as string
  return undefined
}

function article(type: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping',
    record: 'a mapping',
  }
  return names[type] ?? type
}

function listOr(items: string[]): string {
  const unique = [...new Set(items)]
  return unique.length <= 1 ? (unique[0] ?? '') : `${unique.slice(0, -1).join(', ')} or ${unique.at(-1)}`
}

/** Names a value's type the way a YAML author thinks of it. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'empty'
  if (value instanceof CfnTag) return `a ${value.tag} expression`
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (typeof value === 'boolean') return `the boolean ${value}`
  return `the number ${String(value)}`
}

function valueAt(value: unknown, path: ValuePath): unknown {
  let current = value
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<string | number, unknown>)[segment]
  }
  return current
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema
  for (;;) {
    if (
      s instanceof z.ZodOptional ||
      s instanceof z.ZodDefault ||
      s instanceof z.ZodNullable ||
      s instanceof z.ZodPrefault ||
      s instanceof z.ZodReadonly
    ) {
      s = s.def.innerType as z.ZodType
    } else if (s instanceof z.ZodPipe) {
      s = s.def.in as z.ZodType
    } else {
      return s
    }
  }
}

/** The schema that describes the value at `path`, following objects, arrays, records and unions. */
function schemaAt(root: z.ZodType, path: ValuePath, rootValue: unknown): z.ZodType | undefined {
  let s: z.ZodType | undefined = root
  for (let i = 0; i <= path.length && s; i++) {
    s = pickUnionOption(unwrap(s), valueAt(rootValue, path.slice(0, i)))
    if (i === path.length) return s
    const segment = path[i]!
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(segment)]
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType
    else if (s instanceof z.ZodRecord) s = s.def.valueType as z.ZodType
    else return undefined
  }
  return s
}

function pickUnionOption(schema: z.ZodType, value: unknown): z.ZodType {
  if (!(schema instanceof z.ZodUnion)) return schema
  const options = schema.options as z.ZodType[]
  if (schema instanceof z.ZodDiscriminatedUnion && value && typeof value === 'object') {
    const discriminator = schema.def.discriminator
    const wanted = (value as Record<string, unknown>)[discriminator]
    const match = options.find((o) => {
      const field = (unwrap(o) as z.ZodObject).shape?.[discriminator]
      return field instanceof z.ZodLiteral && field.values.has(wanted as never)
    })
    if (match) return unwrap(match)
  }
  const shaped = options
    .map(unwrap)
    .find((o) => (Array.isArray(value) ? o instanceof z.ZodArray : o instanceof z.ZodObject))
  return shaped ?? schema
}

function knownKeys(root: z.ZodType, path: ValuePath, rootValue: unknown): string[] {
  const s = schemaAt(root, path, rootValue)
  const unwrapped = s === undefined ? undefined : unwrap(s)
  if (unwrapped instanceof z.ZodObject) return Object.keys(unwrapped.shape)
  // A record keyed by an enum (config defaults by environment or channel) knows its keys too.
  if (unwrapped instanceof z.ZodRecord) {
    const keyType = unwrap(unwrapped.def.keyType as z.ZodType)
    if (keyType instanceof z.ZodEnum) return keyType.options.map(String)
  }
  return []
}
