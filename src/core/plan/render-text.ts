import type {
  Change,
  ChangeAction,
  Finding,
  FindingEffect,
  Plan,
  PropertyChange,
  StageMove,
  TargetPlan,
  Verdict,
} from '../model/plan.ts'
import { cloudPreviewLine, describeCloud } from './cloud-preview.ts'
import { cutRows, type DiffRow, describeLineChange, propertyViews, ROW_PREFIX } from './line-diff.ts'
import {
  ACTION_SYMBOLS,
  compareStrings,
  countEntries,
  describeRotation,
  describeSide,
  formatCount,
  formatValue,
  relativeAddress,
  replacementNote,
  sortFindings,
  stableJson,
  stageEntries,
  targetCount,
  verdictLabel,
  wrapWords,
} from './render-common.ts'

/** Options of {@link renderPlanText}. */
export interface TextRenderOptions {
  /** Colour with ANSI escape codes (on a TTY). Without it the output has no escape codes at all. */
  readonly color: boolean
}

/** How many addresses of one finding the text shows before "… and N more". */
const FINDING_ADDRESSES_SHOWN = 10
/**
 * Rows of a multi-line string's diff shown (hunk headers included); the rest is counted. A
 * terminal has room, but a script of thousands of lines created whole would bury the plan.
 */
const LINES_SHOWN = 200
/** Targets with identical changes are shown together from this many on. */
const GROUP_TARGETS_FROM = 4

/**
 * Renders a plan the way `terraform plan` does: the verdict, findings and approvals first, then
 * each changed target with its rollout stage (and its stage move, `~ stage: stable → dev`) and its
 * changes grouped by stack (accounts) or namespace (clusters), each change with its symbol and
 * property diffs, and the blast radius at the end. Ends with a newline.
 *
 * @example
 * ```
 * Flotilla plan: HEAD~1 (3f2a9c1) → HEAD (8b1d2e0)
 * Verdict: denied (1 denying finding)
 * …
 * Plan: 0 to create, 1 to update, 0 to replace, 1 to delete, 0 to move.
 * ```
 */
export function renderPlanText(plan: Plan, options: TextRenderOptions): string {
  const style = stylesFor(options.color)
  const lines: string[] = [
    style.bold(`Flotilla plan: ${describeSide(plan.base)} → ${describeSide(plan.head)}`),
    `Verdict: ${style.verdict(plan.verdict, verdictLabel(plan.verdict))}${verdictReason(plan)}`,
  ]
  if (plan.findings.length > 0) lines.push('', style.bold('Findings:'), ...findingLines(plan.findings, style))
  if (plan.approvalsRequired.length > 0) {
    lines.push('', style.bold(`Approvals required (${formatCount(plan.approvalsRequired.length)}):`))
    for (const approval of plan.approvalsRequired) lines.push(`  ${printable(approval)}`)
  }
  const stageOrder = Object.keys(plan.summary.byStage)
  for (const targets of targetBlocks(plan.targets)) lines.push('', ...targetLines(targets, style, stageOrder))
  if (plan.verdict === 'no-changes') lines.push('', 'No changes: head matches base.')
  lines.push('', ...summaryLines(plan, style))
  return `${lines.join('\n')}\n`
}

function findingLines(findings: readonly Finding[], style: Styles): string[] {
  const lines: string[] = []
  for (const finding of sortFindings(findings)) {
    // A message may span lines; its continuation lines are indented under it.
    const message = finding.message.split(/\r?\n/).map(printable).join('\n      ')
    lines.push(`  ${style.effect(finding.effect, finding.effect)}  ${printable(finding.rule)}: ${message}`)
    if (finding.pattern) {
      lines.push(
        `      pattern ${printable(finding.pattern.glob)} (expected ${formatCount(finding.pattern.expectedCount)})`,
      )
    }
    for (const address of finding.addresses.slice(0, FINDING_ADDRESSES_SHOWN))
      lines.push(`      ${printable(address)}`)
    const more = finding.addresses.length - FINDING_ADDRESSES_SHOWN
    if (more > 0) lines.push(style.dim(`      … and ${formatCount(more)} more`))
  }
  return lines
}

/**
 * The targets in the order of the plan, except that targets with identical changes (at least
 * {@link GROUP_TARGETS_FROM} of them) form one block where the first of them would be: a change
 * rolled out to 287 accounts reads once, not 287 times. A few targets read best one by one,
 * with the full addresses to approve.
 */
function targetBlocks(targets: readonly TargetPlan[]): TargetPlan[][] {
  const groupOf = new Map<TargetPlan, TargetPlan[]>()
  for (const group of groupIdenticalTargets(targets)) for (const target of group) groupOf.set(target, group)
  const blocks: TargetPlan[][] = []
  for (const target of targets) {
    const group = groupOf.get(target)!
    if (group.length < GROUP_TARGETS_FROM) blocks.push([target])
    else if (group[0] === target) blocks.push(group)
  }
  return blocks
}

/** Targets whose changes are all the same, addresses compared without the target id. */
function groupIdenticalTargets(targets: readonly TargetPlan[]): TargetPlan[][] {
  const groups = new Map<string, TargetPlan[]>()
  for (const target of targets) {
    const key = stableJson([
      target.kind,
      // Targets moving between stages read apart from those that stay: the move is part of the change.
      target.stageMove ?? null,
      target.changes.map((c) => [
        c.action,
        c.type,
        relativeAddress(target.id, c.address),
        c.protected,
        c.movedFrom === undefined ? null : relativeAddress(target.id, c.movedFrom),
        c.mayReplace ?? false,
        c.properties,
        c.cloud ?? null,
        // Node names differ from cluster to cluster: targets group by what is rotated, not which nodes.
        c.rotation ? { ...c.rotation, nodes: null } : null,
      ]),
    ])
    const group = groups.get(key)
    if (group) group.push(target)
    else groups.set(key, [target])
  }
  return [...groups.values()]
}

function targetLines(targets: readonly TargetPlan[], style: Styles, stageOrder: readonly string[]): string[] {
  const first = targets[0]!
  const lines: string[] = []
  if (targets.length === 1) {
    const facts = [
      first.kind,
      first.environment,
      first.criticality,
      `team ${first.team}`,
      ...(first.stage === null ? [] : [`stage ${first.stage}`]),
    ]
    lines.push(
      style.bold(`${printable(first.id)} ${printable(first.name)}`) +
        style.dim(` (${printable(facts.join(' · '))})`),
    )
  } else {
    const byEnvironment: Record<string, number> = {}
    for (const t of targets) byEnvironment[t.environment] = (byEnvironment[t.environment] ?? 0) + 1
    const byStage: Record<string, number> = {}
    for (const t of targets) if (t.stage !== null) byStage[t.stage] = (byStage[t.stage] ?? 0) + 1
    const split = countEntries(byEnvironment).map(([env, n]) => `${env} ${formatCount(n)}`)
    const stages = stageEntries(byStage, stageOrder).map(([stage, n]) => `${stage} ${formatCount(n)}`)
    const facts = `${split.join(', ')}${stages.length ? `; stage ${stages.join(', ')}` : ''}`
    lines.push(
      style.bold(`Same changes in ${targetCount(targets)}`) + style.dim(` (${printable(facts)}):`),
      ...wrapWords(
        targets.map((t) => printable(t.id)),
        96,
      ).map((line) => `    ${line}`),
    )
  }
  // One target: full addresses, as they are approved (`--approve ADDRESS`) and searched for.
  // Several: addresses without the target id, which is what they have in common.
  const address = targets.length === 1 ? (a: string) => a : (a: string) => relativeAddress(first.id, a)
  // Grouped targets share their move (it is part of the grouping key).
  if (first.stageMove)
    lines.push(`  ${style.action('move', stageMoveLine(first.stageMove, first.changes.length))}`)
  for (const [unit, changes] of groupByUnit(first)) {
    lines.push(`  ${style.bold(`# ${printable(relativeAddress(first.id, unit))}`)}`)
    for (const change of changes) lines.push(...changeLines(change, address, style, targets.length === 1))
  }
  return lines
}

/**
 * The changes of a target by the unit people think in: the stack (`<account>/<region>/<Stack>`)
 * for accounts, the namespace (`<cluster>/<namespace>`) for clusters. Units and changes sorted
 * by address, so a stack's own entry comes before its resources.
 */
function groupByUnit(target: TargetPlan): [string, Change[]][] {
  const segments = target.kind === 'account' ? 3 : 2
  const units = new Map<string, Change[]>()
  for (const change of [...target.changes].sort((a, b) => compareStrings(a.address, b.address))) {
    const unit = change.address.split('/').slice(0, segments).join('/')
    const list = units.get(unit)
    if (list) list.push(change)
    else units.set(unit, [change])
  }
  return [...units].sort(([a], [b]) => compareStrings(a, b))
}

/** `~ stage: stable → dev`, and that nothing else changes when it is all the target has. */
function stageMoveLine(move: StageMove, changes: number): string {
  return `~ stage: ${printable(move.from)} → ${printable(move.to)}${changes === 0 ? '  (only the stage changes)' : ''}`
}

function changeLines(
  change: Change,
  address: (a: string) => string,
  style: Styles,
  oneTarget: boolean,
): string[] {
  const notes = [
    ...(change.rotation ? [`rotates ${describeRotation(change.rotation, oneTarget)}`] : []),
    ...(change.protected ? ['protected'] : []),
    ...(change.action === 'move' && change.movedFrom !== undefined
      ? [`moved from ${address(change.movedFrom)}`]
      : []),
    ...(change.mayReplace ? ['may be replaced'] : []),
    ...(change.action === 'no-op' ? ['unchanged'] : []),
    ...(change.cloud ? [`cloud: ${describeCloud(change.cloud)}`] : []),
  ]
  const head = `${ACTION_SYMBOLS[change.action].padStart(3)} ${printable(address(change.address))}`
  const lines = [
    `    ${style.action(change.action, head)}  ${style.dim(printable(change.type))}${notes.length ? `  (${printable(notes.join(', '))})` : ''}`,
  ]
  for (const property of change.properties)
    for (const line of propertyLines(property, style)) lines.push(`          ${line}`)
  return lines
}

/** A property change: `path: before → after`, or a multi-line string's diff by line under its path. */
function propertyLines(property: PropertyChange, style: Styles): string[] {
  return propertyViews(property).flatMap((view) => {
    const note = replacementNote(view)
    const suffix = note ? style.action('replace', ` (${note})`) : ''
    if (view.kind === 'value') {
      const text = `${printable(view.path)}: ${formatValue(view.before)} → ${formatValue(view.after)}`
      const kind = view.before === null ? 'create' : view.after === null ? 'delete' : 'update'
      return [`${style.action(kind, text)}${suffix}`]
    }
    const head = `${style.action(view.action, `${printable(view.path)}: (${describeLineChange(view)})`)}${suffix}`
    const { shown, more } = cutRows(view.diff.rows, LINES_SHOWN)
    const rows = shown.map((row) => `  ${style.diffRow(row.kind, `${ROW_PREFIX[row.kind]}${row.text}`)}`)
    if (more > 0)
      rows.push(style.dim(`  … ${formatCount(more)} more ${more === 1 ? 'line' : 'lines'} of this diff`))
    return [head, ...rows]
  })
}

function summaryLines(plan: Plan, style: Styles): string[] {
  const { summary } = plan
  const a = summary.actions
  const lines = [
    style.bold(
      `Plan: ${formatCount(a.create)} to create, ${formatCount(a.update)} to update, ${formatCount(a.replace)} to replace, ` +
        `${formatCount(a.delete)} to delete, ${formatCount(a.move)} to move` +
        // Node pool rotations only where there are any: most plans never touch nodes.
        `${a.rotate > 0 ? `, ${formatCount(a.rotate)} to rotate` : ''}.`,
    ),
    `Targets changed: ${formatCount(summary.targetsChanged)} of ${formatCount(summary.targets)}; ` +
      `protected resources destroyed: ${formatCount(summary.protectedDestroyed)}; ` +
      `ops targets changed: ${formatCount(summary.opsTargetsChanged)}.`,
  ]
  if (summary.stageMoves > 0) lines.push(style.bold(`Stage moves: ${formatCount(summary.stageMoves)}.`))
  for (const [label, counts, ordered] of [
    ['By stage', summary.byStage, true],
    ['By environment', summary.byEnvironment, false],
    ['By criticality', summary.byCriticality, false],
    ['By team', summary.byTeam, false],
  ] as const) {
    // Stages read in rollout order (the summary's), the rest by count.
    const entries = ordered ? Object.entries(counts) : countEntries(counts)
    if (entries.length)
      lines.push(`${label}: ${entries.map(([k, n]) => `${printable(k)} ${formatCount(n)}`).join(', ')}`)
  }
  if (plan.cloudPreview) lines.push(cloudPreviewLine(plan.cloudPreview))
  return lines
}

function verdictReason(plan: Plan): string {
  if (plan.verdict === 'denied') {
    const n = plan.findings.filter((f) => f.effect === 'deny').length
    return ` (${formatCount(n)} denying ${n === 1 ? 'finding' : 'findings'})`
  }
  if (plan.verdict === 'requires-approval') {
    const n = plan.approvalsRequired.length
    return ` (${formatCount(n)} ${n === 1 ? 'approval' : 'approvals'} required)`
  }
  return ''
}

// Repository content (names, messages, addresses) reaches the terminal: control characters
// could move the cursor or recolour the screen, so they are shown escaped.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g

function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

interface Styles {
  bold(text: string): string
  dim(text: string): string
  action(action: ChangeAction, text: string): string
  effect(effect: FindingEffect, text: string): string
  verdict(verdict: Verdict, text: string): string
  diffRow(kind: DiffRow['kind'], text: string): string
}

const ANSI = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const
type Ansi = keyof typeof ANSI

const ACTION_COLORS: Readonly<Record<ChangeAction, Ansi>> = {
  create: 'green',
  update: 'yellow',
  replace: 'red',
  delete: 'red',
  move: 'cyan',
  rotate: 'yellow',
  'no-op': 'dim',
}

const EFFECT_COLORS: Readonly<Record<FindingEffect, Ansi>> = {
  deny: 'red',
  'require-approval': 'yellow',
  warn: 'cyan',
}

/** As `git diff` colours a diff: context plain, like the file it shows. */
const DIFF_ROW_COLORS: Readonly<Record<DiffRow['kind'], Ansi | undefined>> = {
  hunk: 'cyan',
  context: undefined,
  added: 'green',
  removed: 'red',
  'no-newline': 'dim',
}

const VERDICT_COLORS: Readonly<Record<Verdict, Ansi>> = {
  'no-changes': 'green',
  allowed: 'green',
  'requires-approval': 'yellow',
  denied: 'red',
}

function stylesFor(color: boolean): Styles {
  const paint = (code: Ansi, text: string) => (color ? `\u001b[${ANSI[code]}m${text}\u001b[0m` : text)
  return {
    bold: (text) => paint('bold', text),
    dim: (text) => paint('dim', text),
    action: (action, text) => paint(ACTION_COLORS[action], text),
    effect: (effect, text) => paint(EFFECT_COLORS[effect], text),
    verdict: (verdict, text) => paint(VERDICT_COLORS[verdict], text),
    diffRow: (kind, text) => {
      const code = DIFF_ROW_COLORS[kind]
      return code === undefined ? text : paint(code, text)
    },
  }
}
