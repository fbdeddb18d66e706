/**
 * Operator controls of rollouts: pause, resume, abort, approve, retry, skip, and the fleet-wide
 * stop. Each is a stored transition with its event and an audit entry; the process running the
 * rollout notices it before its next target.
 */
import type { Kysely } from 'kysely'
import { ConflictError, NotFoundError } from '../core/errors.ts'
import { appendAuditEntry } from '../store/audit.ts'
import type { Database } from '../store/tables.ts'
import { FINAL_STATES, type RolloutState } from './rollout-model.ts'
import {
  fleetStop,
  loadRollout,
  loadTargets,
  type RolloutRow,
  releaseLocks,
  rolloutsIn,
  setFleetStop,
  updateRollout,
  updateTarget,
} from './rollout-store.ts'

/** Who asks, and from where (`cli`, `api`, `portal`). */
export interface Operator {
  readonly actor: string
  readonly source: string
  /** An admin only by an emergency elevation: the audit entry says so. */
  readonly elevated?: boolean
}

async function existing(db: Kysely<Database>, id: string): Promise<RolloutRow> {
  const rollout = await loadRollout(db, id)
  if (!rollout) throw new NotFoundError(`no rollout ${id}; run "flotilla rollout status" to see the latest`)
  return rollout
}

function expect(rollout: RolloutRow, allowed: readonly RolloutState[], what: string): void {
  if (!allowed.includes(rollout.state)) {
    throw new ConflictError(
      `cannot ${what} rollout ${rollout.id}: it is ${rollout.state} (only ${allowed.join(' or ')} can be)`,
    )
  }
}

/**
 * Makes a transition that was checked against the state read a moment ago, only if the rollout
 * is still in one of `from` (compare-and-set); otherwise someone or something else changed it in
 * between, and the operator is told to look again instead of overwriting that.
 */
async function transition(
  db: Kysely<Database>,
  rollout: RolloutRow,
  from: readonly RolloutState[],
  changes: Parameters<typeof updateRollout>[2],
  event: Parameters<typeof updateRollout>[3],
): Promise<void> {
  if (!(await updateRollout(db, rollout.id, changes, event, { from }))) {
    const now = (await loadRollout(db, rollout.id))?.state ?? 'gone'
    throw new ConflictError(
      `rollout ${rollout.id} changed while you asked (it was ${rollout.state}, it is ${now}); look again with "flotilla rollout status ${rollout.id}"`,
    )
  }
}

/** The state a paused rollout goes back to: `queued` when it had not left the queue yet. */
const unpaused = (rollout: RolloutRow): RolloutState => (rollout.phase === 'queue' ? 'queued' : 'running')

async function audit(
  db: Kysely<Database>,
  who: Operator,
  action: string,
  subject: string,
  detail: Record<string, unknown> = {},
) {
  await appendAuditEntry(db, {
    actor: who.actor,
    action,
    subject,
    source: who.source,
    detail: (who.elevated ? { ...detail, elevated: true } : detail) as never,
  })
}

/** Pauses a rollout: it finishes the target steps under way and starts no new one. */
export async function pauseRollout(db: Kysely<Database>, id: string, who: Operator): Promise<void> {
  const rollout = await existing(db, id)
  const from: RolloutState[] = ['running', 'waiting-approval', 'queued']
  expect(rollout, from, 'pause')
  await transition(
    db,
    rollout,
    from,
    { state: 'paused', haltReason: `paused by ${who.actor}` },
    { type: 'paused', detail: { by: who.actor } },
  )
  await audit(db, who, 'rollout-pause', id)
}

/**
 * Resumes a paused rollout (run it again to continue); one paused in the queue goes back to it.
 * A running or queued rollout keeps its state (its process may have died: run it again).
 */
export async function resumeRollout(db: Kysely<Database>, id: string, who: Operator): Promise<void> {
  const rollout = await existing(db, id)
  expect(rollout, ['paused', 'running', 'queued'], 'resume')
  const stop = await fleetStop(db)
  if (stop)
    throw new ConflictError(
      `the fleet-wide stop is on (${stop.reason}, by ${stop.by}); "flotilla unstop" first`,
    )
  // Running or queued, its process may have died: the state stays (a running rollout may be
  // rolling back: its halt reason says why), and the event shows who picked it up.
  await transition(
    db,
    rollout,
    [rollout.state],
    rollout.state === 'paused' ? { state: unpaused(rollout), haltReason: null } : {},
    { type: 'resumed', detail: { by: who.actor } },
  )
  await audit(db, who, 'rollout-resume', id)
}

/**
 * Aborts a rollout: nothing more is applied, its locks are released, nothing is rolled back. A
 * halted rollout can be aborted too (it holds its targets' locks while it waits for a retry or a
 * skip).
 */
export async function abortRollout(db: Kysely<Database>, id: string, who: Operator): Promise<void> {
  const rollout = await existing(db, id)
  if (FINAL_STATES.has(rollout.state) && rollout.state !== 'halted')
    throw new ConflictError(`rollout ${id} is already ${rollout.state}`)
  await transition(
    db,
    rollout,
    [rollout.state],
    { state: 'aborted', haltReason: `aborted by ${who.actor}` },
    { type: 'aborted', detail: { by: who.actor } },
  )
  await releaseLocks(db, id)
  await audit(db, who, 'rollout-abort', id)
}

/**
 * Approves the stage a rollout waits for. The author of a rollout cannot approve its stages
 * alone: a second person looks before production changes.
 */
export async function approveStage(db: Kysely<Database>, id: string, who: Operator): Promise<string> {
  const rollout = await existing(db, id)
  expect(rollout, ['waiting-approval'], 'approve')
  const stage = rollout.schedule.stages[rollout.stageIndex]!
  if (who.actor === rollout.createdBy) {
    throw new ConflictError(
      `${who.actor} started rollout ${id} and cannot also approve its stage ${stage.name}: someone else must`,
    )
  }
  await transition(
    db,
    rollout,
    ['waiting-approval'],
    { state: 'running', stageApprovals: { ...rollout.stageApprovals, [stage.name]: who.actor } },
    { type: 'stage-approved', detail: { stage: stage.name, by: who.actor } },
  )
  await audit(db, who, 'rollout-approve', id, { stage: stage.name })
  return stage.name
}

/** Gives a failed target another attempt; a halted rollout runs again. */
export async function retryTarget(
  db: Kysely<Database>,
  id: string,
  target: string,
  who: Operator,
): Promise<void> {
  await changeFailedTarget(db, id, target, who, 'pending', 'target-retry')
}

/** Skips a failed target; a halted rollout runs again without it. */
export async function skipTarget(
  db: Kysely<Database>,
  id: string,
  target: string,
  who: Operator,
): Promise<void> {
  await changeFailedTarget(db, id, target, who, 'skipped', 'target-skipped')
}

async function changeFailedTarget(
  db: Kysely<Database>,
  id: string,
  target: string,
  who: Operator,
  state: 'pending' | 'skipped',
  type: string,
) {
  const rollout = await existing(db, id)
  expect(
    rollout,
    ['halted', 'running', 'paused'],
    type === 'target-retry' ? 'retry a target of' : 'skip a target of',
  )
  if (rollout.phase === 'rollback')
    throw new ConflictError(
      `rollout ${id} stopped while rolling back (${rollout.haltReason ?? 'halted'}); it let go of its targets and cannot go on: abort it`,
    )
  const row = (await loadTargets(db, id)).find((t) => t.target === target)
  if (!row) throw new NotFoundError(`rollout ${id} has no target ${target}`)
  if (row.state !== 'failed')
    throw new ConflictError(
      `target ${target} of rollout ${id} is ${row.state}; only a failed target can be retried or skipped`,
    )
  // The engine only runs the targets of the stage it is in: one of a stage it has left would
  // stay pending for ever.
  if (row.stageIndex !== rollout.stageIndex)
    throw new ConflictError(
      `target ${target} failed in stage ${row.stage}, which rollout ${id} has left; start a new rollout to change it`,
    )
  const changed = await updateTarget(
    db,
    id,
    target,
    { state, reason: state === 'skipped' ? `skipped by ${who.actor}` : null },
    { type, detail: { by: who.actor } },
    { from: ['failed'] },
  )
  if (!changed)
    throw new ConflictError(`target ${target} of rollout ${id} changed while you asked; look again`)
  if (rollout.state === 'halted') {
    // Back to the start of the stage's waves: the wave of the target runs again.
    await transition(
      db,
      rollout,
      ['halted'],
      { state: 'running', haltReason: null, waveIndex: row.wave, phase: 'waves' },
      { type: 'resumed', detail: { by: who.actor } },
    )
  }
  await audit(db, who, type === 'target-retry' ? 'rollout-retry' : 'rollout-skip', id, { target })
}

/** Pulls the emergency brake: every running rollout pauses at once. Returns the rollouts paused. */
export async function stopFleet(db: Kysely<Database>, reason: string, who: Operator): Promise<string[]> {
  await setFleetStop(db, { reason, by: who.actor })
  const active = await rolloutsIn(db, ['running', 'waiting-approval', 'queued'])
  const paused: string[] = []
  for (const { id } of active) {
    const changed = await updateRollout(
      db,
      id,
      { state: 'paused', haltReason: `fleet-wide stop: ${reason}` },
      { type: 'paused', detail: { by: who.actor, reason, stop: true } },
      { from: ['running', 'waiting-approval', 'queued'] },
    )
    if (changed) paused.push(id) // one that ended in between needs no pausing
  }
  await audit(db, who, 'stop', 'fleet', { reason, paused })
  return paused
}

/** Releases the brake; rollouts the stop paused run again. Returns them. */
export async function unstopFleet(db: Kysely<Database>, who: Operator): Promise<string[]> {
  await setFleetStop(db, null)
  const paused = (await rolloutsIn(db, ['paused'])).filter((r) =>
    r.haltReason?.startsWith('fleet-wide stop:'),
  )
  const resumed: string[] = []
  for (const { id, phase } of paused) {
    const changed = await updateRollout(
      db,
      id,
      { state: phase === 'queue' ? 'queued' : 'running', haltReason: null },
      { type: 'resumed', detail: { by: who.actor, unstop: true } },
      { from: ['paused'] },
    )
    if (changed) resumed.push(id)
  }
  await audit(db, who, 'unstop', 'fleet', { resumed })
  return resumed
}
