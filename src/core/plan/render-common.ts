import type {
  ChangeAction,
  Finding,
  FindingEffect,
  PlanSide,
  Replacement,
  Rotation,
  TargetPlan,
  Verdict,
} from '../model/plan.ts'
import { describeSource } from '../model/source.ts'

/** Pieces shared by the text and markdown renderings of a plan. */

/** The symbol of each action, as in terraform's plans. */
export const ACTION_SYMBOLS: Readonly<Record<ChangeAction, string>> = {
  create: '+',
  update: '~',
  replace: '-/+',
  delete: '-',
  move: '→',
  rotate: '⟳',
  'no-op': ' ',
}

const EFFECT_ORDER: Readonly<Record<FindingEffect, number>> = { deny: 0, 'require-approval': 1, warn: 2 }

/** Findings in the order people act on them: deny, then require-approval, then warn (stable within). */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => EFFECT_ORDER[a.effect] - EFFECT_ORDER[b.effect])
}

/** A side of the plan for people: `HEAD~1 (3f2a9c1)`, the directory, or `the observed fleet`. */
export function describeSide(side: PlanSide): string {
  return side.kind === 'observed' ? 'the observed fleet' : describeSource(side)
}

/** A property value in a diff: compact JSON (`null` for absent). */
export function formatValue(value: unknown): string {
  return JSON.stringify(value) ?? 'null'
}

/**
 * What a property change does to its resource, when it may replace it, and why the plan cannot
 * be sure: a value known only when CloudFormation applies the stack, or one read from a replaced
 * resource (`reads replaced Zone`).
 */
export function replacementNote(change: {
  readonly forcesReplacement: Replacement
  readonly unknown?: boolean
  readonly dependsOn?: readonly string[]
}): string | undefined {
  const notes: string[] = []
  if (change.dependsOn?.length) notes.push(`reads replaced ${change.dependsOn.join(', ')}`)
  else if (change.unknown) notes.push('known only when applied')
  if (change.forcesReplacement === true)
    notes.push(change.unknown ? 'may force replacement' : 'forces replacement')
  else if (change.forcesReplacement !== false) notes.push('may force replacement')
  return notes.length > 0 ? notes.join('; ') : undefined
}

/**
 * An address without its target id: `eu-central-1/dns/Zone` for `263820974194/eu-central-1/dns/Zone`.
 * Addresses start with the target id, and target ids (cluster ids have colons) have no slash.
 */
export function relativeAddress(targetId: string, address: string): string {
  if (address.startsWith(`${targetId}/`)) return address.slice(targetId.length + 1)
  const slash = address.indexOf('/')
  return slash < 0 ? address : address.slice(slash + 1)
}

/** A count with thousands separators (`1,234`), the same in every locale. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** Entries of a count record, largest first, then by name: deterministic whatever the key order. */
export function countEntries(counts: Readonly<Record<string, number>>): [string, number][] {
  return Object.entries(counts).sort(([ka, a], [kb, b]) => b - a || compareStrings(ka, kb))
}

/**
 * Counts by stage in rollout order: `order` is the plan's `summary.byStage` keys, which the
 * planner lists in the head's stage order. Stages it does not know come last, by name.
 */
export function stageEntries(
  counts: Readonly<Record<string, number>>,
  order: readonly string[],
): [string, number][] {
  const rank = (stage: string) => {
    const i = order.indexOf(stage)
    return i < 0 ? order.length : i
  }
  return Object.entries(counts).sort(([a], [b]) => rank(a) - rank(b) || compareStrings(a, b))
}

/** Compares by UTF-16 code units: the same order on every machine, unlike `localeCompare`. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** `denied`, `requires approval`, … */
export function verdictLabel(verdict: Verdict): string {
  return verdict === 'requires-approval'
    ? 'requires approval'
    : verdict === 'no-changes'
      ? 'no changes'
      : verdict
}

/** `1 account`, `287 accounts`, `3 clusters`, or `5 targets` when both kinds are among them. */
export function targetCount(targets: readonly Pick<TargetPlan, 'kind'>[]): string {
  const kinds = new Set(targets.map((t) => t.kind))
  const noun = kinds.size === 1 ? [...kinds][0]! : 'target'
  return `${formatCount(targets.length)} ${noun}${targets.length === 1 ? '' : 's'}`
}

/**
 * JSON with object keys sorted, so that equal values give equal text whatever their key order:
 * the identity of a change when grouping identical changes.
 */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => compareStrings(a, b)))
      : v,
  )
}

/** Words joined by spaces into lines of at most `width` characters (a longer word gets its own line). */
export function wrapWords(words: readonly string[], width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of words) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  if (line !== '') lines.push(line)
  return lines
}

/** Node names listed with a rotation before the rest are counted. */
const ROTATION_NAMES_SHOWN = 5

/**
 * What a node pool change rotates, in a few words: `3 nodes: a, b, c` (names only for one
 * target, whose nodes they are), `about 3 nodes (the pool min)` between revisions, then whether
 * the pool is stateful and skipped for its budget.
 */
export function describeRotation(rotation: Rotation, withNames: boolean): string {
  const nodes = `${rotation.count} ${rotation.count === 1 ? 'node' : 'nodes'}`
  const names = rotation.nodes ?? []
  const listed =
    withNames && names.length > 0
      ? `: ${names.slice(0, ROTATION_NAMES_SHOWN).join(', ')}${names.length > ROTATION_NAMES_SHOWN ? ` and ${names.length - ROTATION_NAMES_SHOWN} more` : ''}`
      : ''
  return [
    rotation.estimated ? `about ${nodes} (the pool min)` : `${nodes}${listed}`,
    ...(rotation.stateful ? ['stateful pool'] : []),
    ...(rotation.overBudget ? ['over its monthly rotation budget: the rollout skips it'] : []),
  ].join('; ')
}
