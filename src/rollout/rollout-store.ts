/** The rollout engine's rows: rollouts, their targets, events, locks and the fleet-wide stop. */
import { randomBytes } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import type { Change } from '../core/plan/plan-model.ts'
import type { RenderedManifest, RenderedStack } from '../core/render/desired-state.ts'
import { appendRolloutEvent } from '../store/events.ts'
import type { Database, Json } from '../store/tables.ts'
import type { GateOutcome, RolloutRequest, RolloutState, StagePhase, TargetState } from './rollout-model.ts'
import type { Schedule } from './schedule.ts'

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

/** A new id: `r-20261125-3f9a1c`. */
export function newRolloutId(now: Date): string {
  return `r-${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`
}

/** Loads a rollout, or undefined. */
export async function loadRollout(db: Kysely<Database>, id: string): Promise<RolloutRow | undefined> {
  const row = await db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst()
  return row ? toRollout(row) : undefined
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

/** The targets of a rollout, in schedule order. */
export async function loadTargets(db: Kysely<Database>, rolloutId: string): Promise<RolloutTargetRow[]> {
  const rows = await db
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
    .execute()
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

/**
 * Changes a rollout's columns and records the event of it, in one transaction. With `from`, only
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
  return db.transaction().execute(async (trx) => {
    let update = trx
      .updateTable('rollouts')
      .set({
        updated_at: new Date(),
        ...(changes.state !== undefined ? { state: changes.state } : {}),
        ...(changes.haltReason !== undefined ? { halt_reason: changes.haltReason } : {}),
        ...(changes.stageIndex !== undefined ? { stage_index: changes.stageIndex } : {}),
        ...(changes.waveIndex !== undefined ? { wave_index: changes.waveIndex } : {}),
        ...(changes.phase !== undefined ? { phase: changes.phase } : {}),
        ...(changes.bakeUntil !== undefined ? { bake_until: changes.bakeUntil } : {}),
        ...(changes.stageApprovals !== undefined
          ? { stage_approvals: JSON.stringify(changes.stageApprovals) }
          : {}),
      })
      .where('id', '=', id)
    if (options.from) update = update.where('state', 'in', [...options.from])
    const result = await update.executeTakeFirst()
    if (Number(result.numUpdatedRows) === 0) return false
    if (event) await appendRolloutEvent(trx, { rolloutId: id, ...event })
    return true
  })
}

/** Changes a target's row and records the event of it, in one transaction; `from` as for {@link updateRollout}. */
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
  return db.transaction().execute(async (trx) => {
    let update = trx
      .updateTable('rollout_targets')
      .set({
        updated_at: new Date(),
        ...(changes.state !== undefined ? { state: changes.state } : {}),
        ...(changes.attempts !== undefined ? { attempts: changes.attempts } : {}),
        ...(changes.reason !== undefined ? { reason: changes.reason } : {}),
        ...(changes.gates !== undefined ? { gates: JSON.stringify(changes.gates) } : {}),
      })
      .where('rollout_id', '=', rolloutId)
      .where('target', '=', target)
    if (options.from) update = update.where('state', 'in', [...options.from])
    const result = await update.executeTakeFirst()
    if (Number(result.numUpdatedRows) === 0) return false
    await appendRolloutEvent(trx, { rolloutId, target, ...event })
    return true
  })
}

/** The fleet-wide stop, if pulled. */
export async function fleetStop(
  db: Kysely<Database>,
): Promise<{ reason: string; by: string; at: string } | undefined> {
  const row = await db
    .selectFrom('fleet_controls')
    .select('value')
    .where('key', '=', 'stop')
    .executeTakeFirst()
  return row ? (row.value as { reason: string; by: string; at: string }) : undefined
}

/** Pulls or releases the fleet-wide stop. */
export async function setFleetStop(
  db: Kysely<Database>,
  stop: { reason: string; by: string } | null,
): Promise<void> {
  if (stop === null) {
    await db.deleteFrom('fleet_controls').where('key', '=', 'stop').execute()
    return
  }
  const value = JSON.stringify({ ...stop, at: new Date().toISOString() })
  await db
    .insertInto('fleet_controls')
    .values({ key: 'stop', value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: new Date() }))
    .execute()
}

/** Releases every lock a rollout holds. */
export async function releaseLocks(db: Kysely<Database>, rolloutId: string): Promise<void> {
  await db.deleteFrom('locks').where('rollout_id', '=', rolloutId).execute()
}

/**
 * Makes the transactions that take target locks (starting a rollout, leaving the queue) wait for
 * each other, so two of them never both find a target free. Held until the transaction ends.
 */
export async function serializeLocking(trx: Kysely<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('flotilla:rollout-locks'))`.execute(trx)
}

/** The rollouts holding a lock on any of `targets`, with their states. */
export async function lockHolders(
  db: Kysely<Database>,
  targets: readonly string[],
): Promise<{ rolloutId: string; state: RolloutState }[]> {
  if (targets.length === 0) return []
  const rows = await db
    .selectFrom('locks')
    .innerJoin('rollouts', 'rollouts.id', 'locks.rollout_id')
    .select(['locks.rollout_id', 'rollouts.state'])
    .distinct()
    .where('locks.target', 'in', [...targets])
    .orderBy('locks.rollout_id')
    .execute()
  return rows.map((r) => ({ rolloutId: r.rollout_id, state: r.state as RolloutState }))
}

/** Rollouts other than `except` that wait in the queue (or were paused there) for any of `targets`. */
export async function queuedRollouts(
  db: Kysely<Database>,
  targets: readonly string[],
  except: string,
): Promise<string[]> {
  if (targets.length === 0) return []
  const rows = await db
    .selectFrom('rollouts')
    .select('id')
    .where('phase', '=', 'queue')
    .where('state', 'in', ['queued', 'paused'])
    .where('id', '!=', except)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('rollout_targets')
          .select('target')
          .whereRef('rollout_targets.rollout_id', '=', 'rollouts.id')
          .where('rollout_targets.target', 'in', [...targets]),
      ),
    )
    .execute()
  return rows.map((r) => r.id)
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
