/**
 * The `rollouts` table: one row per rollout — its state, where it stands in its schedule, who
 * runs it (the lease). Every statement on it is here. The rows of its targets are
 * `target-rows-store.ts`'s, its plan `plans-store.ts`'s; the locks and the fleet-wide stop, which
 * applies and restores outside rollouts honour too, belong to `operations/` (re-exported here for
 * the callers that know them from this module).
 */
import { randomBytes } from 'node:crypto'
import { type ExpressionBuilder, type Insertable, type Kysely, sql } from 'kysely'
import { lockHolders as locksHeld } from '../operations/target-locks.ts'
import { appendRolloutEvent, rolloutEventsLock } from '../store/events.ts'
import type { Database, Json, RolloutsTable } from '../store/tables.ts'
import type { RolloutRequest, RolloutState, StagePhase } from './rollout-model.ts'
import type { Schedule } from './schedule.ts'
import { fromStates } from './state-filter.ts'
import { rolloutsWithTargets } from './target-rows-store.ts'

export { fleetStop, setFleetStop } from '../operations/fleet-stop.ts'
export { releaseLocks, serializeLocking } from '../operations/target-locks.ts'
export { planPolicyTime } from './plans-store.ts'
export {
  loadTargetDetail,
  loadTargets,
  type PlannedTarget,
  type PreviousState,
  type RolloutTargetRow,
  updateTarget,
} from './target-rows-store.ts'

/** A rollout row, parsed. */
export interface RolloutRow {
  readonly id: string
  readonly planId: string
  readonly revision: string
  readonly state: RolloutState
  readonly createdBy: string
  readonly createdAt: Date
  readonly schedule: Schedule
  readonly haltReason: string | null
  readonly stageIndex: number
  readonly waveIndex: number
  readonly phase: StagePhase
  readonly bakeUntil: Date | null
  readonly stageApprovals: Readonly<Record<string, string>>
  readonly request: RolloutRequest
}

/** A new id: `r-20261125-3f9a1c`. */
export function newRolloutId(now: Date): string {
  return `r-${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`
}

/** Loads a rollout, or undefined. */
export async function loadRollout(db: Kysely<Database>, id: string): Promise<RolloutRow | undefined> {
  const row = await db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst()
  return row ? toRollout(row) : undefined
}

/**
 * Loads a rollout whose schedule the caller already has (it is fixed once the rollout runs): every
 * column but the schedule, which for thousands of targets is the largest by far. Or undefined.
 */
export async function loadRolloutProgress(
  db: Kysely<Database>,
  id: string,
  schedule: Schedule,
): Promise<RolloutRow | undefined> {
  const row = await db
    .selectFrom('rollouts')
    .select([
      'id',
      'plan_id',
      'revision',
      'state',
      'created_by',
      'created_at',
      'halt_reason',
      'stage_index',
      'wave_index',
      'phase',
      'bake_until',
      'stage_approvals',
      'request',
    ])
    .where('id', '=', id)
    .executeTakeFirst()
  return row ? { ...toRollout(row), schedule } : undefined
}

/** A rollout's state, or undefined when there is no such rollout. */
export async function rolloutState(db: Kysely<Database>, id: string): Promise<RolloutState | undefined> {
  const row = await db.selectFrom('rollouts').select('state').where('id', '=', id).executeTakeFirst()
  return row?.state as RolloutState | undefined
}

/**
 * Whether a target step may start: the rollout still runs and the fleet-wide stop is not pulled.
 * One query, asked before every target step.
 */
export async function mayStep(db: Kysely<Database>, id: string): Promise<boolean> {
  const row = await db
    .selectFrom('rollouts')
    .select((eb) => [
      'state',
      eb.exists(eb.selectFrom('fleet_controls').select('key').where('key', '=', 'stop')).as('stopped'),
    ])
    .where('id', '=', id)
    .executeTakeFirst()
  return row?.state === 'running' && !row.stopped
}

/** The newest rollout. */
export async function latestRollout(db: Kysely<Database>): Promise<RolloutRow | undefined> {
  const row = await db
    .selectFrom('rollouts')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst()
  return row ? toRollout(row) : undefined
}

function toRollout(row: Record<string, unknown>): RolloutRow {
  return {
    id: row.id as string,
    planId: row.plan_id as string,
    revision: row.revision as string,
    state: row.state as RolloutState,
    createdBy: row.created_by as string,
    createdAt: row.created_at as Date,
    schedule: row.schedule as unknown as Schedule,
    haltReason: (row.halt_reason as string | null) ?? null,
    stageIndex: row.stage_index as number,
    waveIndex: row.wave_index as number,
    phase: row.phase as StagePhase,
    bakeUntil: (row.bake_until as Date | null) ?? null,
    stageApprovals: (row.stage_approvals ?? {}) as Record<string, string>,
    request: {
      approvals: [],
      ...(row.request as object),
      ref: (row.request as { ref?: string })?.ref ?? 'HEAD',
    },
  }
}

/**
 * Changes a rollout's columns and records the event of it, atomically (one statement). With `from`, only
 * while the rollout is in one of those states (compare-and-set: an operator's abort between
 * reading a rollout and changing it is not overwritten); returns whether it changed.
 */
export async function updateRollout(
  db: Kysely<Database>,
  id: string,
  changes: Partial<{
    state: RolloutState
    haltReason: string | null
    stageIndex: number
    waveIndex: number
    phase: StagePhase
    bakeUntil: Date | null
    stageApprovals: Record<string, string>
  }>,
  event?: { type: string; target?: string; detail?: Json },
  options: { readonly from?: readonly RolloutState[] } = {},
): Promise<boolean> {
  const set = [sql`updated_at = ${new Date()}`]
  if (changes.state !== undefined) set.push(sql`state = ${changes.state}`)
  if (changes.haltReason !== undefined) set.push(sql`halt_reason = ${changes.haltReason}`)
  if (changes.stageIndex !== undefined) set.push(sql`stage_index = ${changes.stageIndex}`)
  if (changes.waveIndex !== undefined) set.push(sql`wave_index = ${changes.waveIndex}`)
  if (changes.phase !== undefined) set.push(sql`phase = ${changes.phase}`)
  if (changes.bakeUntil !== undefined) set.push(sql`bake_until = ${changes.bakeUntil}`)
  if (changes.stageApprovals !== undefined)
    set.push(sql`stage_approvals = ${JSON.stringify(changes.stageApprovals)}::jsonb`)
  const from = fromStates(options.from)
  const update = sql`update rollouts set ${sql.join(set)} where id = ${id} ${from} returning id`
  if (!event) return (await sql`${update}`.execute(db)).rows.length > 0
  // One statement, one round trip: the event is inserted only when the rollout changed, under
  // its lock taken before the event's id is drawn (see updateTarget).
  const result = await sql<{ id: number }>`with event_lock as materialized (select ${rolloutEventsLock(id)}),
    changed as (${update})
    insert into rollout_events (rollout_id, type, target, detail)
    select changed.id, ${event.type}::text, ${event.target ?? null}::text, ${JSON.stringify(event.detail ?? {})}::jsonb
    from event_lock, changed
    returning id`.execute(db)
  return result.rows.length > 0
}

/** One rollout as lists show it. */
export interface RolloutSummary {
  readonly id: string
  readonly state: RolloutState
  readonly revision: string
  readonly createdBy: string
  readonly createdAt: string
  readonly haltReason: string | null
}

/** The newest rollouts first, of one state when given. */
export async function listRollouts(
  db: Kysely<Database>,
  options: { state?: RolloutState | undefined; limit: number },
): Promise<RolloutSummary[]> {
  let query = db
    .selectFrom('rollouts')
    .select(['id', 'state', 'revision', 'created_by', 'created_at', 'halt_reason'])
    .orderBy('created_at', 'desc')
    .limit(options.limit)
  if (options.state) query = query.where('state', '=', options.state)
  return (await query.execute()).map((r) => ({
    id: r.id,
    state: r.state as RolloutState,
    revision: r.revision,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    haltReason: r.halt_reason,
  }))
}

/** The rollouts holding a lock on any of `targets`, with their states. */
export async function lockHolders(
  db: Kysely<Database>,
  targets: readonly string[],
): Promise<{ rolloutId: string; state: RolloutState }[]> {
  return (await locksHeld(db, targets)).map((h) => ({
    rolloutId: h.rolloutId,
    state: h.state as RolloutState,
  }))
}

/** Rollouts other than `except` that wait in the queue (or were paused there) for any of `targets`. */
export async function queuedRollouts(
  db: Kysely<Database>,
  targets: readonly string[],
  except: string,
): Promise<string[]> {
  const having = await rolloutsWithTargets(db, targets)
  if (having.size === 0) return []
  const rows = await db
    .selectFrom('rollouts')
    .select('id')
    .where('phase', '=', 'queue')
    .where('state', 'in', ['queued', 'paused'])
    .where('id', '!=', except)
    .where('id', 'in', [...having])
    .execute()
  return rows.map((r) => r.id)
}

/** Stores a new rollout. */
export async function insertRollout(db: Kysely<Database>, row: Insertable<RolloutsTable>): Promise<void> {
  await db.insertInto('rollouts').values(row).execute()
}

/** Ends a queued rollout that a newer one of the same targets replaces, with its event. */
export async function supersede(db: Kysely<Database>, older: string, by: string): Promise<void> {
  await db
    .updateTable('rollouts')
    .set({ state: 'aborted', halt_reason: `superseded by ${by}`, updated_at: new Date() })
    .where('id', '=', older)
    .execute()
  await appendRolloutEvent(db, { rolloutId: older, type: 'superseded', detail: { by } })
}

/**
 * Ends a queued rollout whose plan, made again as it left the queue, is not to be run: `aborted`
 * (with why) or `succeeded` (nothing left to change); its schedule is emptied.
 */
export async function endQueued(
  db: Kysely<Database>,
  id: string,
  ended: 'succeeded' | 'aborted',
  haltReason: string | null,
): Promise<void> {
  await db
    .updateTable('rollouts')
    .set({
      state: ended,
      halt_reason: haltReason,
      schedule: JSON.stringify({ stages: [] }),
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .execute()
}

/** Runs a rollout that left the queue, from the start of its new schedule. */
export async function startQueued(db: Kysely<Database>, id: string, schedule: Schedule): Promise<void> {
  await db
    .updateTable('rollouts')
    .set({
      state: 'running',
      phase: 'approval',
      halt_reason: null,
      schedule: JSON.stringify(schedule),
      stage_index: 0,
      wave_index: 0,
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .execute()
}

/** The process that holds the right to run a rollout (`host:pid`), or null. */
export async function rolloutRunner(db: Kysely<Database>, id: string): Promise<string | null> {
  const row = await db.selectFrom('rollouts').select('runner').where('id', '=', id).executeTakeFirst()
  return row?.runner ?? null
}

/** Whether a process holds the right to run a rollout now: it is not {@link leaseFree}. */
export async function rolloutAttended(db: Kysely<Database>, id: string): Promise<boolean> {
  const row = await db
    .selectFrom('rollouts')
    .select('id')
    .where('id', '=', id)
    .where((eb) => eb.not(leaseFree(eb)))
    .executeTakeFirst()
  return row !== undefined
}

/** A rollout nobody holds the right to run: no lease, or one that ran out. */
function leaseFree(eb: ExpressionBuilder<Database, 'rollouts'>) {
  return eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', new Date())])
}

/**
 * Takes (or renews) the right of `runner` to run a rollout until `until`: when nobody holds it,
 * `runner` does, the lease ran out, or its holder is `takeOverFrom` (a process known dead).
 * Returns whether it was taken.
 */
export async function claimRollout(
  db: Kysely<Database>,
  id: string,
  runner: string,
  until: Date,
  takeOverFrom?: string,
): Promise<boolean> {
  const result = await db
    .updateTable('rollouts')
    .set({ runner, lease_until: until })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([
        eb('runner', 'is', null),
        eb('runner', '=', runner),
        eb('lease_until', '<', new Date()),
        ...(takeOverFrom !== undefined ? [eb('runner', '=', takeOverFrom)] : []),
      ]),
    )
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** Lets go of the right to run a rollout, if `runner` holds it. */
export async function releaseRollout(db: Kysely<Database>, id: string, runner: string): Promise<void> {
  await db
    .updateTable('rollouts')
    .set({ runner: null, lease_until: null })
    .where('id', '=', id)
    .where('runner', '=', runner)
    .execute()
}

/** The rollouts in one of `states`, oldest first. */
export async function rolloutsIn(
  db: Kysely<Database>,
  states: readonly RolloutState[],
): Promise<{ id: string; phase: StagePhase; haltReason: string | null }[]> {
  const rows = await db
    .selectFrom('rollouts')
    .select(['id', 'phase', 'halt_reason'])
    .where('state', 'in', [...states])
    .orderBy('created_at')
    .orderBy('id')
    .execute()
  return rows.map((r) => ({ id: r.id, phase: r.phase as StagePhase, haltReason: r.halt_reason }))
}

/** How many rollouts are in each state, as stored. */
export async function countRolloutsByState(db: Kysely<Database>): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('rollouts')
    .select(['state', (eb) => eb.fn.countAll<string>().as('count')])
    .groupBy('state')
    .execute()
  return new Map(rows.map((r) => [r.state, Number(r.count)]))
}

/**
 * The rollouts a worker may take up, oldest first: `running` or `queued`, and held by no process
 * whose lease is still valid.
 */
export async function runnableRollouts(db: Kysely<Database>): Promise<string[]> {
  const rows = await db
    .selectFrom('rollouts')
    .select('id')
    .where('state', 'in', ['running', 'queued'])
    .where(leaseFree)
    .orderBy('created_at')
    .execute()
  return rows.map((row) => row.id)
}
