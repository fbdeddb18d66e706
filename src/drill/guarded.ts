/**
 * A dangerous change taken through every safeguard, in the order a real change meets them:
 * validation of the revision, the plan against the last revision (the pull request's check),
 * the plan against the observed fleet with the policies (what the controller decides on), then a
 * rollout through the stages with their gates. The first that stops it is the result, and the
 * production targets' observed state before and after says whether anything reached them.
 */
import { formatDiagnostic } from '../core/diagnostics.ts'
import { ConflictError, InputError, PolicyError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import type { Plan } from '../core/model/plan.ts'
import { planRevisions } from '../core/plan/plan-revisions.ts'
import { fingerprintsOf } from '../core/provider/fingerprint.ts'
import { abortRollout } from '../rollout/controls.ts'
import { prepare, rolloutStatus, runRollout, startRollout } from '../rollout/engine.ts'
import { loadTargets } from '../rollout/rollout-store.ts'
import { findingLine, isProduction, type Safeguard, stoppingSafeguard } from './drill-report.ts'
import type { ScratchFleet } from './scratch-fleet.ts'

/** Where a guarded change stopped. */
export interface GuardedOutcome {
  readonly stoppedBy: Safeguard | null
  readonly stage: string | null
  readonly detail: string
  /** Whether the simulated fleet was changed (it must be built again before the next scenario). */
  readonly applied: boolean
  /** Production targets a rollout stepped, whatever became of them (rolled back or not). */
  readonly touched: readonly string[]
}

/** The actor a drill's rollouts are recorded under. */
const DRILL_ACTOR = 'drill'

/** Takes the committed `head` through the safeguards (see the module comment). */
export async function runGuarded(
  scratch: ScratchFleet,
  head: string,
  ref: string,
  now: Date,
): Promise<GuardedOutcome> {
  let fleet: Fleet
  try {
    fleet = await scratch.engine.loadRevision(head) // the copy its rollout uses too
  } catch (error) {
    if (!(error instanceof InputError)) throw error
    return stopped('validation', firstProblem(error))
  }

  // The drill's trusted revision is the one it drills: a change is judged by its rules too.
  const trusted = { commit: scratch.base, label: `drilled ${scratch.base.slice(0, 12)}` }
  const reviewed = planRevisions(scratch.baseFleet, fleet, { now })
  if (!reviewed.ok) {
    return stopped(
      'validation',
      `the plan against the last revision: ${reviewed.errors.map(formatDiagnostic).slice(0, 3).join('; ')}`,
    )
  }
  if (reviewed.plan.verdict === 'denied' || reviewed.plan.verdict === 'requires-approval')
    return stoppedByPlan(reviewed.plan, 'the plan against the last revision (the pull request check)')

  // The drill's time (--now) is a what-if: the scratch fleet is thrown away, nothing real changes.
  const deps = {
    ...scratch.engine,
    policyClock: () => ({ at: now.toISOString(), source: 'what-if' as const }),
  }
  let started: Awaited<ReturnType<typeof startRollout>>
  try {
    // Starting plans against the observed fleet with the policies, as the controller would.
    started = await startRollout(deps, { commit: head, ref, approvals: [], actor: DRILL_ACTOR, trusted })
  } catch (error) {
    if (!(error instanceof PolicyError) && !(error instanceof ConflictError)) throw error
    // Refused before anything moved: planned once more (nothing changed since) for the findings
    // that refused it. Planning first every time would plan the allowed changes twice.
    const prepared = await prepare(deps, fleet, head, { ref, approvals: [], trusted })
    if (prepared.ok) throw error
    if (prepared.plan) return stoppedByPlan(prepared.plan, 'the plan against the observed fleet')
    if (prepared.verdict === 'no-changes')
      return { stoppedBy: null, stage: null, detail: prepared.why, applied: false, touched: [] }
    return stopped('validation', prepared.why)
  }
  await runRollout(deps, started.id)
  const status = await rolloutStatus(deps.db, started.id)
  const production = new Set(fleet.targets.filter(isProduction).map((t) => t.id))
  const touched = (await loadTargets(deps.db, started.id))
    .filter((row) => row.attempts > 0 && production.has(row.target))
    .map((row) => row.target)
  const stage = status.stages.find((s) => s.state === 'failed' || s.state === 'waiting-approval')
  switch (status.state) {
    case 'rolled-back':
    case 'halted':
      return {
        stoppedBy: 'gate',
        stage: stage?.name ?? null,
        detail: `rollout ${status.id} ${status.state} in stage ${stage?.name ?? '?'}: ${status.haltReason ?? ''}`,
        applied: true,
        touched,
      }
    case 'waiting-approval':
      // A person would have to approve the stage: the drill does not, and lets go of the targets.
      await abortRollout(deps.db, status.id, { actor: DRILL_ACTOR, source: 'cli' })
      return {
        stoppedBy: 'gate',
        stage: stage?.name ?? null,
        detail: `rollout ${status.id} passed every gate before stage ${stage?.name ?? '?'}, which waits for a person's approval (the drill gives none)`,
        applied: true,
        touched,
      }
    default:
      return {
        stoppedBy: null,
        stage: null,
        detail: `rollout ${status.id} ${status.state}: nothing stopped the change${status.haltReason ? ` (${status.haltReason})` : ''}`,
        applied: true,
        touched,
      }
  }
}

/**
 * The production targets' observed state, one fingerprint each: compared before and after a
 * scenario, it says whether the change reached production, whatever path it took.
 */
export async function productionState(scratch: ScratchFleet): Promise<Map<string, string>> {
  const observed = await scratch.app.observe(scratch.baseFleet, isProduction)
  return new Map(
    [...observed.observed].map(([id, state]) => [id, JSON.stringify(fingerprintsOf(state))] as const),
  )
}

/** Ids whose fingerprint differs between two {@link productionState}s. */
export function changedTargets(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): string[] {
  const ids = new Set([...before.keys(), ...after.keys()])
  return [...ids].filter((id) => before.get(id) !== after.get(id)).sort()
}

function stopped(stoppedBy: Safeguard, detail: string): GuardedOutcome {
  return { stoppedBy, stage: null, detail, applied: false, touched: [] }
}

function stoppedByPlan(plan: Plan, where: string): GuardedOutcome {
  const { safeguard, findings } = stoppingSafeguard(plan)
  const more = findings.length > 1 ? ` (and ${findings.length - 1} more findings)` : ''
  return stopped(
    safeguard,
    `${where} is ${plan.verdict}: ${findings[0] ? findingLine(findings[0]) : ''}${more}`,
  )
}

function firstProblem(error: InputError): string {
  const first = error.diagnostics[0]
  const more = error.diagnostics.length > 1 ? ` (and ${error.diagnostics.length - 1} more problems)` : ''
  return first ? `${formatDiagnostic(first)}${more}` : error.message
}
