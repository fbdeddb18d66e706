/**
 * The `rollout_targets` table: one row per target of a rollout — where it stands in the
 * schedule, its state, what the plan showed for it and what it had before (for rollback).
 */
import { type Insertable, type Kysely, sql } from 'kysely'
import type { RenderedManifest, RenderedStack } from '../core/model/desired-state.ts'
import type { Change } from '../core/model/plan.ts'
import { rolloutEventsLock } from '../store/events.ts'
import type { Database, Json, RolloutTargetsTable } from '../store/tables.ts'
import type { GateOutcome, TargetState } from './rollout-model.ts'
import { fromStates } from './state-filter.ts'

/** What the plan showed for one target, and what it was computed against. */
export interface PlannedTarget {
  readonly changes: readonly Change[]
  /** Fingerprints of the observed state the plan was computed against, by address. */
  readonly observed: Readonly<Record<string, string>>
  /** Fingerprints of what the rollout applies, by address. */
  readonly desired: Readonly<Record<string, string>>
  /** Addresses whose destruction the plan's approvals cover. */
  readonly approved: readonly string[]
}

/** What a target had before the rollout: what a rollback brings back. */
export interface PreviousState {
  readonly stacks: readonly RenderedStack[]
  readonly manifests: readonly RenderedManifest[]
}

/** A target row, parsed (without its plan and previous state: see {@link loadTargetDetail}). */
export interface RolloutTargetRow {
  readonly rolloutId: string
  readonly target: string
  readonly stage: string
  readonly stageIndex: number
  readonly wave: number
  readonly position: number
  readonly state: TargetState
  readonly attempts: number
  readonly reason: string | null
  readonly gates: readonly GateOutcome[]
}

/** The targets of a rollout (of one of its stages, with `stageIndex`), in schedule order. */
export async function loadTargets(
  db: Kysely<Database>,
  rolloutId: string,
  stageIndex?: number,
): Promise<RolloutTargetRow[]> {
  let query = db
    .selectFrom('rollout_targets')
    .select([
      'rollout_id',
      'target',
      'stage',
      'stage_index',
      'wave',
      'position',
      'state',
      'attempts',
      'reason',
      'gates',
    ])
    .where('rollout_id', '=', rolloutId)
    .orderBy('stage_index')
    .orderBy('wave')
    .orderBy('position')
  if (stageIndex !== undefined) query = query.where('stage_index', '=', stageIndex)
  const rows = await query.execute()
  return rows.map((row) => ({
    rolloutId: row.rollout_id,
    target: row.target,
    stage: row.stage,
    stageIndex: row.stage_index,
    wave: row.wave,
    position: row.position,
    state: row.state as TargetState,
    attempts: row.attempts,
    reason: row.reason,
    gates: row.gates as unknown as GateOutcome[],
  }))
}

/**
 * What the plan showed for one target and what it had before: read only for the target being
 * applied or rolled back (they hold whole templates; reading them for every target on every step
 * would make a 3000-target rollout quadratic).
 */
export async function loadTargetDetail(
  db: Kysely<Database>,
  rolloutId: string,
  target: string,
): Promise<{ planned: PlannedTarget; previous: PreviousState }> {
  const row = await db
    .selectFrom('rollout_targets')
    .select(['planned', 'previous'])
    .where('rollout_id', '=', rolloutId)
    .where('target', '=', target)
    .executeTakeFirstOrThrow()
  return {
    planned: row.planned as unknown as PlannedTarget,
    previous: row.previous as unknown as PreviousState,
  }
}

/** What the plan showed for one target: what its step reads (not what it had before, which only a rollback needs). */
export async function loadPlanned(
  db: Kysely<Database>,
  rolloutId: string,
  target: string,
): Promise<PlannedTarget> {
  const row = await db
    .selectFrom('rollout_targets')
    .select('planned')
    .where('rollout_id', '=', rolloutId)
    .where('target', '=', target)
    .executeTakeFirstOrThrow()
  return row.planned as unknown as PlannedTarget
}

/**
 * Starts the step of a pending target — `applying`, one more attempt, and its event — only while
 * the rollout runs and the fleet-wide stop is not pulled, and returns what the plan showed for it;
 * undefined when the step may not start (nothing is recorded). One statement: the check before a
 * step, its first transition and the read of its plan cost one round trip.
 */
export async function startTargetStep(
  db: Kysely<Database>,
  rolloutId: string,
  target: string,
  attempts: number,
  event: { type: string; detail?: Json },
): Promise<PlannedTarget | undefined> {
  const result = await sql<{
    planned: PlannedTarget
  }>`with event_lock as materialized (select ${rolloutEventsLock(rolloutId)}),
    changed as (
      update rollout_targets set updated_at = ${new Date()}, state = 'applying', attempts = ${attempts}
      where rollout_id = ${rolloutId} and target = ${target}
        and exists (select 1 from rollouts where id = ${rolloutId} and state = 'running')
        and not exists (select 1 from fleet_controls where key = 'stop')
      returning target, planned
    ),
    event as (
      insert into rollout_events (rollout_id, type, target, detail)
      select ${rolloutId}::text, ${event.type}::text, changed.target, ${JSON.stringify(event.detail ?? {})}::jsonb
      from event_lock, changed
    )
    select planned from changed`.execute(db)
  return result.rows[0]?.planned
}

/** The planned changes of every target of a rollout, by target (what its stored plan reads). */
export async function plannedChanges(
  db: Kysely<Database>,
  rolloutId: string,
): Promise<Map<string, Change[]>> {
  const rows = await db
    .selectFrom('rollout_targets')
    .select(['target', sql<Change[]>`planned->'changes'`.as('changes')])
    .where('rollout_id', '=', rolloutId)
    .execute()
  return new Map(rows.map((r) => [r.target, r.changes]))
}

/** The bytes the planned part of a rollout's target rows takes in the store. */
export async function plannedBytes(db: Kysely<Database>, rolloutId: string): Promise<number> {
  const row = await db
    .selectFrom('rollout_targets')
    .select(sql<string | null>`sum(pg_column_size(planned))`.as('bytes'))
    .where('rollout_id', '=', rolloutId)
    .executeTakeFirst()
  return Number(row?.bytes ?? 0)
}

/**
 * Changes a target's row and records the event of it, atomically; `from` as for
 * {@link updateRollout}. One statement — the event's lock, the update and the event's insert —
 * so that the step's bookkeeping costs one round trip, not a transaction of five.
 */
export async function updateTarget(
  db: Kysely<Database>,
  rolloutId: string,
  target: string,
  changes: Partial<{
    state: TargetState
    attempts: number
    reason: string | null
    gates: readonly GateOutcome[]
  }>,
  event: { type: string; detail?: Json },
  options: { readonly from?: readonly TargetState[] } = {},
): Promise<boolean> {
  const set = [sql`updated_at = ${new Date()}`]
  if (changes.state !== undefined) set.push(sql`state = ${changes.state}`)
  if (changes.attempts !== undefined) set.push(sql`attempts = ${changes.attempts}`)
  if (changes.reason !== undefined) set.push(sql`reason = ${changes.reason}`)
  if (changes.gates !== undefined) set.push(sql`gates = ${JSON.stringify(changes.gates)}::jsonb`)
  const from = fromStates(options.from)
  // The event is inserted only for a row the update changed; its lock is a materialized CTE the
  // insert reads from, so it is taken before the event's id is drawn (see appendRolloutEvent).
  const result = await sql<{
    id: number
  }>`with event_lock as materialized (select ${rolloutEventsLock(rolloutId)}),
    changed as (
      update rollout_targets set ${sql.join(set)}
      where rollout_id = ${rolloutId} and target = ${target} ${from}
      returning target
    )
    insert into rollout_events (rollout_id, type, target, detail)
    select ${rolloutId}::text, ${event.type}::text, changed.target, ${JSON.stringify(event.detail ?? {})}::jsonb
    from event_lock, changed
    returning id`.execute(db)
  return result.rows.length > 0
}

/** Inserts a rollout's target rows, in batches (a statement has at most 65,535 parameters). */
export async function insertTargetRows(
  db: Kysely<Database>,
  rows: readonly Insertable<RolloutTargetsTable>[],
): Promise<void> {
  for (let at = 0; at < rows.length; at += 200)
    await db
      .insertInto('rollout_targets')
      .values(rows.slice(at, at + 200))
      .execute()
}

/** Deletes every target row of a rollout (its plan is made again, or nothing is left of it). */
export async function deleteTargetRows(db: Kysely<Database>, rolloutId: string): Promise<void> {
  await db.deleteFrom('rollout_targets').where('rollout_id', '=', rolloutId).execute()
}

/** The rollouts that have a row for any of `targets`. */
export async function rolloutsWithTargets(
  db: Kysely<Database>,
  targets: readonly string[],
): Promise<Set<string>> {
  if (targets.length === 0) return new Set()
  const rows = await db
    .selectFrom('rollout_targets')
    .select('rollout_id')
    .distinct()
    .where('target', 'in', [...targets])
    .execute()
  return new Set(rows.map((r) => r.rollout_id))
}

/** How far each of some rollouts got: its targets done (succeeded or skipped), failed, and in all. */
export async function rolloutProgress(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<Map<string, { done: number; failed: number; total: number }>> {
  const progress = new Map<string, { done: number; failed: number; total: number }>()
  if (ids.length === 0) return progress
  const rows = await db
    .selectFrom('rollout_targets')
    .select(['rollout_id', 'state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('rollout_id', 'in', ids)
    .groupBy(['rollout_id', 'state'])
    .execute()
  for (const row of rows) {
    const p = progress.get(row.rollout_id) ?? { done: 0, failed: 0, total: 0 }
    const n = Number(row.n)
    p.total += n
    if (row.state === 'succeeded' || row.state === 'skipped') p.done += n
    if (row.state === 'failed' || row.state === 'rolled-back') p.failed += n
    progress.set(row.rollout_id, p)
  }
  return progress
}
