import { structuredPatch } from 'diff'
import type { PropertyChange, Replacement } from '../model/plan.ts'
import { diffValues, formatPath } from './value-diff.ts'

/**
 * How the text and markdown renderings show a property change: most as one value becoming
 * another (`Size: 1 → 2`); a multi-line string (a ConfigMap's `Corefile`, a policy or a
 * user-data script written as a string) as a diff by line, like `diff -u`, because one escaped
 * line hides what changed in it. The JSON plan keeps the values as they are.
 */
export type PropertyView = ValueView | LinesView

/** A property change shown as `before → after`. `null` stands for absent, as in the plan. */
export interface ValueView {
  readonly kind: 'value'
  readonly path: string
  readonly before: unknown
  readonly after: unknown
  readonly forcesReplacement: Replacement
  /** The value is known only when applied (see {@link PropertyChange.unknown}). */
  readonly unknown?: boolean
  /** Replaced resources the value reads. */
  readonly dependsOn?: readonly string[]
}

/** A change of a multi-line string, shown as the hunks of a unified diff. */
export interface LinesView {
  readonly kind: 'lines'
  /**
   * The property's path, followed by the CloudFormation functions the string is the argument
   * of: `UserData › Fn::Base64 › Fn::Sub`.
   */
  readonly path: string
  /** `create`: the property was absent before; `delete`: it is absent after. */
  readonly action: 'create' | 'update' | 'delete'
  readonly forcesReplacement: Replacement
  readonly diff: LineDiff
}

/** A diff by line: its rows, and how many lines it adds and removes. */
export interface LineDiff {
  readonly rows: readonly DiffRow[]
  readonly added: number
  readonly removed: number
  /** Lines of the value before (0 when absent), and after. */
  readonly linesBefore: number
  readonly linesAfter: number
}

/**
 * One row of a unified diff: a hunk header (`@@ -3,7 +3,8 @@`), a line kept for context, added
 * or removed, or `\ No newline at end of file` after the last line of a side that has none.
 * `text` is the line as shown: control characters escaped and, on added and removed lines,
 * trailing spaces made visible (see {@link visibleLine}).
 */
export interface DiffRow {
  readonly kind: 'hunk' | 'context' | 'added' | 'removed' | 'no-newline'
  readonly text: string
}

/** The prefix of each kind of row in a unified diff, as `diff -u` and `git diff` print it. */
export const ROW_PREFIX: Readonly<Record<DiffRow['kind'], string>> = {
  hunk: '',
  context: ' ',
  added: '+',
  removed: '-',
  'no-newline': '',
}

/** Lines of context around each change, as `diff -u` has by default. */
const CONTEXT_LINES = 3

/**
 * The longest edit (lines added plus removed) searched for a minimal diff. Finding one costs
 * time in proportion to the length of the values times this; two long values that share
 * little are shown as one hunk replacing every line instead, which is what such a diff says
 * anyway. A count, not a timeout, so the same plan always renders the same.
 */
const MAX_EDIT_LENGTH = 500

/**
 * How a property change is shown: usually one {@link ValueView} of it. When a side is a string
 * with a line break and the other a string or absent, a {@link LinesView}. A string that is the
 * argument of CloudFormation functions (`Fn::Base64: !Sub |`, as user data is written) is
 * diffed inside them when both sides have the same functions. An object or a list created or
 * deleted whole (a new ConfigMap's `data`) that holds multi-line strings is shown leaf by leaf,
 * so that each of them is diffed by line.
 */
export function propertyViews(property: PropertyChange): PropertyView[] {
  const views = viewsOf(property.path, property.before, property.after, property.forcesReplacement)
  if (!property.unknown && !property.dependsOn) return views
  const why = {
    ...(property.unknown ? { unknown: true } : {}),
    ...(property.dependsOn ? { dependsOn: property.dependsOn } : {}),
  }
  return views.map((view) => (view.kind === 'value' ? { ...view, ...why } : view))
}

function viewsOf(
  path: string,
  before: unknown,
  after: unknown,
  forcesReplacement: Replacement,
): PropertyView[] {
  const value: ValueView = { kind: 'value', path, before, after, forcesReplacement }
  if (!hasLineBreak(before) && !hasLineBreak(after)) return [value]
  if (isWholeContainer(before, after)) {
    // Created or deleted whole: its leaves, each shown as it would be on its own.
    const empty = Array.isArray(before ?? after) ? [] : {}
    return diffValues(before ?? empty, after ?? empty).flatMap((d) =>
      viewsOf(joinPath(path, formatPath(d.path)), d.before ?? null, d.after ?? null, forcesReplacement),
    )
  }
  const functions: string[] = []
  let [b, a] = [before, after]
  for (;;) {
    const name = sharedFunction(b, a)
    if (name === undefined) break
    functions.push(name)
    b = b === null ? null : (b as Record<string, unknown>)[name]
    a = a === null ? null : (a as Record<string, unknown>)[name]
  }
  if (!isTextOrAbsent(b) || !isTextOrAbsent(a) || (!hasLineBreak(b) && !hasLineBreak(a))) return [value]
  return [
    {
      kind: 'lines',
      path: [path, ...functions].join(' › '),
      action: b === null ? 'create' : a === null ? 'delete' : 'update',
      forcesReplacement,
      diff: diffLines(b, a),
    },
  ]
}

/** Whether a value is, or holds anywhere inside, a string with a line break. */
function hasLineBreak(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\n')
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasLineBreak)
  return false
}

/**
 * One side is absent and the other an object or a list that is not a CloudFormation function
 * (whose argument is diffed inside it instead, see {@link sharedFunction}).
 */
function isWholeContainer(before: unknown, after: unknown): boolean {
  if (before !== null && after !== null) return false
  const present = before ?? after
  return present !== null && typeof present === 'object' && functionName(present) === undefined
}

function isTextOrAbsent(value: unknown): value is string | null {
  return value === null || typeof value === 'string'
}

/**
 * The CloudFormation function both present sides are a call of (`Fn::Base64`, `Fn::Sub` with a
 * string), when its argument is a string or another call: the text inside can be diffed. The
 * list form of `Fn::Sub` (with its variables) and every other function stay whole.
 */
function sharedFunction(before: unknown, after: unknown): string | undefined {
  if (before === null && after === null) return undefined
  const names = [before, after].filter((v) => v !== null).map(functionName)
  const name = names[0]
  if (name === undefined || names.some((n) => n !== name)) return undefined
  const args = [before, after].filter((v) => v !== null).map((v) => (v as Record<string, unknown>)[name])
  return args.every((arg) => typeof arg === 'string' || functionName(arg) !== undefined) ? name : undefined
}

function functionName(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const keys = Object.keys(value)
  return keys.length === 1 && keys[0]!.startsWith('Fn::') ? keys[0] : undefined
}

/** `data` and `Corefile` → `data.Corefile`; `args` and `[1]` → `args[1]`. */
function joinPath(path: string, sub: string): string {
  if (sub === '') return path
  return sub.startsWith('[') ? `${path}${sub}` : `${path}.${sub}`
}

/**
 * The unified diff of two strings (`null`: absent, as an empty string), computed by jsdiff
 * with {@link CONTEXT_LINES} lines of context.
 */
export function diffLines(before: string | null, after: string | null): LineDiff {
  const [from, to] = [before ?? '', after ?? '']
  const patch = structuredPatch('', '', from, to, undefined, undefined, {
    context: CONTEXT_LINES,
    maxEditLength: MAX_EDIT_LENGTH,
  })
  const linesBefore = lineCount(from)
  const linesAfter = lineCount(to)
  const hunks = patch?.hunks ?? [wholeReplacement(from, to)]
  const rows: DiffRow[] = []
  let added = 0
  let removed = 0
  for (const hunk of hunks) {
    rows.push({ kind: 'hunk', text: hunkHeader(hunk) })
    for (const line of hunk.lines) {
      const kind =
        line[0] === '+' ? 'added' : line[0] === '-' ? 'removed' : line[0] === '\\' ? 'no-newline' : 'context'
      if (kind === 'added') added++
      if (kind === 'removed') removed++
      rows.push({
        kind,
        text: kind === 'no-newline' ? line : visibleLine(line.slice(1), kind !== 'context'),
      })
    }
  }
  return { rows, added, removed, linesBefore, linesAfter }
}

interface Hunk {
  readonly oldStart: number
  readonly oldLines: number
  readonly newStart: number
  readonly newLines: number
  readonly lines: readonly string[]
}

/** Every line removed, then every line added: the diff of two values too different to search. */
function wholeReplacement(from: string, to: string): Hunk {
  const side = (text: string, prefix: string) => {
    if (text === '') return []
    const lines = text
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => `${prefix}${l}`)
    return text.endsWith('\n') ? lines : [...lines, '\\ No newline at end of file']
  }
  return {
    oldStart: 1,
    oldLines: lineCount(from),
    newStart: 1,
    newLines: lineCount(to),
    lines: [...side(from, '-'), ...side(to, '+')],
  }
}

function lineCount(text: string): number {
  if (text === '') return 0
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
}

/**
 * `@@ -3,7 +3,8 @@`, as `diff -u` writes it: a count of 1 is left out, and an empty side starts
 * at the line before (`-0,0`).
 */
function hunkHeader(hunk: Hunk): string {
  const range = (start: number, lines: number) =>
    lines === 1 ? `${start}` : `${lines === 0 ? start - 1 : start},${lines}`
  return `@@ -${range(hunk.oldStart, hunk.oldLines)} +${range(hunk.newStart, hunk.newLines)} @@`
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g
const ESCAPES: Readonly<Record<string, string>> = { '\t': '\\t', '\r': '\\r' }

/**
 * A line as shown: control characters escaped (`\t`, `\r` — so a line ending changed from CRLF
 * to LF shows — and `\u001b`), since they could move a terminal's cursor or break a Markdown
 * block; on a changed line, trailing spaces as `·`, or a line that differs only by them would
 * look the same as the line it replaces.
 */
export function visibleLine(line: string, changed: boolean): string {
  const escaped = line.replace(
    CONTROL,
    (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
  return changed ? escaped.replace(/ +$/, (spaces) => '·'.repeat(spaces.length)) : escaped
}

/**
 * The first `max` rows of a diff, and how many are left out. A hunk header is never the last
 * row shown: a header without its lines says nothing.
 */
export function cutRows(rows: readonly DiffRow[], max: number): { shown: DiffRow[]; more: number } {
  if (rows.length <= max) return { shown: [...rows], more: 0 }
  let end = Math.max(0, max)
  while (end > 0 && rows[end - 1]!.kind === 'hunk') end--
  return { shown: rows.slice(0, end), more: rows.length - end }
}

/** `+2 -1 lines`, `+1 line`, `new, 12 lines`, `removed, 12 lines`: the size of a multi-line change. */
export function describeLineChange(view: LinesView): string {
  const { diff } = view
  if (view.action === 'create') return `new, ${lines(diff.linesAfter)}`
  if (view.action === 'delete') return `removed, ${lines(diff.linesBefore)}`
  const counts = [...(diff.added ? [`+${diff.added}`] : []), ...(diff.removed ? [`-${diff.removed}`] : [])]
  return `${counts.join(' ')} ${diff.added + diff.removed === 1 ? 'line' : 'lines'}`
}

function lines(n: number): string {
  return `${n} ${n === 1 ? 'line' : 'lines'}`
}
