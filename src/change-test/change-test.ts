/**
 * `flotilla test --base REV --head REV`: a change tried as an upgrade before it merges, in a
 * minute instead of an hour. Representative targets of the plan (`core/plan/representative-
 * targets.ts`) are copied into an ephemeral simulated fleet (`test-sandbox.ts`); the base is built
 * there from empty, then the head is rolled out over it through the rollout engine, stage by
 * stage with the stages' gates (health, dns, the repository's command gates against the ephemeral
 * fleet's endpoints). The head is also rolled out from empty, as on a new target. Failing either
 * fails the test: a change that breaks DNS only at run time fails a `dns` gate; one whose stack
 * update fails only from the old state (a custom-named resource replaced) fails the upgrade.
 */
import { formatDiagnostic } from '../core/diagnostics.ts'
import { InputError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import { groupIdenticalChanges } from '../core/plan/change-groups.ts'
import { planRevisions } from '../core/plan/plan-revisions.ts'
import { representativeTargets } from '../core/plan/representative-targets.ts'
import { parseApproval } from '../core/policy/approvals.ts'
import { applyFleet, BOOTSTRAP_POLICY_TIME } from '../operations/apply-fleet.ts'
import { prepare, rolloutStatus, runRollout, startRollout } from '../rollout/engine.ts'
import { listRolloutEvents } from '../store/events.ts'
import type { FailureEvent, TestPhase, TestReport } from './test-report.ts'
import { openTestSandbox, type TestSandbox } from './test-sandbox.ts'

/** What {@link runChangeTest} needs. */
export interface ChangeTestOptions {
  /** The fleet repository (only read: the test works in a scratch clone). */
  readonly repo: string
  readonly base: string
  readonly head: string
  /** What policies and the engine see as now. @default the current time */
  readonly now?: Date
  /** Told what the test is doing, one line at a time. */
  readonly progress?: (line: string) => void
}

/** The actor the test's rollouts are recorded under (in the sandbox's own store). */
const ACTOR = 'flotilla-test'

/** How many events of a failed target the report keeps. */
const EVENTS_PER_FAILURE = 20

/** Runs the test (see the module comment). */
export async function runChangeTest(options: ChangeTestOptions): Promise<TestReport> {
  const started = performance.now()
  const progress = options.progress ?? (() => {})
  const now = options.now ?? new Date()
  const sandbox = await openTestSandbox(options.repo, options.base, options.head)
  try {
    const base = await loadAs(sandbox, sandbox.base, options.base)
    const head = await loadAs(sandbox, sandbox.head, options.head)
    const reviewed = planRevisions(base, head, { now })
    if (!reviewed.ok) {
      throw new InputError(
        `the change from ${options.base} to ${options.head} cannot be planned: ${reviewed.errors.map(formatDiagnostic).slice(0, 3).join('; ')}`,
        reviewed.errors,
      )
    }
    const plan = reviewed.plan
    const changed = plan.targets.filter((t) => t.changes.some((c) => c.action !== 'no-op') || t.stageMove)
    const report = {
      base: sandbox.given.base,
      head: sandbox.given.head,
      plan: { targets: changed.length, changes: groupIdenticalChanges(plan.targets).length },
      skippedGates: sandbox.rewrite.skippedGates,
    }
    if (plan.verdict === 'no-changes' || changed.length === 0) {
      return {
        ...report,
        verdict: 'no-changes',
        targets: [],
        approvalsGiven: [],
        phases: [],
        ms: performance.now() - started,
      }
    }
    const targets = representativeTargets(plan, {
      accountOf: (id) => (head.clusters.get(id) ?? base.clusters.get(id))?.account,
      stageOrder: head.rollout.stages.map((s) => s.name),
      stageOf: (id) => head.stageOf.get(id) ?? base.stageOf.get(id) ?? null,
    })
    const ids = targets.map((t) => t.id)
    sandbox.writeKubeconfig(targets.filter((t) => t.kind === 'cluster').map((t) => t.id))
    progress(`Trying ${plan.targets.length} targets' changes on ${ids.length}: ${ids.join(', ')}`)
    const approvalsGiven = new Set<string>()
    const context = { sandbox, now, ids, approvalsGiven, progress }
    const phases: TestPhase[] = [await upgrade(context, base, head)]
    const fresh = ids.filter((id) =>
      head.targets.some((t) => t.id === id && t.lifecycle !== 'decommissioned'),
    )
    if (fresh.length > 0) phases.push(await fromEmpty({ ...context, ids: fresh }, head))
    return {
      ...report,
      verdict: phases.every((p) => p.state === 'passed') ? 'passed' : 'failed',
      targets,
      approvalsGiven: [...approvalsGiven].sort(),
      phases,
      ms: performance.now() - started,
    }
  } finally {
    await sandbox.close()
  }
}

/**
 * Loads a commit of the scratch clone; an invalid revision is reported under the name the user
 * gave it (the clone's commit, rewritten for the sandbox, means nothing to them).
 */
async function loadAs(sandbox: TestSandbox, commit: string, given: string): Promise<Fleet> {
  try {
    return await sandbox.engine.loadRevision(commit)
  } catch (error) {
    if (!(error instanceof InputError)) throw error
    throw new InputError(
      `${given} is invalid, so it cannot be tested; run "flotilla validate --rev ${given}"`,
      error.diagnostics,
    )
  }
}

interface PhaseContext {
  readonly sandbox: TestSandbox
  readonly now: Date
  readonly ids: readonly string[]
  readonly approvalsGiven: Set<string>
  readonly progress: (line: string) => void
}

/** The base built from empty on the chosen targets, then the head rolled out over it. */
async function upgrade(context: PhaseContext, base: Fleet, head: Fleet): Promise<TestPhase> {
  const { sandbox, ids, progress } = context
  const started = performance.now()
  await sandbox.emptyFleet()
  const inBase = new Set(base.targets.map((t) => t.id))
  const chosen = new Set(ids.filter((id) => inBase.has(id)))
  progress(`Building the base on ${chosen.size} targets …`)
  const built = await applyFleet({
    head: base,
    registry: sandbox.registry,
    db: sandbox.app.db,
    revision: sandbox.base,
    now: BOOTSTRAP_POLICY_TIME,
    concurrency: 8,
    include: (t) => chosen.has(t.id),
  })
  const baseMs = performance.now() - started
  const failed = [...built.failed]
  if (built.blocked || failed.length > 0) {
    const why = built.blocked ? `its plan is ${built.blocked}` : `${failed[0]![0]}: ${failed[0]![1]}`
    return {
      name: 'upgrade',
      state: 'failed',
      reason: `the base ${sandbox.given.base.slice(0, 12)} cannot be built from empty (${why}), so the change cannot be tried over it; fix the base first`,
      ms: performance.now() - started,
      baseMs,
      stages: [],
      failures: [],
    }
  }
  progress('Rolling the change out over it …')
  const phase = await rollOut(context, head, 'upgrade', started)
  return { ...phase, baseMs }
}

/** The head rolled out on the chosen targets from empty, as on new targets. */
async function fromEmpty(context: PhaseContext, head: Fleet): Promise<TestPhase> {
  const started = performance.now()
  await context.sandbox.emptyFleet()
  context.progress('Rolling the change out from empty …')
  return rollOut(context, head, 'fresh', started)
}

/** Rolls `head` out on the phase's targets through the engine and its gates, and reports it. */
async function rollOut(
  context: PhaseContext,
  head: Fleet,
  name: TestPhase['name'],
  started: number,
): Promise<TestPhase> {
  const { sandbox, ids, now } = context
  const deps = {
    ...sandbox.engine,
    policyClock: () => ({ at: now.toISOString(), source: 'what-if' as const }),
  }
  const request = { ref: 'head', approvals: [], targets: ids }
  const failed = (reason: string): TestPhase => ({
    name,
    state: 'failed',
    reason,
    ms: performance.now() - started,
    stages: [],
    failures: [],
  })
  // Approvals the built-in rules ask for are given: the test asks whether the change works;
  // whether it is allowed is the plan's verdict (`flotilla plan`).
  const prepared = await prepare(deps, head, sandbox.head, request)
  let approvals: string[] = []
  if (!prepared.ok) {
    if (prepared.verdict === 'no-changes')
      return { name, state: 'passed', reason: '', ms: performance.now() - started, stages: [], failures: [] }
    if (prepared.verdict !== 'requires-approval') return failed(prepared.why)
    approvals = [...(prepared.unmet ?? [])]
    for (const approval of approvals) context.approvalsGiven.add(approval)
  }
  const rollout = await startRollout(deps, {
    commit: sandbox.head,
    ref: 'head',
    approvals: approvals.map(parseApproval),
    actor: ACTOR,
    targets: ids,
  })
  await runRollout(deps, rollout.id)
  const status = await rolloutStatus(deps.db, rollout.id)
  const stages = status.stages.map((stage) => ({
    name: stage.name,
    state: stage.state,
    targets: stage.waves.flatMap((w) =>
      w.targets.map((t) => ({ id: t.id, state: t.state, reason: t.reason })),
    ),
    gates: stage.gates.map((g) => ({
      name: g.name,
      type: g.type ?? 'unknown',
      state: g.state,
      detail: g.detail,
      ms: g.durationMs ?? 0,
    })),
  }))
  const passed = status.state === 'succeeded'
  // A target that failed is rolled back with its reason; the others of its stage go back without one.
  const failedTargets = stages
    .flatMap((s) => s.targets)
    .filter((t) => t.reason !== null && (t.state === 'failed' || t.state === 'rolled-back'))
  const failures: FailureEvent[] = []
  for (const target of failedTargets) {
    const events = await listRolloutEvents(deps.db, rollout.id, { target: target.id })
    for (const event of events.slice(-EVENTS_PER_FAILURE))
      failures.push({
        at: new Date(event.at).toISOString(),
        type: event.type,
        target: event.target,
        detail: detailText(event.detail),
      })
  }
  return {
    name,
    state: passed ? 'passed' : 'failed',
    reason: passed ? '' : haltSummary(status.state, stages),
    ms: performance.now() - started,
    stages,
    failures,
  }
}

/** Where and on what a rollout stopped, in a line: the details are in its stages and events. */
function haltSummary(state: string, stages: TestPhase['stages']): string {
  const stage = stages.find((s) => s.state === 'failed' || s.state === 'aborted')
  if (!stage) return `the rollout ended ${state}`
  const failed = stage.targets.filter((t) => t.reason !== null).map((t) => t.id)
  const gates = stage.gates.filter((g) => g.state === 'failed').map((g) => g.name)
  const what = gates.length > 0 ? `gates ${gates.join(', ')} failed` : 'the apply failed'
  return `${state} in stage ${stage.name}: ${what} (${failed.join(', ') || 'no target named'})`
}

function detailText(detail: unknown): string {
  if (detail && typeof detail === 'object') {
    const record = detail as Record<string, unknown>
    for (const key of ['message', 'reason', 'detail', 'error'])
      if (typeof record[key] === 'string') return record[key] as string
  }
  return JSON.stringify(detail)
}
