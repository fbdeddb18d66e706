/**
 * The rollout engine: takes one allowed plan through the stages and waves of `rollout.yaml`.
 *
 * Durable by construction: every step is a transition of stored state, recorded (with its event)
 * before the work it announces and again after it. `runRollout` reads where the rollout stands
 * and continues from there, so a process killed at any moment is replaced by running it again:
 * a target found `applying` is applied again — which changes nothing that was already applied,
 * because applying a desired state is idempotent — and nothing is lost or done twice.
 */
import { hostname } from 'node:os'
import type { Insertable, Kysely } from 'kysely'
import { ConflictError, NotFoundError, PolicyError } from '../core/errors.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import { diffManifests } from '../core/plan/diff-manifests.ts'
import { diffStacks } from '../core/plan/diff-stacks.ts'
import { targetPlanOf } from '../core/plan/plan-fleet.ts'
import type { Plan } from '../core/plan/plan-model.ts'
import { protectedTypes } from '../core/plan/protected.ts'
import type { Approval } from '../core/policy/approvals.ts'
import { fingerprintsOf } from '../core/provider/fingerprint.ts'
import type { Provider, ProviderEvent } from '../core/provider/port.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import { type RetryOptions, withRetries } from '../core/provider/retry.ts'
import { waitUntilSettled } from '../core/provider/settle.ts'
import { recordApplied, recordIntended } from '../operations/applied-states.ts'
import { approvedAddresses } from '../operations/apply-target.ts'
import { planAgainstObserved } from '../operations/observed-fleet.ts'
import { appendRolloutEvent } from '../store/events.ts'
import type { Database, Json, RolloutTargetsTable } from '../store/tables.ts'
import {
  FINAL_STATES,
  type GateOutcome,
  type RolloutRequest,
  type RolloutState,
  type RolloutStatus,
} from './rollout-model.ts'
import {
  fleetStop,
  loadRollout,
  loadTargetDetail,
  loadTargets,
  lockHolders,
  newRolloutId,
  type PlannedTarget,
  type PreviousState,
  queuedRollouts,
  type RolloutRow,
  type RolloutTargetRow,
  releaseLocks,
  serializeLocking,
  updateRollout,
  updateTarget,
} from './rollout-store.ts'
import { type Schedule, type ScheduledStage, scheduleRollout } from './schedule.ts'

/** Runs a stage's gates for one target. */
export type GateRunner = (
  stage: ScheduledStage,
  target: Target,
  fleet: Fleet,
) => Promise<readonly GateOutcome[]>

/** What the engine works with. */
export interface EngineDeps {
  readonly db: Kysely<Database>
  readonly registry: ProviderRegistry
  /** Loads the fleet at a commit (the rollout's revision). */
  readonly loadRevision: (commit: string) => Promise<Fleet>
  readonly runGates: GateRunner
  /** @default the current time */
  readonly now?: () => Date
  /** How long to wait for one target to settle. @default 30 minutes */
  readonly settleTimeoutMs?: number
  readonly retry?: RetryOptions
  /** Receives every event as it is stored. */
  readonly onEvent?: (event: { type: string; target?: string; detail?: Json }) => void
  /**
   * Asks `runRollout` to let go (a server shutting down): it returns after the step under way,
   * leaving the rollout as stored for the next process to continue.
   */
  readonly signal?: AbortSignal
}

/** What `startRollout` needs besides the engine's dependencies. */
export interface StartOptions {
  /** The commit to roll out. */
  readonly commit: string
  /** The ref it was named by (`HEAD`, a branch), for messages. */
  readonly ref: string
  readonly approvals: readonly Approval[]
  readonly actor: string
  /** What policies see as `now`. */
  readonly policyNow?: Date
  /** Only these targets (a drift revert). @default every target the plan changes */
  readonly targets?: readonly string[]
  /** Checks the plan before anything is recorded (access control: whose targets it touches); throws to refuse. */
  readonly authorize?: (plan: Plan) => void | Promise<void>
}

/** How long to wait for a target to settle, as the engine was told. */
const settleOptions = (deps: EngineDeps) =>
  deps.settleTimeoutMs === undefined ? {} : { timeoutMs: deps.settleTimeoutMs }

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** An event as the engine stores and reports it. */
type EngineEvent = { type: string; target?: string; detail?: Json }

/** Stores a transition of a rollout with its event, then reports the event (`onEvent`). */
async function recordRollout(
  deps: EngineDeps,
  id: string,
  changes: Parameters<typeof updateRollout>[2],
  event: EngineEvent,
): Promise<void> {
  // Only while it runs: a pause, abort or stop that came in meanwhile is not overwritten.
  if (await updateRollout(deps.db, id, changes, event, { from: ['running'] })) deps.onEvent?.(event)
}

/** Stores a transition of a target with its event, then reports the event (`onEvent`). */
async function recordTarget(
  deps: EngineDeps,
  id: string,
  target: string,
  changes: Parameters<typeof updateTarget>[3],
  event: { type: string; detail?: Json },
): Promise<void> {
  await updateTarget(deps.db, id, target, changes, event)
  deps.onEvent?.({ ...event, target })
}

/**
 * How the reason of a target starts when it was found changed since the plan: nothing was
 * applied to it, so a rollback leaves it as it is (bringing back what it had at the plan would
 * overwrite the change someone made, unreviewed).
 */
const CHANGED_SINCE_PLAN = 'changed since the plan'

/** Target states that still have work to do. */
const UNFINISHED: ReadonlySet<string> = new Set(['pending', 'applying', 'verifying'])

/** A revision planned for a rollout: the plan, its schedule and one row per target; or why not. */
export type Prepared =
  | {
      readonly ok: true
      readonly plan: Plan
      readonly schedule: Schedule
      readonly rows: (id: string) => Insertable<RolloutTargetsTable>[]
    }
  | {
      readonly ok: false
      readonly verdict: 'invalid' | 'no-changes' | 'denied' | 'requires-approval'
      readonly why: string
      /** The approvals still missing, for `requires-approval`. */
      readonly unmet?: readonly string[]
      /** The plan, for `denied` and `requires-approval`: its findings say which rules stopped it. */
      readonly plan?: Plan
    }

/**
 * Plans a revision against the observed fleet and, when the verdict is `allowed`, fixes its
 * schedule and what each target is to get and had before (for rollback). The repository
 * follower uses it to decide what to do with a new commit.
 */
export async function prepare(
  deps: EngineDeps,
  fleet: Fleet,
  commit: string,
  request: RolloutRequest,
): Promise<Prepared> {
  const only = request.targets && new Set(request.targets)
  const include = only ? (target: Target) => only.has(target.id) : undefined
  const { observed, outcome } = await planAgainstObserved(fleet, deps.registry, deps.db, {
    approvals: request.approvals,
    ...(include ? { include } : {}),
    ...(request.policyNow ? { now: new Date(request.policyNow) } : {}),
  })
  if (!outcome.ok)
    return {
      ok: false,
      verdict: 'invalid',
      why: `${request.ref} cannot be planned: ${outcome.errors[0]?.message ?? 'invalid'}`,
    }
  const { plan } = outcome
  if (plan.verdict === 'no-changes')
    return {
      ok: false,
      verdict: 'no-changes',
      why: `${request.ref} (${commit.slice(0, 12)}) changes nothing: the fleet already is what it says`,
    }
  if (plan.verdict !== 'allowed') {
    const why =
      plan.verdict === 'denied'
        ? plan.findings
            .filter((f) => f.effect === 'deny')
            .map((f) => f.message)
            .join('; ')
        : `approvals missing: ${(plan.approvals?.unmet ?? plan.approvalsRequired).join(', ')}`
    return {
      ok: false,
      verdict: plan.verdict,
      why: `the plan of ${request.ref} is ${plan.verdict}, a rollout needs it allowed: ${why}`,
      plan,
      ...(plan.verdict === 'requires-approval'
        ? { unmet: plan.approvals?.unmet ?? plan.approvalsRequired }
        : {}),
    }
  }
  const schedule = scheduleRollout(fleet, plan)
  const approved = [...approvedAddresses(plan.findings, plan.approvals?.unmet ?? [])]
  const byId = new Map(plan.targets.map((t) => [t.id, t]))
  const rows = (id: string) =>
    schedule.stages.flatMap((stage, stageIndex) =>
      stage.waves.flatMap((wave, waveIndex) =>
        wave.map((targetId, position) => {
          const seen = observed.observed.get(targetId)
          const planned: PlannedTarget = {
            // What a provider checks an apply against (address, action, type, protected); the
            // property diffs stay in the stored plan document, not in every target row.
            changes: byId.get(targetId)!.changes.map((change) => ({ ...change, properties: [] })),
            observed: seen ? fingerprintsOf(seen) : {},
            desired: fingerprintsOf(fleet.desired.get(targetId) ?? { stacks: [], manifests: [] }),
            approved: approved.filter((a) => a.startsWith(`${targetId}/`)),
          }
          const previous: PreviousState = { stacks: seen?.stacks ?? [], manifests: seen?.manifests ?? [] }
          return {
            rollout_id: id,
            target: targetId,
            stage: stage.name,
            stage_index: stageIndex,
            wave: waveIndex,
            position,
            state: 'pending',
            planned: JSON.stringify(planned),
            previous: JSON.stringify(previous),
          }
        }),
      ),
    )
  return { ok: true, plan, schedule, rows }
}

/** Inserts a rollout's target rows, in batches (a statement has at most 65,535 parameters). */
async function insertTargetRows(
  trx: Kysely<Database>,
  rows: readonly Insertable<RolloutTargetsTable>[],
): Promise<void> {
  for (let at = 0; at < rows.length; at += 200)
    await trx
      .insertInto('rollout_targets')
      .values(rows.slice(at, at + 200))
      .execute()
}

/**
 * Starts a rollout of a commit: plans it against the observed fleet, requires the verdict
 * `allowed` (with the approvals given), fixes the schedule and records what each target has now
 * (for rollback). When no other rollout holds any of its targets, it takes a lock on each and is
 * `running`; otherwise it is `queued` behind them, and plans again when it leaves the queue. Either
 * way it supersedes (aborts) any queued rollout of the same targets. Nothing is applied yet:
 * `runRollout` does.
 */
export async function startRollout(
  deps: EngineDeps,
  options: StartOptions,
): Promise<{ id: string; plan: Plan; state: 'running' | 'queued'; queuedBehind: readonly string[] }> {
  const { db } = deps
  const now = deps.now?.() ?? new Date()
  const request: RolloutRequest = {
    ref: options.ref,
    approvals: options.approvals,
    ...(options.policyNow ? { policyNow: options.policyNow.toISOString() } : {}),
    ...(options.targets ? { targets: options.targets } : {}),
  }
  const fleet = await deps.loadRevision(options.commit)
  const prepared = await prepare(deps, fleet, options.commit, request)
  if (!prepared.ok) {
    if (prepared.verdict === 'no-changes') throw new ConflictError(prepared.why)
    throw new PolicyError(prepared.why)
  }
  const { plan, schedule } = prepared
  await options.authorize?.(plan)
  const id = newRolloutId(now)
  const planId = `p-${id.slice(2)}`
  const targetIds = plan.targets.map((t) => t.id)
  const rows = prepared.rows(id)
  let queuedBehind: string[] = []
  await db.transaction().execute(async (trx) => {
    await serializeLocking(trx)
    await trx
      .insertInto('plans')
      .values({
        id: planId,
        base: 'observed',
        head: options.commit,
        verdict: plan.verdict,
        document: JSON.stringify(plan),
      })
      .execute()
    queuedBehind = (await lockHolders(trx, targetIds)).map((h) => h.rolloutId)
    const queued = queuedBehind.length > 0
    await trx
      .insertInto('rollouts')
      .values({
        id,
        plan_id: planId,
        state: queued ? 'queued' : 'running',
        revision: options.commit,
        created_by: options.actor,
        schedule: JSON.stringify(schedule),
        phase: queued ? 'queue' : 'approval',
        halt_reason: queued ? queuedReason(queuedBehind) : null,
        request: JSON.stringify(request),
      })
      .execute()
    for (const older of await queuedRollouts(trx, targetIds, id)) {
      await trx
        .updateTable('rollouts')
        .set({ state: 'aborted', halt_reason: `superseded by ${id}`, updated_at: new Date() })
        .where('id', '=', older)
        .execute()
      await appendRolloutEvent(trx, { rolloutId: older, type: 'superseded', detail: { by: id } })
    }
    if (!queued)
      await trx
        .insertInto('locks')
        .values(targetIds.map((target) => ({ target, rollout_id: id })))
        .execute()
    await insertTargetRows(trx, rows)
    await appendRolloutEvent(trx, {
      rolloutId: id,
      type: 'rollout-started',
      detail: {
        revision: options.commit,
        ref: options.ref,
        by: options.actor,
        stages: schedule.stages.map((s) => s.name),
        targets: rows.length,
        ...(queued ? { queuedBehind } : {}),
      },
    })
  })
  deps.onEvent?.({
    type: 'rollout-started',
    detail: { revision: options.commit, ref: options.ref, by: options.actor },
  })
  return { id, plan, state: queuedBehind.length > 0 ? 'queued' : 'running', queuedBehind }
}

/** Why a rollout waits in the queue. */
const queuedReason = (behind: readonly string[]) =>
  `queued behind ${behind.join(', ')}: it plans again and starts when ${behind.length === 1 ? 'that rollout lets' : 'they let'} go of its targets`

/**
 * Takes a queued rollout out of the queue when no other rollout holds any of its targets: plans
 * its revision again against the fleet as it is now (what the rollouts before it changed is what
 * it must be compared with — a queued Terraform run plans when it reaches the front, too), takes
 * the locks and runs; ends it `aborted` when the new plan is not `allowed` (say, the approvals
 * given no longer cover it) and `succeeded` when nothing is left to change.
 */
async function leaveQueue(deps: EngineDeps, fleet: Fleet, rollout: RolloutRow): Promise<void> {
  const { db } = deps
  const waitingFor = async (targets: readonly string[]) =>
    (await lockHolders(db, targets)).map((h) => h.rolloutId)
  const before = await waitingFor((await loadTargets(db, rollout.id)).map((t) => t.target))
  if (before.length > 0) {
    if (rollout.haltReason !== queuedReason(before))
      await updateRollout(db, rollout.id, { haltReason: queuedReason(before) }, undefined, {
        from: ['queued'],
      })
    return
  }
  const prepared = await prepare(deps, fleet, rollout.revision, rollout.request)
  const event = await db.transaction().execute(async (trx): Promise<EngineEvent | undefined> => {
    await serializeLocking(trx)
    const row = await trx
      .selectFrom('rollouts')
      .select('state')
      .where('id', '=', rollout.id)
      .executeTakeFirst()
    if (row?.state !== 'queued') return undefined
    if (!prepared.ok) {
      const ended = prepared.verdict === 'no-changes' ? 'succeeded' : 'aborted'
      // Nothing of the first plan is done or to be done: its schedule and rows would only mislead.
      await trx.deleteFrom('rollout_targets').where('rollout_id', '=', rollout.id).execute()
      await trx
        .updateTable('rollouts')
        .set({
          state: ended,
          halt_reason: ended === 'aborted' ? `left the queue, planned again: ${prepared.why}` : null,
          schedule: JSON.stringify({ stages: [] }),
          updated_at: new Date(),
        })
        .where('id', '=', rollout.id)
        .execute()
      const type = ended === 'succeeded' ? 'nothing-left-to-change' : 'aborted'
      await appendRolloutEvent(trx, { rolloutId: rollout.id, type, detail: { reason: prepared.why } })
      return { type, detail: { reason: prepared.why } }
    }
    const targets = prepared.plan.targets.map((t) => t.id)
    if ((await lockHolders(trx, targets)).length > 0) return undefined // another got there first
    await trx
      .updateTable('plans')
      .set({ verdict: prepared.plan.verdict, document: JSON.stringify(prepared.plan) })
      .where('id', '=', rollout.planId)
      .execute()
    await trx
      .updateTable('rollouts')
      .set({
        state: 'running',
        phase: 'approval',
        halt_reason: null,
        schedule: JSON.stringify(prepared.schedule),
        stage_index: 0,
        wave_index: 0,
        updated_at: new Date(),
      })
      .where('id', '=', rollout.id)
      .execute()
    await trx.deleteFrom('rollout_targets').where('rollout_id', '=', rollout.id).execute()
    await insertTargetRows(trx, prepared.rows(rollout.id))
    await trx
      .insertInto('locks')
      .values(targets.map((target) => ({ target, rollout_id: rollout.id })))
      .execute()
    const detail = { targets: targets.length, stages: prepared.schedule.stages.map((s) => s.name) }
    await appendRolloutEvent(trx, { rolloutId: rollout.id, type: 'left-queue', detail })
    return { type: 'left-queue', detail }
  })
  if (event) deps.onEvent?.(event)
}

/** The process that runs rollouts here, for the lease. */
const RUNNER = `${hostname()}:${process.pid}`
const LEASE_MS = 10_000

/** Rollouts a `runRollout` of this process is running: a second call for one of them returns. */
const runningHere = new Set<string>()

/**
 * Takes (or renews) the right to run a rollout; false when a live process holds it. A lease of
 * a process of this host that no longer exists (killed) is taken over at once, not after it
 * expires.
 */
async function claim(db: Kysely<Database>, id: string): Promise<boolean> {
  const until = new Date(Date.now() + LEASE_MS)
  const row = await db.selectFrom('rollouts').select('runner').where('id', '=', id).executeTakeFirst()
  const held = row?.runner ?? null
  const dead = held !== null && held !== RUNNER && deadLocalRunner(held)
  const result = await db
    .updateTable('rollouts')
    .set({ runner: RUNNER, lease_until: until })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([
        eb('runner', 'is', null),
        eb('runner', '=', RUNNER),
        eb('lease_until', '<', new Date()),
        ...(dead ? [eb('runner', '=', held)] : []),
      ]),
    )
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** Whether `runner` (`host:pid`) names a process of this host that is gone. */
function deadLocalRunner(runner: string): boolean {
  const at = runner.lastIndexOf(':')
  if (runner.slice(0, at) !== hostname()) return false
  const pid = Number(runner.slice(at + 1))
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/**
 * Runs a rollout from where it stands until it ends, halts, pauses or waits for an approval, and
 * returns that state. Safe to call again at any time (after a crash, to resume): it continues.
 * While another live process runs the rollout, it returns at once with the stored state. A queued
 * rollout leaves the queue when nothing holds its targets any more; while something does, it
 * returns `queued`.
 */
export async function runRollout(deps: EngineDeps, id: string): Promise<RolloutState> {
  const { db } = deps
  const first = await loadRollout(db, id)
  if (!first) throw new NotFoundError(`no rollout ${id}; run "flotilla rollout status" to see the latest`)
  if ((first.state !== 'running' && first.state !== 'queued') || runningHere.has(id)) return first.state
  runningHere.add(id)
  let claimed = false
  try {
    claimed = await claim(db, id)
  } finally {
    if (!claimed) runningHere.delete(id)
  }
  if (!claimed) return first.state
  const lease = setInterval(() => void claim(db, id).catch(() => {}), LEASE_MS / 3)
  try {
    const fleet = await deps.loadRevision(first.revision)
    if (first.state === 'queued' && !(await fleetStop(db))) await leaveQueue(deps, fleet, first)
    for (;;) {
      const rollout = (await loadRollout(db, id))!
      if (rollout.state !== 'running' || deps.signal?.aborted) return rollout.state
      const stop = await fleetStop(db)
      if (stop) {
        await recordRollout(
          deps,
          id,
          { state: 'paused', haltReason: `fleet-wide stop: ${stop.reason}` },
          { type: 'paused', detail: { by: stop.by, reason: stop.reason, stop: true } },
        )
        return 'paused'
      }
      const stage = rollout.schedule.stages[rollout.stageIndex]
      if (!stage) {
        await releaseLocks(db, id)
        await recordRollout(deps, id, { state: 'succeeded', haltReason: null }, { type: 'succeeded' })
        return 'succeeded'
      }
      await step(deps, fleet, rollout, stage)
    }
  } finally {
    clearInterval(lease)
    runningHere.delete(id)
    await db
      .updateTable('rollouts')
      .set({ runner: null, lease_until: null })
      .where('id', '=', id)
      .where('runner', '=', RUNNER)
      .execute()
  }
}

/** Does the next thing the current stage needs. */
async function step(
  deps: EngineDeps,
  fleet: Fleet,
  rollout: RolloutRow,
  stage: ScheduledStage,
): Promise<void> {
  const { db } = deps
  const id = rollout.id
  const now = () => deps.now?.() ?? new Date()
  switch (rollout.phase) {
    case 'queue':
      throw new Error(`rollout ${id} runs while its phase says it is queued`) // a bug: leaveQueue sets both
    case 'approval': {
      if (stage.approval && !rollout.stageApprovals[stage.name]) {
        await recordRollout(
          deps,
          id,
          { state: 'waiting-approval' },
          { type: 'waiting-approval', detail: { stage: stage.name } },
        )
        return
      }
      await recordRollout(
        deps,
        id,
        { phase: 'waves', waveIndex: 0 },
        { type: 'stage-started', detail: { stage: stage.name } },
      )
      return
    }
    case 'waves': {
      const targets = (await loadTargets(db, id)).filter((t) => t.stageIndex === rollout.stageIndex)
      const wave = targets.filter((t) => t.wave === rollout.waveIndex)
      if (wave.length === 0) {
        // A target retried after its wave was done runs before the stage bakes: back to its wave.
        const retried = targets.find((t) => UNFINISHED.has(t.state))
        if (retried) {
          await recordRollout(
            deps,
            id,
            { waveIndex: retried.wave },
            { type: 'wave-restarted', detail: { stage: stage.name, wave: retried.wave } },
          )
          return
        }
        const bakeUntil = new Date(now().getTime() + stage.bakeMs)
        await recordRollout(
          deps,
          id,
          { phase: 'bake', bakeUntil },
          { type: 'bake-started', detail: { stage: stage.name, until: bakeUntil.toISOString() } },
        )
        return
      }
      await runWave(deps, fleet, rollout, stage, wave, targets.filter((t) => t.state === 'failed').length)
      const after = (await loadTargets(db, id)).filter((t) => t.stageIndex === rollout.stageIndex)
      const failed = after.filter((t) => t.state === 'failed')
      if (failed.length > stage.failureTolerance) {
        await halt(
          deps,
          fleet,
          rollout,
          stage,
          after,
          `${failed.length} ${failed.length === 1 ? 'target' : 'targets'} failed in stage ${stage.name} (tolerance ${stage.failureTolerance}): ${failed.map((t) => `${t.target}: ${t.reason}`).join('; ')}`,
        )
        return
      }
      // Paused, stopped (or paused and resumed) during the wave, or a target retried meanwhile: the
      // wave is not done until each of its targets is. The next step sees why and continues it.
      if (after.some((t) => t.wave === rollout.waveIndex && UNFINISHED.has(t.state))) return
      const current = await loadRollout(db, id)
      if (current?.state !== 'running') return // paused or stopped during the wave: resume continues it
      await recordRollout(
        deps,
        id,
        { waveIndex: rollout.waveIndex + 1 },
        { type: 'wave-succeeded', detail: { stage: stage.name, wave: rollout.waveIndex } },
      )
      return
    }
    case 'bake': {
      const remaining = (rollout.bakeUntil?.getTime() ?? 0) - now().getTime()
      if (remaining > 0) {
        await sleep(Math.min(remaining, 1000)) // wake up to notice pause, abort and stop
        return
      }
      await recordRollout(
        deps,
        id,
        { phase: 'gates' },
        { type: 'bake-finished', detail: { stage: stage.name } },
      )
      return
    }
    case 'rollback': {
      const targets = (await loadTargets(db, id)).filter((t) => t.stageIndex === rollout.stageIndex)
      await rollBack(deps, fleet, rollout, stage, targets, rollout.haltReason ?? 'halted')
      return
    }
    case 'gates': {
      const targets = (await loadTargets(db, id)).filter(
        (t) => t.stageIndex === rollout.stageIndex && t.state === 'succeeded',
      )
      const byId = new Map(fleet.targets.map((t) => [t.id, t]))
      for (const row of targets) {
        const outcomes = await deps.runGates(stage, byId.get(row.target)!, fleet)
        const failedGates = outcomes.filter((g) => g.state === 'failed')
        if (failedGates.length > 0) {
          await recordTarget(
            deps,
            id,
            row.target,
            {
              state: 'failed',
              reason: `after bake: ${failedGates.map((g) => g.detail).join('; ')}`,
              gates: outcomes,
            },
            { type: 'target-failed', detail: { stage: stage.name, gates: outcomes as unknown as Json } },
          )
        }
      }
      const after = (await loadTargets(db, id)).filter((t) => t.stageIndex === rollout.stageIndex)
      const failed = after.filter((t) => t.state === 'failed')
      if (failed.length > stage.failureTolerance) {
        await halt(
          deps,
          fleet,
          rollout,
          stage,
          after,
          `the gates of stage ${stage.name} failed after its bake for ${failed.length} ${failed.length === 1 ? 'target' : 'targets'}: ${failed.map((t) => `${t.target}: ${t.reason}`).join('; ')}`,
        )
        return
      }
      await recordRollout(
        deps,
        id,
        { stageIndex: rollout.stageIndex + 1, waveIndex: 0, phase: 'approval', bakeUntil: null },
        { type: 'stage-succeeded', detail: { stage: stage.name } },
      )
      return
    }
  }
}

/**
 * Runs the unfinished targets of a wave, at most `maxParallel` at once, a cluster only after its
 * account when both are in the wave.
 */
async function runWave(
  deps: EngineDeps,
  fleet: Fleet,
  rollout: RolloutRow,
  stage: ScheduledStage,
  wave: readonly RolloutTargetRow[],
  failedBefore: number,
): Promise<void> {
  const queue = wave.filter((t) => t.state === 'pending' || t.state === 'applying' || t.state === 'verifying')
  // Once more targets failed than the stage tolerates, no further target starts: the rollout
  // halts when the steps under way are done, and the rest of the wave is never touched.
  let failures = failedBefore
  const byId = new Map(fleet.targets.map((t) => [t.id, t]))
  // A cluster's records go into its account's zones: when both are in this wave, the cluster
  // waits for its account's step (accounts come first in every wave, so it has begun).
  // Each step is registered in the same tick its row is taken from the queue, so a cluster taken
  // later always finds its account's step.
  const accountSteps = new Map<string, Promise<unknown>>()
  const worker = async () => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      const target = byId.get(row.target)!
      const account = target.kind === 'cluster' ? accountSteps.get(target.account) : undefined
      const step = (async () => {
        await account
        const current = await loadRollout(deps.db, rollout.id)
        if (current?.state !== 'running' || deps.signal?.aborted || (await fleetStop(deps.db))) return false
        if (failures > stage.failureTolerance) return false
        if (await runTarget(deps, fleet, rollout, stage, target, row)) failures++
        return true
      })()
      if (target.kind === 'account')
        accountSteps.set(
          target.id,
          step.catch(() => {}),
        )
      if (!(await step)) return
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, stage.maxParallel) }, worker))
}

/**
 * One target step: apply → settle → gates, each transition stored before the work it starts.
 * Resolves to whether the target failed.
 */
async function runTarget(
  deps: EngineDeps,
  fleet: Fleet,
  rollout: RolloutRow,
  stage: ScheduledStage,
  target: Target,
  row: RolloutTargetRow,
): Promise<boolean> {
  const id = rollout.id
  const fail = (reason: string) =>
    recordTarget(
      deps,
      id,
      target.id,
      { state: 'failed', reason },
      { type: 'target-failed', detail: { stage: stage.name, reason } },
    )
  let state = row.state
  if (state === 'pending') {
    await recordTarget(
      deps,
      id,
      target.id,
      { state: 'applying', attempts: row.attempts + 1 },
      { type: 'target-applying', detail: { stage: stage.name, wave: row.wave } },
    )
    state = 'applying'
  }
  const provider = deps.registry.forTarget(target)
  if (state === 'applying') {
    const problem = await applyAsPlanned(deps, fleet, target, provider, row, rollout.revision)
    if (problem) {
      await fail(problem)
      return true
    }
    await recordTarget(
      deps,
      id,
      target.id,
      { state: 'verifying' },
      { type: 'target-applied', detail: { stage: stage.name } },
    )
  }
  const gates = await deps.runGates(stage, target, fleet)
  const failed = gates.filter((g) => g.state === 'failed')
  if (failed.length > 0) {
    await recordTarget(
      deps,
      id,
      target.id,
      { state: 'failed', reason: failed.map((g) => g.detail).join('; '), gates },
      { type: 'target-failed', detail: { stage: stage.name, gates: gates as unknown as Json } },
    )
    return true
  }
  await recordTarget(
    deps,
    id,
    target.id,
    { state: 'succeeded', reason: null, gates },
    { type: 'target-succeeded', detail: { stage: stage.name, gates: gates as unknown as Json } },
  )
  return false
}

/**
 * Applies exactly what the plan showed: first checks that the target still is what the plan was
 * computed against (each stack or object as observed then, or already as this rollout makes it —
 * a resumed rollout finds its own earlier work), then applies and waits until it settled.
 * Returns why it could not, or undefined.
 */
async function applyAsPlanned(
  deps: EngineDeps,
  fleet: Fleet,
  target: Target,
  provider: Provider,
  row: RolloutTargetRow,
  revision: string,
): Promise<string | undefined> {
  const { db } = deps
  let seen = (await provider.observe([target])).get(target.id)
  if ((seen?.busy.length ?? 0) > 0) {
    // An apply of a process that was killed is still under way: let it finish (it is this
    // rollout's own work, or it shows as a change below) instead of failing on busy stacks.
    await waitUntilSettled(provider, target, settleOptions(deps))
    seen = (await provider.observe([target])).get(target.id)
  }
  const now = seen ? fingerprintsOf(seen) : {}
  const { planned } = await loadTargetDetail(db, row.rolloutId, row.target)
  const { observed, desired } = planned
  const changed = [...new Set([...Object.keys(now), ...Object.keys(observed)])].filter(
    (address) => now[address] !== observed[address] && now[address] !== desired[address],
  )
  if (changed.length > 0) {
    return `${CHANGED_SINCE_PLAN} (${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ` and ${changed.length - 3} more` : ''}); nothing unreviewed is applied — plan again and start a new rollout`
  }
  const state = fleet.desired.get(target.id) ?? { target, stacks: [], manifests: [] }
  const events = providerEvents(deps, row)
  try {
    await recordIntended(db, target.id, provider.name, revision, planned.desired)
    await withRetries(
      () =>
        provider.apply({
          target,
          desired: state,
          plan: targetPlanOf(target, row.stage, planned.changes),
          approvedDestruction: new Set(planned.approved),
          revision,
          onEvent: events.report,
        }),
      deps.retry,
    )
    const settle = await waitUntilSettled(provider, target, {
      ...settleOptions(deps),
      onEvent: events.report,
    })
    if (settle.state !== 'settled') {
      return `${settle.state === 'in-progress' ? 'did not settle in time' : 'failed'}: ${settle.items
        .slice(0, 3)
        .map((i) => `${i.address} ${i.status} (${i.reason})`)
        .join('; ')}`
    }
  } catch (error) {
    if (error instanceof Error && error.name === 'ProviderError') return error.message
    throw error
  } finally {
    // The target's next transition comes after what the provider said happened on the way.
    await events.stored()
  }
  await recordApplied(db, {
    target: target.id,
    provider: provider.name,
    revision,
    fingerprints: planned.desired,
  })
  return undefined
}

/**
 * What a provider reports while it applies and settles (CloudFormation's stack events, snapshots
 * taken), stored as the rollout's `provider-event`s in the order they came. Storing them is
 * chained off the provider's callback; `stored` waits for the chain.
 */
function providerEvents(deps: EngineDeps, row: RolloutTargetRow) {
  let chain = Promise.resolve()
  return {
    report: (event: ProviderEvent) => {
      const detail = {
        stage: row.stage,
        address: event.address,
        status: event.status,
        message: event.message,
      }
      chain = chain
        .then(async () => {
          await appendRolloutEvent(deps.db, {
            rolloutId: row.rolloutId,
            type: 'provider-event',
            target: row.target,
            detail,
          })
          deps.onEvent?.({ type: 'provider-event', target: row.target, detail })
        })
        // An event that cannot be stored must not fail the change it describes.
        .catch(() => {})
    },
    stored: () => chain,
  }
}

/**
 * Halts the rollout. With `onFailure: rollback`, every target the stage changed is brought back to
 * what it had before — a destroyed zone restored from its snapshot first — and the rollout ends
 * `rolled-back`; with `halt`, it stays `halted` for an operator.
 */
async function halt(
  deps: EngineDeps,
  fleet: Fleet,
  rollout: RolloutRow,
  stage: ScheduledStage,
  targets: readonly RolloutTargetRow[],
  reason: string,
): Promise<void> {
  if (stage.onFailure !== 'rollback') {
    await recordRollout(
      deps,
      rollout.id,
      { state: 'halted', haltReason: reason },
      { type: 'halted', detail: { stage: stage.name, reason } },
    )
    return
  }
  // Recorded first: a process killed during the rollback finishes it when the rollout runs again,
  // instead of finding the failed targets rolled back and carrying on with the next wave.
  await recordRollout(
    deps,
    rollout.id,
    { haltReason: reason, phase: 'rollback' },
    { type: 'rolling-back', detail: { stage: stage.name, reason } },
  )
  await rollBack(deps, fleet, rollout, stage, targets, reason)
}

/**
 * Brings every target the stage changed back to what it had before the rollout, releases the
 * locks and ends the rollout `rolled-back` (or `halted` when a target could not be rolled back).
 * Targets already rolled back are left alone, so running it again continues it.
 */
async function rollBack(
  deps: EngineDeps,
  fleet: Fleet,
  rollout: RolloutRow,
  stage: ScheduledStage,
  targets: readonly RolloutTargetRow[],
  reason: string,
): Promise<void> {
  const { db } = deps
  const byId = new Map(fleet.targets.map((t) => [t.id, t]))
  const isProtected = protectedTypes(fleet.settings.protect)
  const problems: string[] = []
  for (const row of targets) {
    if (row.state === 'pending' || row.state === 'rolled-back' || row.state === 'skipped') continue
    if (row.state === 'failed' && row.reason?.startsWith(CHANGED_SINCE_PLAN)) continue // nothing applied
    const target = byId.get(row.target)!
    const provider = deps.registry.forTarget(target)
    const { previous } = await loadTargetDetail(db, row.rolloutId, row.target)
    try {
      // Zones this rollout destroyed come back first, with every record, so the previous stacks adopt them.
      const snapshots = await db
        .selectFrom('snapshots')
        .select('id')
        .where('target', '=', target.id)
        .where('created_at', '>=', rollout.createdAt)
        .where('restored_at', 'is', null)
        .execute()
      for (const snapshot of snapshots) await provider.restore(snapshot.id)
      const seen = (await provider.observe([target])).get(target.id)
      const changes =
        target.kind === 'account'
          ? diffStacks(seen?.stacks ?? [], previous.stacks, isProtected)
          : diffManifests(seen?.manifests ?? [], previous.manifests, isProtected)
      if (changes.length > 0) {
        await withRetries(
          () =>
            provider.apply({
              target,
              desired: { target, stacks: previous.stacks, manifests: previous.manifests },
              plan: targetPlanOf(target, row.stage, changes),
              // The rollback undoes what this rollout did: its destructions are covered by the halt.
              approvedDestruction: new Set(changes.map((c) => c.address)),
              revision: `rollback of ${rollout.id}`,
            }),
          deps.retry,
        )
        const settle = await waitUntilSettled(provider, target, settleOptions(deps))
        if (settle.state !== 'settled')
          throw new Error(`did not settle: ${settle.items.map((i) => i.address).join(', ')}`)
      }
      await recordApplied(db, {
        target: target.id,
        provider: provider.name,
        revision: `rollback of ${rollout.id}`,
        fingerprints: fingerprintsOf(previous),
      })
      await recordTarget(
        deps,
        rollout.id,
        target.id,
        { state: 'rolled-back' },
        { type: 'target-rolled-back', detail: { stage: stage.name, restored: snapshots.map((s) => s.id) } },
      )
    } catch (error) {
      if (!(error instanceof Error)) throw error
      problems.push(`${target.id}: ${error.message}`)
    }
  }
  await releaseLocks(db, rollout.id)
  if (problems.length > 0) {
    await recordRollout(
      deps,
      rollout.id,
      { state: 'halted', haltReason: `${reason}; rollback incomplete: ${problems.join('; ')}` },
      { type: 'halted', detail: { stage: stage.name, reason, rollbackProblems: problems } },
    )
    return
  }
  await recordRollout(
    deps,
    rollout.id,
    { state: 'rolled-back' },
    { type: 'rolled-back', detail: { stage: stage.name, reason } },
  )
}

/** The status document of a rollout (`plan.md`). */
export async function rolloutStatus(db: Kysely<Database>, id: string): Promise<RolloutStatus> {
  const rollout = await loadRollout(db, id)
  if (!rollout) throw new NotFoundError(`no rollout ${id}`)
  const targets = await loadTargets(db, id)
  return {
    id: rollout.id,
    revision: rollout.revision,
    state: rollout.state,
    createdBy: rollout.createdBy,
    createdAt: rollout.createdAt.toISOString(),
    stages: rollout.schedule.stages.map((stage, index) => {
      const mine = targets.filter((t) => t.stageIndex === index)
      const waves = stage.waves.map((_, wave) => {
        const list = mine.filter((t) => t.wave === wave)
        const state = list.some((t) => t.state === 'failed' || t.state === 'rolled-back')
          ? ('failed' as const)
          : list.every((t) => t.state === 'succeeded' || t.state === 'skipped')
            ? ('succeeded' as const)
            : list.some((t) => t.state !== 'pending')
              ? ('running' as const)
              : ('pending' as const)
        return {
          index: wave,
          state,
          targets: list.map((t) => ({
            id: t.target,
            state: t.state,
            attempts: t.attempts,
            reason: t.reason,
          })),
        }
      })
      const stageState =
        index < rollout.stageIndex
          ? ('succeeded' as const)
          : waves.some((w) => w.state === 'failed')
            ? ('failed' as const)
            : rollout.phase === 'queue'
              ? ('pending' as const)
              : index === rollout.stageIndex && rollout.state === 'waiting-approval'
                ? ('waiting-approval' as const)
                : index === rollout.stageIndex && !FINAL_STATES.has(rollout.state)
                  ? ('running' as const)
                  : index === rollout.stageIndex && rollout.state === 'succeeded'
                    ? ('succeeded' as const)
                    : ('pending' as const)
      const gates = new Map<string, GateOutcome>()
      for (const t of mine)
        for (const g of t.gates) if (!gates.has(g.name) || g.state === 'failed') gates.set(g.name, g)
      return {
        name: stage.name,
        state: stageState,
        approval: stage.approval ? ('required' as const) : ('none' as const),
        approvedBy: rollout.stageApprovals[stage.name] ?? null,
        waves,
        gates: [...gates.values()],
      }
    }),
    haltReason: rollout.haltReason,
  }
}
