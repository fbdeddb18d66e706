/**
 * `flotilla drill`: a reproducible game-day on a simulated copy of the fleet. Each dangerous
 * change of {@link drillScenarios} is committed into a scratch clone of the repository and taken
 * through Flotilla's safeguards (or, with `unsafe`, around them), and the report says what stopped
 * it, where, and whether anything reached production. The same revision and the same `now` give
 * the same report.
 */
import { InputError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import { favouringMemory } from '../lib/memory-mode.ts'
import type { DrillReport, Outage, Restore, ScenarioResult } from './drill-report.ts'
import { changedTargets, productionState, runGuarded } from './guarded.ts'
import { type DrillScenario, drillScenarios, NotApplicable, type ScenarioName } from './scenarios.ts'
import { openScratchFleet, type ScratchFleet } from './scratch-fleet.ts'
import { applyUnguarded, outageOf, restoreFleet } from './unguarded.ts'

/** What {@link runDrill} needs. */
export interface DrillOptions {
  /** The fleet repository to copy. */
  readonly repo: string
  /** @default HEAD */
  readonly rev?: string
  /** Safeguards off: show the outage and the restore. */
  readonly unsafe?: boolean
  /** Only these scenarios. @default all */
  readonly only?: readonly ScenarioName[]
  /** What policies see as now. @default the current time */
  readonly now?: Date
  /** Told what the drill is doing, one line at a time. */
  readonly progress?: (line: string) => void
}

/**
 * Runs a drill (see the module comment), with the process favouring memory over speed while it
 * does (`lib/memory-mode.ts`): building a simulated copy of the fleet is one burst of garbage.
 */
export function runDrill(options: DrillOptions): Promise<DrillReport> {
  return favouringMemory(() => drill(options))
}

async function drill(options: DrillOptions): Promise<DrillReport> {
  const now = options.now ?? new Date()
  const progress = options.progress ?? (() => {})
  const scenarios = drillScenarios().filter((s) => !options.only || options.only.includes(s.name))
  const scratch = await openScratchFleet(options.repo, options.rev ?? 'HEAD')
  try {
    const { baseFleet } = scratch
    const count = (kind: string) => baseFleet.targets.filter((t) => t.kind === kind).length
    progress(`Building the simulated fleet: ${count('account')} accounts, ${count('cluster')} clusters …`)
    await scratch.build()
    const results: ScenarioResult[] = []
    let dirty = false
    // What production looks like in the fleet as built: taken again only after the fleet was built
    // again. Observing 300 accounts and 250 clusters takes about a second, and most scenarios are
    // stopped before they change anything.
    let baseline: ReadonlyMap<string, string> | undefined
    for (const scenario of scenarios) {
      if (dirty) await scratch.build()
      if (dirty || baseline === undefined) baseline = await productionState(scratch)
      progress(`${scenario.name}: ${scenario.mistake}`)
      const result = await runScenario(scratch, scenario, baseline, now, options.unsafe === true)
      dirty = result.dirty
      results.push(result.result)
    }
    return {
      revision: scratch.drilled,
      unsafe: options.unsafe === true,
      policyTime: now.toISOString(),
      targets: { accounts: count('account'), clusters: count('cluster') },
      scenarios: results,
    }
  } finally {
    await scratch.close()
  }
}

async function runScenario(
  scratch: ScratchFleet,
  scenario: DrillScenario,
  before: ReadonlyMap<string, string>,
  now: Date,
  unsafe: boolean,
): Promise<{ result: ScenarioResult; dirty: boolean }> {
  const started = performance.now()
  const seconds = () => Math.round((performance.now() - started) / 100) / 10
  await scratch.branch(scenario.name)
  let change: string
  try {
    change = scenario.edit(scratch.repo, scratch.baseFleet)
  } catch (error) {
    if (!(error instanceof NotApplicable)) throw error
    const result: ScenarioResult = {
      name: scenario.name,
      stoppedBy: null,
      stage: null,
      reachedProduction: false,
      detail: `skipped: ${error.message}`,
      mistake: scenario.mistake,
      change: null,
      skipped: error.message,
      productionTargets: [],
      seconds: seconds(),
    }
    return { result, dirty: false }
  }
  const head = await scratch.commit(`Drill: ${scenario.name}`)
  const common = { name: scenario.name, mistake: scenario.mistake, change }

  if (unsafe) {
    const services = await scratch.simulator.serviceStates()
    const applied = await applyUnguarded(
      scratch,
      scenario.unguarded(scratch.baseFleet, await loadIfValid(scratch, head)),
      head,
    )
    const reached = changedTargets(before, await productionState(scratch))
    const outage = outageOf(applied, services, await scratch.simulator.serviceStates())
    const restore = await restoreFleet(scratch, applied, services)
    const result: ScenarioResult = {
      ...common,
      stoppedBy: null,
      stage: null,
      reachedProduction: reached.length > 0,
      detail: unsafeDetail(outage, restore),
      productionTargets: reached,
      seconds: seconds(),
      outage,
      restore,
    }
    return { result, dirty: true }
  }

  const outcome = await runGuarded(scratch, head, scenario.name, now)
  // Reached: stepped by the rollout (even if rolled back since), or changed by any other way.
  const changed = outcome.applied ? changedTargets(before, await productionState(scratch)) : []
  const reached = [...new Set([...outcome.touched, ...changed])].sort()
  const result: ScenarioResult = {
    ...common,
    stoppedBy: outcome.stoppedBy,
    stage: outcome.stage,
    reachedProduction: reached.length > 0,
    detail: outcome.detail,
    productionTargets: reached,
    seconds: seconds(),
  }
  return { result, dirty: outcome.applied }
}

/** The broken revision as Flotilla loads it, or nothing when it is invalid. */
async function loadIfValid(scratch: ScratchFleet, head: string): Promise<Fleet | undefined> {
  try {
    return await scratch.engine.loadRevision(head)
  } catch (error) {
    if (error instanceof InputError) return undefined
    throw error
  }
}

function unsafeDetail(outage: Outage, restore: Restore): string {
  const parts = [
    `safeguards off: ${outage.targetsChanged} ${outage.targetsChanged === 1 ? 'target' : 'targets'} changed at once, ${outage.deleted} resources deleted`,
    `${outage.production.down} of ${outage.production.total} production services and ${outage.ops.down} of ${outage.ops.total} ops services stopped answering`,
    restore.how === 'snapshots'
      ? `${outage.snapshots} zones restored from snapshots in ${restore.seconds.toFixed(1)} s`
      : `the last good revision applied again in ${restore.seconds.toFixed(1)} s (nothing was destroyed)`,
    restore.recovered ? 'every service answers again' : `still down: ${restore.stillDown.join(', ')}`,
  ]
  return parts.join('; ')
}
