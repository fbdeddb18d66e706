/**
 * Planning and scheduling a rollout: a revision planned against the observed fleet, judged, its
 * stages and waves fixed and what each target is to get (and had, for rollback) recorded — when
 * it starts, and again when a queued rollout leaves the queue.
 */
import type { Insertable } from 'kysely'
import { ConflictError, PolicyError } from '../core/errors.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import type { Plan } from '../core/model/plan.ts'
import type { Approval } from '../core/policy/approvals.ts'
import { systemClock } from '../core/policy/policy-time.ts'
import { fingerprintsOf } from '../core/provider/fingerprint.ts'
import { approvedAddresses } from '../operations/apply-target.ts'
import { operationHolding } from '../operations/fleet-gate.ts'
import { planAgainstObserved } from '../operations/observed-fleet.ts'
import { lockForRollout } from '../operations/target-locks.ts'
import { appendRolloutEvent } from '../store/events.ts'
import type { RolloutTargetsTable } from '../store/tables.ts'
import type { EngineDeps, EngineEvent } from './engine-deps.ts'
import { insertPlan, replacePlan } from './plans-store.ts'
import type { RolloutRequest } from './rollout-model.ts'
import {
  endQueued,
  insertRollout,
  loadRollout,
  lockHolders,
  newRolloutId,
  queuedRollouts,
  type RolloutRow,
  serializeLocking,
  startQueued,
  supersede,
  updateRollout,
} from './rollout-store.ts'
import { type Schedule, scheduleRollout } from './schedule.ts'
import {
  deleteTargetRows,
  insertTargetRows,
  loadTargets,
  type PlannedTarget,
  type PreviousState,
} from './target-rows-store.ts'

/** What `startRollout` needs besides the engine's dependencies. */
export interface StartOptions {
  /** The commit to roll out. */
  readonly commit: string
  /** The ref it was named by (`HEAD`, a branch), for messages. */
  readonly ref: string
  readonly approvals: readonly Approval[]
  readonly actor: string
  /** Only these targets (a drift revert). @default every target the plan changes */
  readonly targets?: readonly string[]
  /** Checks the plan before anything is recorded (access control: whose targets it touches); throws to refuse. */
  readonly authorize?: (plan: Plan) => void | Promise<void>
  /** The trusted revision, whose rules judge the rollout too (`findTrustedRevision`). @default none */
  readonly trusted?: { readonly commit: string; readonly label: string }
  /** Why the revision is not trusted (not on the trusted branch), when an admin starts it anyway. */
  readonly untrusted?: string
}

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
  const trusted = request.trusted
    ? { fleet: await deps.loadRevision(request.trusted.commit), label: request.trusted.label }
    : undefined
  // The clock's time now, not the one of the start: a queued rollout that plans again when it
  // leaves the queue is judged by the freezes in force then.
  const time = (deps.policyClock ?? systemClock)()
  const { observed, outcome } = await planAgainstObserved(fleet, deps.registry, deps.db, {
    approvals: request.approvals,
    ...(trusted ? { trusted } : {}),
    ...(include ? { include } : {}),
    now: new Date(time.at),
    nowSource: time.source,
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
  const schedule = scheduleRollout(fleet, plan, trusted?.fleet)
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
    ...(options.targets ? { targets: options.targets } : {}),
    ...(options.trusted ? { trusted: options.trusted } : {}),
    ...(options.untrusted ? { untrusted: options.untrusted } : {}),
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
    // An apply or a restore under way holds some of the targets: refused (it ends in minutes),
    // rather than queued behind something that is not a rollout.
    const operation = await operationHolding(trx, targetIds)
    if (operation) throw new ConflictError(`cannot start a rollout of ${options.ref}: ${operation}`)
    await insertPlan(trx, planId, options.commit, plan, new Set(rows.map((r) => r.target)))
    queuedBehind = (await lockHolders(trx, targetIds)).map((h) => h.rolloutId)
    const queued = queuedBehind.length > 0
    await insertRollout(trx, {
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
    for (const older of await queuedRollouts(trx, targetIds, id)) await supersede(trx, older, id)
    if (!queued) await lockForRollout(trx, id, targetIds)
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
        ...(plan.policyTime ? { policyTime: { ...plan.policyTime } } : {}),
        ...(queued ? { queuedBehind } : {}),
        ...(options.untrusted ? { untrusted: options.untrusted } : {}),
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
export async function leaveQueue(deps: EngineDeps, fleet: Fleet, rollout: RolloutRow): Promise<void> {
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
    if ((await loadRollout(trx, rollout.id))?.state !== 'queued') return undefined
    if (!prepared.ok) {
      const ended = prepared.verdict === 'no-changes' ? 'succeeded' : 'aborted'
      // Nothing of the first plan is done or to be done: its schedule and rows would only mislead.
      await deleteTargetRows(trx, rollout.id)
      await endQueued(
        trx,
        rollout.id,
        ended,
        ended === 'aborted' ? `left the queue, planned again: ${prepared.why}` : null,
      )
      const type = ended === 'succeeded' ? 'nothing-left-to-change' : 'aborted'
      await appendRolloutEvent(trx, { rolloutId: rollout.id, type, detail: { reason: prepared.why } })
      return { type, detail: { reason: prepared.why } }
    }
    const targets = prepared.plan.targets.map((t) => t.id)
    if ((await lockHolders(trx, targets)).length > 0) return undefined // another got there first
    if (await operationHolding(trx, targets)) return undefined // an apply or restore: after it
    const rows = prepared.rows(rollout.id)
    await replacePlan(trx, rollout.planId, prepared.plan, new Set(rows.map((r) => r.target)))
    await startQueued(trx, rollout.id, prepared.schedule)
    await deleteTargetRows(trx, rollout.id)
    await insertTargetRows(trx, rows)
    await lockForRollout(trx, rollout.id, targets)
    const detail = {
      targets: targets.length,
      stages: prepared.schedule.stages.map((s) => s.name),
      ...(prepared.plan.policyTime ? { policyTime: { ...prepared.plan.policyTime } } : {}),
    }
    await appendRolloutEvent(trx, { rolloutId: rollout.id, type: 'left-queue', detail })
    return { type: 'left-queue', detail }
  })
  if (event) deps.onEvent?.(event)
}
