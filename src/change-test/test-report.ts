/**
 * What `flotilla test` found (`--format json` prints it as is), and its text and pull-request
 * markdown renderings.
 */
import type { RepresentativeTarget } from '../core/plan/representative-targets.ts'

/** A gate as it ran for a stage. */
export interface TestedGate {
  readonly name: string
  readonly type: string
  readonly state: 'passed' | 'failed'
  readonly detail: string
  readonly ms: number
}

/** One event of a target that failed, as the rollout recorded it. */
export interface FailureEvent {
  readonly at: string
  readonly type: string
  readonly target: string | null
  readonly detail: string
}

/** One way the change was tried. */
export interface TestPhase {
  /** `upgrade`: the base built from empty, then the head rolled out over it; `fresh`: the head from empty. */
  readonly name: 'upgrade' | 'fresh'
  readonly state: 'passed' | 'failed'
  /** Why it failed, in one line; empty when it passed. */
  readonly reason: string
  readonly ms: number
  /** Building the base from empty (the upgrade only), in ms. */
  readonly baseMs?: number
  readonly stages: readonly {
    readonly name: string
    readonly state: string
    readonly targets: readonly {
      readonly id: string
      readonly state: string
      readonly reason: string | null
    }[]
    readonly gates: readonly TestedGate[]
  }[]
  /** The events of the targets that failed (the last 20 of each). */
  readonly failures: readonly FailureEvent[]
}

/** The whole result. */
export interface TestReport {
  readonly base: string
  readonly head: string
  readonly verdict: 'passed' | 'failed' | 'no-changes'
  /** The plan's changes, counted: targets and distinct changes (groups). */
  readonly plan: { readonly targets: number; readonly changes: number }
  readonly targets: readonly RepresentativeTarget[]
  /** Gates the ephemeral fleet cannot run (they look at the real fleet), left out. */
  readonly skippedGates: readonly { readonly name: string; readonly type: string }[]
  /** Approvals the plan needed, given in the sandbox (the test does not judge policy). */
  readonly approvalsGiven: readonly string[]
  readonly phases: readonly TestPhase[]
  readonly ms: number
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** The report as text, for a terminal. */
export function testText(report: TestReport): string {
  const lines = [
    `Test of ${report.head.slice(0, 12)} as an upgrade of ${report.base.slice(0, 12)} in an ephemeral simulated fleet`,
  ]
  if (report.verdict === 'no-changes') {
    lines.push('', 'Nothing to test: the head changes no target.')
    return `${lines.join('\n')}\n`
  }
  lines.push(
    `  plan: ${count(report.plan.changes, 'distinct change')} in ${count(report.plan.targets, 'target')}; tried on ${report.targets.length}:`,
  )
  for (const target of report.targets) lines.push(`    ${targetLine(target)}`)
  if (report.skippedGates.length > 0)
    lines.push(`  not run here (they watch the real fleet): ${skippedText(report)}`)
  if (report.approvalsGiven.length > 0)
    lines.push(`  approvals the plan needs, given in the sandbox: ${report.approvalsGiven.length}`)
  for (const phase of report.phases) {
    lines.push('', `${phaseTitle(phase)}: ${phase.state.toUpperCase()} in ${seconds(phase.ms)}`)
    if (phase.reason) lines.push(`  ${phase.reason}`)
    for (const stage of phase.stages) {
      const gates = stage.gates.map((g) => `${g.name} ${g.state}`).join(', ')
      lines.push(
        `  ${stage.name}: ${stage.state} (${stage.targets.map((t) => `${t.id} ${t.state}`).join(', ')})${gates ? `; gates: ${gates}` : ''}`,
      )
      for (const target of stage.targets.filter((t) => t.reason !== null))
        lines.push(`    ${target.id}: ${target.reason}`)
    }
    if (phase.failures.length > 0) {
      lines.push('  events of what failed:')
      for (const event of phase.failures) lines.push(`    ${eventLine(event)}`)
    }
  }
  lines.push(
    '',
    report.verdict === 'passed'
      ? `Passed in ${seconds(report.ms)}.`
      : `FAILED in ${seconds(report.ms)}: ${report.phases
          .filter((p) => p.state === 'failed')
          .map((p) => p.name)
          .join(' and ')} (see above).`,
  )
  return `${lines.join('\n')}\n`
}

/** The report as GitHub-flavoured markdown, for a pull request comment. */
export function testMarkdown(report: TestReport): string {
  const icon = report.verdict === 'failed' ? '❌' : '✅'
  const lines = [
    `### ${icon} flotilla test: ${report.verdict === 'no-changes' ? 'nothing to test' : report.verdict}`,
    '',
    `\`${report.head.slice(0, 12)}\` as an upgrade of \`${report.base.slice(0, 12)}\`, in an ephemeral simulated fleet (${seconds(report.ms)}).`,
  ]
  if (report.verdict === 'no-changes') return `${lines.join('\n')}\n`
  lines.push(
    '',
    `${count(report.plan.changes, 'distinct change')} in ${count(report.plan.targets, 'target')}, tried on ${report.targets.length}:`,
    '',
    '| stage | target | stands for |',
    '| --- | --- | --- |',
  )
  for (const t of report.targets)
    lines.push(
      `| ${t.stage ?? '—'} | \`${t.id}\` | ${t.broughtBy ? `account of \`${t.broughtBy}\`` : cell(t.changes)} |`,
    )
  lines.push('', '| phase | result | time | gates |', '| --- | --- | --- | --- |')
  for (const phase of report.phases) {
    const gates = phase.stages.flatMap((s) =>
      s.gates.map((g) => `${s.name}/${g.name} ${g.state === 'passed' ? '✓' : '✗'}`),
    )
    lines.push(
      `| ${phaseTitle(phase)} | ${phase.state === 'passed' ? '✅ passed' : `❌ ${escapeCell(phase.reason)}`} | ${seconds(phase.ms)} | ${gates.join(', ') || '—'} |`,
    )
  }
  if (report.skippedGates.length > 0)
    lines.push('', `Not run in the ephemeral fleet (they watch the real one): ${skippedText(report)}.`)
  for (const phase of report.phases.filter((p) => p.failures.length > 0)) {
    lines.push(
      '',
      `<details><summary>Events of what failed (${phaseTitle(phase)})</summary>`,
      '',
      '```',
      ...phase.failures.map(eventLine),
      '```',
      '</details>',
    )
  }
  return `${lines.join('\n')}\n`
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

function phaseTitle(phase: TestPhase): string {
  return phase.name === 'upgrade' ? 'upgrade (base, then the change)' : 'from empty (a new target)'
}

function targetLine(t: RepresentativeTarget): string {
  const why = t.broughtBy ? `the account of ${t.broughtBy}` : t.changes.slice(0, 3).join('; ')
  const more = !t.broughtBy && t.changes.length > 3 ? ` (+${t.changes.length - 3} more)` : ''
  return `${t.stage ?? '(no stage)'}: ${t.id} — ${why}${more}`
}

function skippedText(report: TestReport): string {
  return report.skippedGates.map((g) => `${g.name} (${g.type})`).join(', ')
}

function eventLine(event: FailureEvent): string {
  return `${event.at} ${event.type}${event.target ? ` ${event.target}` : ''}: ${event.detail}`
}

function cell(changes: readonly string[]): string {
  const shown = changes.slice(0, 3).map((c) => `\`${escapeCell(c)}\``)
  return `${shown.join('<br>')}${changes.length > 3 ? `<br>+${changes.length - 3} more` : ''}`
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}
