import type { Finding, Plan, PlanSide, TargetPlan } from '../model/plan.ts'
import { type ChangeGroup, groupIdenticalChanges, SECTIONS, sectionOf } from './change-groups.ts'
import { cloudPreviewLine, describeCloud } from './cloud-preview.ts'
import { cutRows, describeLineChange, type PropertyView, propertyViews, ROW_PREFIX } from './line-diff.ts'
import {
  ACTION_SYMBOLS,
  countEntries,
  describeRotation,
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

/** GitHub's limit on the length of a pull-request comment, in characters. */
export const GITHUB_COMMENT_LIMIT = 65_536

/** Options of {@link renderPlanMarkdown}. */
export interface MarkdownRenderOptions {
  /**
   * The longest comment to produce, in UTF-16 code units (never fewer than the characters GitHub counts).
   * @default 65_536 (GitHub's comment limit)
   */
  readonly maxLength?: number
}

/**
 * Renders a plan as a pull-request comment that stays readable for a change to the whole fleet:
 * the verdict, blast radius, findings and approvals on top; then the targets that move to another
 * rollout stage; then the changes, each set of identical changes across targets shown once
 * ("same change in 287 accounts", the targets in a collapsed list, with the stages they roll out
 * in), destructive and protected ones first.
 *
 * The comment never exceeds `maxLength`: when the whole plan does not fit, property details of the
 * largest groups are dropped first, then the groups at the end are left out, and a note says how
 * much is missing. Every string from the repository is escaped, so an address or value cannot
 * break the layout or inject HTML. Deterministic: the same plan gives the same text.
 */
export function renderPlanMarkdown(plan: Plan, options: MarkdownRenderOptions = {}): string {
  const maxLength = options.maxLength ?? GITHUB_COMMENT_LIMIT
  const listBudget = Math.min(LIST_BUDGET, Math.floor(maxLength / 10))
  const top = topBlock(plan)
  if (plan.verdict === 'no-changes' && plan.targets.length === 0 && plan.findings.length === 0) {
    const text = `${top}No changes: head matches base.\n`
    return text.length <= maxLength ? text : cutToFit(text, maxLength, truncationNote({ maxLength }))
  }
  const blocks: Blocks = {
    top: `${top}${blastRadiusTable(plan)}`,
    findings: findingBlocks(plan.findings, listBudget),
    approvals: approvalsBlock(plan.approvalsRequired, listBudget),
    stageMoves: stageMovesBlock(plan.targets, listBudget),
    groups: groupIdenticalChanges(plan.targets).map((group) =>
      renderGroup(group, listBudget, Object.keys(plan.summary.byStage)),
    ),
  }
  return assemble(blocks, maxLength)
}

/** The longest list (targets of a group, addresses of a finding, approvals), in characters. */
const LIST_BUDGET = 6_000
/** Addresses or targets shown inline instead of in a collapsed list. */
const INLINE_LIST = 3
/** Targets listed with their names; larger lists show ids only, to stay compact. */
const NAMED_TARGETS = 50
/** Property changes shown per group. */
const PROPERTIES_SHOWN = 20
/** Characters of a value shown in a property diff. */
const VALUE_SHOWN = 200
/** Rows of a multi-line string's diff shown (hunk headers included); the rest is counted. */
const LINES_SHOWN = 60
/** Characters of a line of a multi-line string's diff. */
const LINE_SHOWN = 500
/** Rows of diff in a group's property changes shown open; a longer block is collapsed. */
const DIFF_ROWS_INLINE = 40
/** Characters of a finding's message. */
const MESSAGE_SHOWN = 2_000
/** Teams listed in the blast radius. */
const TEAMS_SHOWN = 10

// ── Blocks ───────────────────────────────────────────────────────────────────────────────────

function topBlock(plan: Plan): string {
  const reasons: string[] = []
  const denying = plan.findings.filter((f) => f.effect === 'deny').length
  if (denying) reasons.push(plural(denying, 'denying finding'))
  if (plan.approvalsRequired.length)
    reasons.push(`${plural(plan.approvalsRequired.length, 'approval')} required`)
  return (
    `### Flotilla plan: **${verdictLabel(plan.verdict)}**\n\n` +
    `${[`${side(plan.base)} → ${side(plan.head)}`, ...reasons].join(' · ')}\n\n`
  )
}

function side(planSide: PlanSide): string {
  if (planSide.kind === 'observed') return 'the observed fleet'
  if (planSide.kind === 'directory') return `working tree ${code(planSide.path)}`
  return `${code(planSide.ref)} (${code(planSide.commit.slice(0, 7))})`
}

function blastRadiusTable(plan: Plan): string {
  const { summary } = plan
  const strong = (n: number, text: string) => (n > 0 ? `**${text}**` : text)
  const actions = (['create', 'update', 'replace', 'delete', 'move'] as const).map((action) => {
    const n = summary.actions[action]
    const text = `${formatCount(n)} to ${action}`
    return action === 'delete' || action === 'replace' ? strong(n, text) : text
  })
  const rows: [string, string][] = [
    ['Targets changed', `**${formatCount(summary.targetsChanged)}** of ${formatCount(summary.targets)}`],
    ['Changes', actions.join(' · ')],
    [
      'Protected resources destroyed',
      strong(summary.protectedDestroyed, formatCount(summary.protectedDestroyed)),
    ],
    ['Ops targets changed', strong(summary.opsTargetsChanged, formatCount(summary.opsTargetsChanged))],
  ]
  // Most plans move no target between stages: the row is there when one does.
  if (summary.stageMoves > 0)
    rows.push(['Stage moves', strong(summary.stageMoves, formatCount(summary.stageMoves))])
  const breakdown = (counts: Readonly<Record<string, number>>, shown = Number.POSITIVE_INFINITY) => {
    const entries = countEntries(counts)
    const parts = entries.slice(0, shown).map(([name, n]) => `${escapeMarkdown(name)} ${formatCount(n)}`)
    if (entries.length > shown) parts.push(`and ${formatCount(entries.length - shown)} more`)
    return parts.join(' · ')
  }
  if (Object.keys(summary.byStage).length)
    // In rollout order, as the summary lists them: where the change goes first.
    rows.push([
      'By stage',
      Object.entries(summary.byStage)
        .map(([stage, n]) => `${escapeMarkdown(stage)} ${formatCount(n)}`)
        .join(' · '),
    ])
  if (Object.keys(summary.byEnvironment).length)
    rows.push(['By environment', breakdown(summary.byEnvironment)])
  if (Object.keys(summary.byCriticality).length)
    rows.push(['By criticality', breakdown(summary.byCriticality)])
  if (Object.keys(summary.byTeam).length) rows.push(['Top teams', breakdown(summary.byTeam, TEAMS_SHOWN)])
  if (plan.cloudPreview)
    rows.push([
      'Cloud preview',
      escapeMarkdown(cloudPreviewLine(plan.cloudPreview).replace(/^Cloud preview: /, '')),
    ])
  return `| Blast radius | |\n| --- | --- |\n${rows.map(([k, v]) => `| ${k} | ${v} |\n`).join('')}\n`
}

function findingBlocks(findings: readonly Finding[], listBudget: number): Variants[] {
  return sortFindings(findings).map((finding, i) => {
    const message =
      finding.message.length > MESSAGE_SHOWN ? `${finding.message.slice(0, MESSAGE_SHOWN)}…` : finding.message
    let out = `${i === 0 ? '#### Findings\n\n' : ''}**${finding.effect}** · ${code(finding.rule)}: ${escapeMarkdown(message)}\n\n`
    if (finding.pattern) {
      out += `Approve by pattern ${code(finding.pattern.glob)} (expected ${formatCount(finding.pattern.expectedCount)}).\n\n`
    }
    const { addresses } = finding
    if (addresses.length <= INLINE_LIST) {
      return { variants: [addresses.length ? `${out}${addresses.map(code).join(', ')}\n\n` : out] }
    }
    const count = plural(addresses.length, 'address', 'addresses')
    return {
      variants: [
        out + collapsed(count, codeBlock(cappedLines(addresses, listBudget))),
        `${out}_${count}, left out to stay under the comment limit._\n\n`,
      ],
    }
  })
}

interface Variants {
  /** Renderings from the most to the least detailed. */
  readonly variants: readonly string[]
}

function approvalsBlock(approvals: readonly string[], listBudget: number): Variants | undefined {
  if (approvals.length === 0) return undefined
  const heading =
    `#### Approvals required (${formatCount(approvals.length)})\n\n` +
    'Approve with `flotilla plan --approve ADDRESS` (repeatable; a pattern as `"PATTERN (expected N)"`) or `--approvals FILE`.\n\n'
  const list = codeBlock(cappedLines(approvals, listBudget))
  return {
    variants: [
      heading + (approvals.length > 10 ? collapsed(plural(approvals.length, 'approval'), list) : list),
      `${heading}_The list is left out to stay under the comment limit; \`flotilla plan --format json\` has it._\n\n`,
    ],
  }
}

/**
 * The targets that move to another rollout stage, by move (`stable` → `dev`), each with its
 * targets: a move is shown even for targets whose rendered state does not change.
 */
function stageMovesBlock(targets: readonly TargetPlan[], listBudget: number): Variants | undefined {
  const byMove = new Map<string, TargetPlan[]>()
  for (const target of targets) {
    if (!target.stageMove) continue
    const key = stableJson([target.stageMove.from, target.stageMove.to])
    byMove.set(key, [...(byMove.get(key) ?? []), target])
  }
  if (byMove.size === 0) return undefined
  const moved = [...byMove.values()].reduce((n, list) => n + list.length, 0)
  const heading = `#### Stage moves (${formatCount(moved)})\n\n`
  const full: string[] = []
  const short: string[] = []
  for (const list of byMove.values()) {
    const { from, to } = list[0]!.stageMove!
    const unchanged = list.filter((t) => t.changes.length === 0).length
    const line =
      `${code(from)} → ${code(to)}: ${targetCount(list)} (${environmentSplit(list)})` +
      (unchanged > 0 ? `, ${formatCount(unchanged)} with no other change` : '')
    short.push(`- ${line}\n`)
    if (list.length <= INLINE_LIST)
      full.push(`- ${line}: ${list.map((t) => `${code(t.id)} (${escapeMarkdown(t.name)})`).join(', ')}\n`)
    else
      full.push(
        `- ${line}\n\n${collapsed(
          targetCount(list),
          codeBlock(
            cappedLines(
              list.map((t) => `${t.id}  ${t.name}`),
              listBudget,
            ),
          ),
        )}`,
      )
  }
  return { variants: [`${heading}${full.join('')}\n`, `${heading}${short.join('')}\n`] }
}

/** Where the targets of a change are rolled out: ` · stage <code>stable</code>`, or the split by stage. */
function stageNote(targets: readonly TargetPlan[], stageOrder: readonly string[]): string {
  const counts: Record<string, number> = {}
  for (const t of targets) if (t.stage !== null) counts[t.stage] = (counts[t.stage] ?? 0) + 1
  const entries = stageEntries(counts, stageOrder)
  if (entries.length === 0) return ''
  if (entries.length === 1) return ` · stage ${code(entries[0]![0])}`
  return ` · stages ${entries.map(([stage, n]) => `${code(stage)} ${formatCount(n)}`).join(' · ')}`
}

interface GroupBlock extends Variants {
  readonly section: string
  /** The changes the group stands for: one per target. */
  readonly changes: number
}

function renderGroup(group: ChangeGroup, listBudget: number, stageOrder: readonly string[]): GroupBlock {
  const { change, targets } = group
  const facts = [
    `\`${ACTION_SYMBOLS[change.action]}\` **${change.action}** ${code(group.relative)} ${code(change.type)}`,
    ...(change.protected ? ['**protected**'] : []),
    ...(change.mayReplace ? ['**may be replaced**'] : []),
    ...(change.cloud ? [`cloud: ${escapeMarkdown(describeCloud(change.cloud))}`] : []),
    ...(change.rotation
      ? [`rotates ${escapeMarkdown(describeRotation(change.rotation, targets.length === 1))}`]
      : []),
    ...(change.movedFrom === undefined
      ? []
      : [`moved from ${code(relativeAddress(targets[0]!.id, change.movedFrom))}`]),
  ]
  const named = (t: TargetPlan) => `${code(t.id)} (${escapeMarkdown(t.name)})`
  let where: string
  let list = ''
  let listless = ''
  if (targets.length === 1) where = `in ${targets[0]!.kind} ${named(targets[0]!)}`
  else if (targets.length <= INLINE_LIST)
    where = `same change in ${targetCount(targets)}: ${targets.map(named).join(', ')}`
  else {
    where = `**same change in ${targetCount(targets)}**`
    const summary = `${targetCount(targets)}: ${environmentSplit(targets)}`
    let lines: string[]
    if (targets.length <= NAMED_TARGETS)
      lines = cappedLines(
        targets.map((t) => `${t.id}  ${t.name}`),
        listBudget,
      )
    else {
      // Hundreds of targets: ids only, several to a line, to keep the list short.
      const { shown, more } = capItems(
        targets.map((t) => t.id),
        listBudget,
      )
      lines = [...wrapWords(shown, 100), ...(more ? [`… and ${formatCount(more)} more`] : [])]
    }
    list = collapsed(summary, codeBlock(lines))
    listless = `${summary} (the list is left out to stay under the comment limit).\n\n`
  }
  const values = group.valuesDiffer ? ` · values differ per target; shown for ${code(targets[0]!.id)}` : ''
  const headline = `${facts.join(' · ')} · ${where}${values}${stageNote(targets, stageOrder)}\n\n`
  // Each multi-line string is diffed once, for both renderings of the block.
  const views = change.properties.slice(0, PROPERTIES_SHOWN).map(propertyViews)
  const total = change.properties.length
  const properties = total ? propertiesBlock(views, total, true) : ''
  // The same, with multi-line strings' diffs summed up: the first detail to go when space is short.
  const compact = total ? propertiesBlock(views, total, false) : ''
  const noProperties = change.properties.length
    ? `_${plural(change.properties.length, 'property change')} not shown, to stay under the comment limit._\n\n`
    : ''
  return {
    section: sectionOf(group.rank),
    changes: targets.length,
    variants: [
      headline + list + properties,
      headline + list + compact,
      headline + list + noProperties,
      headline + listless + noProperties,
    ],
  }
}

function environmentSplit(targets: readonly TargetPlan[]): string {
  const counts: Record<string, number> = {}
  for (const t of targets) counts[t.environment] = (counts[t.environment] ?? 0) + 1
  return countEntries(counts)
    .map(([env, n]) => `${escapeMarkdown(env)} ${formatCount(n)}`)
    .join(' · ')
}

/**
 * Property diffs as a `diff` code block, one line per property as in the text rendering:
 * `+ path: value` (added), `- path: value` (removed), `~ path: before → after`. A multi-line
 * string shows as the hunks of its diff by line under its path, as `git diff` shows a file —
 * or, `withLineDiffs` false, as the size of its diff only. A block with a long diff is collapsed.
 */
function propertiesBlock(
  shown: readonly (readonly PropertyView[])[],
  total: number,
  withLineDiffs: boolean,
): string {
  const lines: string[] = []
  let diffRows = 0
  for (const views of shown) {
    for (const view of views) {
      const note = replacementNote(view)
      const suffix = note ? `  (${note})` : ''
      const path = oneLine(view.path)
      if (view.kind === 'value') {
        if (view.before === null) lines.push(`+ ${path}: ${shortValue(view.after)}${suffix}`)
        else if (view.after === null) lines.push(`- ${path}: ${shortValue(view.before)}${suffix}`)
        else lines.push(`~ ${path}: ${shortValue(view.before)} → ${shortValue(view.after)}${suffix}`)
        continue
      }
      const symbol = view.action === 'create' ? '+' : view.action === 'delete' ? '-' : '~'
      const size = describeLineChange(view)
      if (!withLineDiffs) {
        lines.push(
          `${symbol} ${path}: (${size}; the diff is left out to stay under the comment limit)${suffix}`,
        )
        continue
      }
      lines.push(`${symbol} ${path}: (${size})${suffix}`)
      const { shown, more } = cutRows(view.diff.rows, LINES_SHOWN)
      for (const row of shown) lines.push(shortLine(`${ROW_PREFIX[row.kind]}${row.text}`))
      if (more > 0) lines.push(`… ${plural(more, 'more line')} of this diff`)
      diffRows += shown.length
    }
  }
  if (total > shown.length) {
    lines.push(`  … and ${plural(total - shown.length, 'more property change')}`)
  }
  const block = codeBlock(lines, 'diff')
  return diffRows > DIFF_ROWS_INLINE
    ? collapsed(`${plural(total, 'property change')}, ${plural(diffRows, 'line')} of diff`, block)
    : block
}

/** A line of a multi-line string's diff, cut at {@link LINE_SHOWN} characters. */
function shortLine(text: string): string {
  return text.length > LINE_SHOWN
    ? `${text.slice(0, LINE_SHOWN)}… (${formatCount(text.length - 1)} characters)`
    : text
}

function shortValue(value: unknown): string {
  const text = oneLine(formatValue(value))
  return text.length > VALUE_SHOWN
    ? `${text.slice(0, VALUE_SHOWN)}… (${formatCount(text.length)} characters)`
    : text
}

// ── Fitting under the limit ──────────────────────────────────────────────────────────────────

interface Blocks {
  readonly top: string
  readonly findings: readonly Variants[]
  readonly approvals: Variants | undefined
  readonly stageMoves: Variants | undefined
  readonly groups: readonly GroupBlock[]
}

/** Findings and approvals may take at most this share of the comment, so that some changes always show. */
const FINDINGS_SHARE = 0.5

/**
 * Puts the blocks together under `maxLength`. Each block has variants from the most to the least
 * detailed; `findingChoice`, `groupChoice` and `approvalsChoice` say which variant each block
 * shows, and `render` takes how many findings and groups are shown at all.
 */
function assemble(blocks: Blocks, maxLength: number): string {
  const { top, findings, approvals, stageMoves, groups } = blocks
  const heading = changesHeading(groups)
  const findingChoice = findings.map(() => 0)
  const groupChoice = groups.map(() => 0)
  let approvalsChoice = 0
  let stageMovesChoice = 0
  const render = (findingsShown: number, groupsShown: number) => {
    let out = top
    for (let i = 0; i < findingsShown; i++) out += findings[i]!.variants[findingChoice[i]!]
    out += approvals?.variants[approvalsChoice] ?? ''
    out += stageMoves?.variants[stageMovesChoice] ?? ''
    if (groupsShown > 0) out += heading
    let section = ''
    for (let i = 0; i < groupsShown; i++) {
      const group = groups[i]!
      if (group.section !== section) {
        section = group.section
        out += sectionHeading(section)
      }
      out += group.variants[groupChoice[i]!]
    }
    return out
  }

  const full = render(findings.length, groups.length)
  if (full.length <= maxLength) return full

  // First: sum up the diffs of multi-line strings, then drop the property details, of the
  // groups where that saves most (variants 1 and 2 of a group).
  let length = full.length
  for (const level of [1, 2]) {
    const bySaving = groups
      .map((g, i) => ({ i, saving: g.variants[groupChoice[i]!]!.length - g.variants[level]!.length }))
      .filter((g) => g.saving > 0)
      .sort((a, b) => b.saving - a.saving || a.i - b.i)
    for (const { i, saving } of bySaving) {
      if (length <= maxLength) break
      groupChoice[i] = level
      length -= saving
    }
    if (length <= maxLength) return render(findings.length, groups.length)
  }

  // Then: blocks in order (findings, approvals, changes), each with as much detail as still
  // fits, until one does not fit at all; a note says what is left out.
  groupChoice.fill(0)
  const budget =
    maxLength -
    truncationNote({ maxLength, findings: findings.length, changes: 1e9, groups: 1e9, destructive: true })
      .length
  let used = top.length
  const pick = (variants: readonly string[], limit: number, overhead = 0) => {
    const i = variants.findIndex((v) => used + overhead + v.length <= limit)
    if (i >= 0) used += overhead + variants[i]!.length
    return i
  }
  const findingsLimit = Math.max(top.length, budget * FINDINGS_SHARE)
  let findingsShown = 0
  for (const finding of findings) {
    const i = pick(finding.variants, findingsLimit)
    if (i < 0) break
    findingChoice[findingsShown++] = i
  }
  if (approvals) {
    // Without its list, the block is short and says what the verdict needs: it always goes in.
    approvalsChoice = pick(approvals.variants, findingsLimit)
    if (approvalsChoice < 0) {
      approvalsChoice = approvals.variants.length - 1
      used += approvals.variants[approvalsChoice]!.length
    }
  }
  if (stageMoves) {
    // Like the approvals: one line per move, without the target lists, always goes in.
    stageMovesChoice = pick(stageMoves.variants, findingsLimit)
    if (stageMovesChoice < 0) {
      stageMovesChoice = stageMoves.variants.length - 1
      used += stageMoves.variants[stageMovesChoice]!.length
    }
  }
  let groupsShown = 0
  let section = ''
  for (const group of groups) {
    const overhead =
      (groupsShown === 0 ? heading.length : 0) +
      (group.section === section ? 0 : sectionHeading(group.section).length)
    const i = pick(group.variants, budget, overhead)
    if (i < 0) break
    groupChoice[groupsShown++] = i
    section = group.section
  }
  const left = groups.slice(groupsShown)
  if (left.length === 0 && findingsShown === findings.length) return render(findingsShown, groupsShown)
  const note = truncationNote({
    maxLength,
    findings: findings.length - findingsShown,
    changes: left.reduce((n, g) => n + g.changes, 0),
    groups: left.length,
    // Destructive groups come first, so what is cut is usually harmless: say so when it is.
    destructive: left.some((g) => g.section === SECTIONS[0].title),
  })
  return cutToFit(render(findingsShown, groupsShown), maxLength, note)
}

function sectionHeading(title: string): string {
  return `##### ${title}\n\n`
}

function changesHeading(groups: readonly GroupBlock[]): string {
  const changes = groups.reduce((n, g) => n + g.changes, 0)
  return `#### ${plural(changes, 'change')}, ${formatCount(groups.length)} distinct\n\n`
}

function truncationNote(left: {
  maxLength: number
  findings?: number
  changes?: number
  groups?: number
  destructive?: boolean
}): string {
  const parts: string[] = []
  if (left.findings) parts.push(plural(left.findings, 'more finding'))
  if (left.changes) {
    parts.push(`${plural(left.changes, 'more change')} in ${plural(left.groups ?? 0, 'group')}`)
  }
  const what = parts.length ? `${parts.join(' and ')} not shown` : 'the plan is cut short'
  const kind = left.changes ? `${left.destructive ? 'some' : 'none'} of them destructive or protected; ` : ''
  return (
    `---\n\n_Truncated: ${what} (${kind}the comment limit is ${formatCount(left.maxLength)} characters); ` +
    'run `flotilla plan --format json` for the full plan._\n'
  )
}

/**
 * `text` followed by `note`, `text` cut at a line boundary where both would not fit `max`.
 * Only a limit too small for the verdict and blast radius cuts anything here.
 */
function cutToFit(text: string, max: number, note: string): string {
  if (text.length + note.length <= max) return text + note
  const cut = text.lastIndexOf('\n', Math.max(0, max - note.length) - 1)
  return text.slice(0, cut + 1) + note
}

// ── Markdown that repository content cannot break ─────────────────────────────────────────────

/**
 * Characters that Markdown or HTML would interpret, as numeric character references: a
 * reference is always literal text, in Markdown, in table cells and inside HTML blocks.
 */
const SPECIAL = /[&<>"'`*_[\]\\|~$]/g

/** Repository text for a Markdown paragraph, table cell or HTML block: literal, on one line. */
export function escapeMarkdown(text: string): string {
  return oneLine(text).replace(SPECIAL, (c) => `&#${c.charCodeAt(0)};`)
}

/** Repository text as inline code. `<code>` rather than backticks, so that `|` in a table cell and backticks in the text stay literal. */
function code(text: string): string {
  return `<code>${escapeMarkdown(text)}</code>`
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: line breaks and control characters are what is replaced
const CONTROL = /[\u0000-\u001f\u007f]/g

function oneLine(text: string): string {
  return text.replace(CONTROL, ' ')
}

/** A fenced code block; its fence is longer than any run of backticks inside, so no line can close it. */
function codeBlock(lines: readonly string[], info = 'text'): string {
  const body = lines.map(oneLine)
  const longestRun = Math.max(
    0,
    ...body.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((r) => r.length))),
  )
  const fence = '`'.repeat(Math.max(3, longestRun + 1))
  return `${fence}${info}\n${body.join('\n')}\n${fence}\n\n`
}

/** A collapsed section. The blank line after `<summary>` lets GitHub render Markdown inside. */
function collapsed(summary: string, body: string): string {
  return `<details><summary>${summary}</summary>\n\n${body}</details>\n\n`
}

/** The items that fit in `budget` characters (one per line), then `… and N more`. */
function cappedLines(items: readonly string[], budget: number): string[] {
  const { shown, more } = capItems(items, budget)
  return more ? [...shown, `… and ${formatCount(more)} more`] : shown
}

/** The items that fit in `budget` characters (at least one), and how many did not. */
function capItems(items: readonly string[], budget: number): { shown: string[]; more: number } {
  const shown: string[] = []
  let used = 0
  for (const item of items) {
    if (used + item.length + 1 > budget && shown.length > 0) break
    shown.push(item)
    used += item.length + 1
  }
  return { shown, more: items.length - shown.length }
}

function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${formatCount(n)} ${n === 1 ? noun : nouns}`
}
