/**
 * Label selectors — the query parameter (`app=web,tier in (a,b),!legacy`) and the
 * `LabelSelector` objects of Deployments and PodDisruptionBudgets (`matchLabels`,
 * `matchExpressions`) — and the simple field selectors clients use (`spec.nodeName=node-1`).
 */
import { KubeError } from './kube-errors.ts'

/** One requirement every label set must meet. */
export interface LabelRequirement {
  readonly key: string
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'
  readonly values: readonly string[]
}

type Labels = Readonly<Record<string, unknown>> | undefined

/** Whether labels meet every requirement (no requirement: everything matches). */
export function matchesLabels(requirements: readonly LabelRequirement[], labels: Labels): boolean {
  return requirements.every((r) => {
    const value = labels?.[r.key]
    const has = typeof value === 'string'
    switch (r.operator) {
      case 'Exists':
        return has
      case 'DoesNotExist':
        return !has
      case 'In':
        return has && r.values.includes(value)
      default:
        return !has || !r.values.includes(value)
    }
  })
}

/** Splits at commas outside parentheses: `a in (x,y),b` → `a in (x,y)`, `b`. */
function splitRequirements(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++
    else if (text[i] === ')') depth--
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i))
      start = i + 1
    }
  }
  parts.push(text.slice(start))
  return parts.map((p) => p.trim()).filter((p) => p !== '')
}

const SET = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$/
const EQUALITY = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/
const EXISTS = /^(!?)([^\s!=(),]+)$/

/** Parses the `labelSelector` query parameter; 400 BadRequest for what does not parse. */
export function parseLabelSelector(text: string): LabelRequirement[] {
  return splitRequirements(text).map((part) => {
    const set = SET.exec(part)
    if (set)
      return {
        key: set[1]!,
        operator: set[2] === 'in' ? 'In' : 'NotIn',
        values: set[3]!
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== ''),
      }
    const equality = EQUALITY.exec(part)
    if (equality)
      return { key: equality[1]!, operator: equality[2] === '!=' ? 'NotIn' : 'In', values: [equality[3]!] }
    const exists = EXISTS.exec(part)
    if (exists)
      return { key: exists[2]!, operator: exists[1] === '!' ? 'DoesNotExist' : 'Exists', values: [] }
    throw new KubeError(
      400,
      'BadRequest',
      `unable to parse requirement "${part}" of labelSelector "${text}": use key=value, key!=value, key in (a,b), key notin (a,b), key or !key`,
    )
  })
}

/** The requirements of a `LabelSelector` object (`matchLabels` and `matchExpressions`). */
export function selectorRequirements(selector: unknown): LabelRequirement[] {
  const s = (selector ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] }
  const out: LabelRequirement[] = Object.entries(s.matchLabels ?? {}).map(([key, value]) => ({
    key,
    operator: 'In',
    values: [String(value)],
  }))
  for (const raw of s.matchExpressions ?? []) {
    const e = raw as { key: string; operator: string; values?: string[] }
    if (
      e.operator === 'In' ||
      e.operator === 'NotIn' ||
      e.operator === 'Exists' ||
      e.operator === 'DoesNotExist'
    )
      out.push({ key: e.key, operator: e.operator, values: e.values ?? [] })
  }
  return out
}

/** One `fieldSelector` term: a dotted path of the object, equal or not to a value. */
export interface FieldRequirement {
  readonly path: readonly string[]
  readonly equal: boolean
  readonly value: string
}

/** Parses `fieldSelector` (`spec.nodeName=node-1,status.phase!=Running`). */
export function parseFieldSelector(text: string): FieldRequirement[] {
  return splitRequirements(text).map((part) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(part)
    if (!m)
      throw new KubeError(
        400,
        'BadRequest',
        `invalid fieldSelector "${text}": use field=value or field!=value`,
      )
    return { path: m[1]!.split('.'), equal: m[2] !== '!=', value: m[3]!.trim() }
  })
}

/** Whether an object meets every field requirement (a missing field is the empty string). */
export function matchesFields(requirements: readonly FieldRequirement[], object: unknown): boolean {
  return requirements.every((r) => {
    let at: unknown = object
    for (const key of r.path) at = (at as Record<string, unknown> | undefined)?.[key]
    const value = at === undefined || at === null ? '' : String(at)
    return (value === r.value) === r.equal
  })
}
