import { resolve } from 'node:path'
import { InputError } from '../../core/errors.ts'
import { runDrill } from '../../drill/drill.ts'
import type { DrillReport, ScenarioResult } from '../../drill/drill-report.ts'
import { SCENARIO_NAMES, type ScenarioName } from '../../drill/scenarios.ts'
import type { DrillOptions } from '../declarations.ts'
import { parseNow } from '../inputs.ts'
import type { CliIo } from '../io.ts'

/**
 * `flotilla drill`: the dangerous changes, each taken through the safeguards on a scratch copy
 * of the fleet (see `src/drill/drill.ts`). Exit 0 when every change was stopped before production
 * (with `--unsafe`: when the fleet was restored after each), 3 otherwise.
 */
export async function drillCommand(options: DrillOptions, io: CliIo): Promise<number> {
  const only = (options.scenario ?? []).map(scenarioName)
  const json = options.format === 'json'
  const report = await runDrill({
    repo: resolve(io.cwd, options.repo ?? '.'),
    rev: options.rev ?? 'HEAD',
    unsafe: options.unsafe === true,
    ...(only.length > 0 ? { only } : {}),
    ...(options.now === undefined ? {} : { now: parseNow(options.now) }),
    // Progress goes to stderr, so that the JSON on stdout stays one document.
    progress: (line) => io.stderr(`${line}\n`),
  })
  if (json) io.stdout(`${JSON.stringify(report, null, 2)}\n`)
  else io.stdout(drillText(report))
  return passed(report) ? 0 : 3
}

/** Whether the drill went as it must: nothing reached production, or (unsafe) everything came back. */
export function passed(report: DrillReport): boolean {
  return report.scenarios.every((s) =>
    report.unsafe
      ? (s.restore?.recovered ?? true)
      : !s.reachedProduction && (s.stoppedBy !== null || s.skipped),
  )
}

function scenarioName(name: string): ScenarioName {
  if ((SCENARIO_NAMES as readonly string[]).includes(name)) return name as ScenarioName
  throw new InputError(`--scenario ${name} is not a drill scenario (scenarios: ${SCENARIO_NAMES.join(', ')})`)
}

/** The report as text: one block per scenario, then the verdict. */
export function drillText(report: DrillReport): string {
  const lines = [
    `Drill of ${report.revision.slice(0, 12)} on a simulated copy of the fleet (${report.targets.accounts} accounts, ${report.targets.clusters} clusters)${report.unsafe ? ', SAFEGUARDS OFF' : ''}; policies at ${report.policyTime}.`,
    '',
  ]
  for (const s of report.scenarios) lines.push(...scenarioLines(s, report.unsafe), '')
  const ran = report.scenarios.filter((s) => !s.skipped)
  if (report.unsafe) {
    const restored = ran.filter((s) => s.restore?.recovered).length
    lines.push(
      `${restored} of ${ran.length} outages fully restored. With the safeguards on, run: flotilla drill`,
    )
  } else if (passed(report)) {
    lines.push(`All ${ran.length} dangerous changes were stopped before production.`)
  } else {
    const through = ran.filter((s) => s.reachedProduction || s.stoppedBy === null).map((s) => s.name)
    lines.push(`Not stopped before production: ${through.join(', ')}. Tighten policies, stages or gates.`)
  }
  return `${lines.join('\n')}\n`
}

function scenarioLines(s: ScenarioResult, unsafe: boolean): string[] {
  const head = `${s.name} (${s.seconds.toFixed(1)} s)`
  if (s.skipped) return [head, `  skipped: ${s.skipped}`]
  const verdict = unsafe
    ? `  reached production: ${s.reachedProduction ? `yes, ${targetCount(s.productionTargets.length)}` : 'no'}`
    : s.stoppedBy
      ? `  stopped by ${s.stoppedBy}${s.stage ? ` in stage ${s.stage}` : ''}; reached production: ${s.reachedProduction ? `YES (${s.productionTargets.join(', ')})` : 'no'}`
      : `  NOT STOPPED; reached production: ${s.reachedProduction ? `YES (${targetCount(s.productionTargets.length)})` : 'no'}`
  const out = [head, `  mistake: ${s.mistake}`, `  change:  ${s.change}`, verdict, `  ${s.detail}`]
  if (s.outage && s.restore) {
    out.push(
      `  outage: ${s.outage.production.down}/${s.outage.production.total} production and ${s.outage.ops.down}/${s.outage.ops.total} ops services down${s.outage.examples.length ? `, e.g. ${s.outage.examples[0]}` : ''}`,
      `  time to restore: ${s.restore.seconds.toFixed(1)} s${s.restore.opsSeconds !== null ? ` (ops tooling after ${s.restore.opsSeconds.toFixed(1)} s)` : ''}; in November 2022, by hand: about 7 hours`,
    )
  }
  return out
}

const targetCount = (n: number) => `${n} ${n === 1 ? 'target' : 'targets'}`
