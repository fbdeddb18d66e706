import { type Kysely, sql } from 'kysely'
import type { Database, Json } from './tables.ts'

/** A rollout event as stored. */
export interface RolloutEvent {
  /** Increases with every event appended, across all rollouts. */
  id: number
  rolloutId: string
  at: Date
  type: string
  target: string | null
  detail: Json
}

/** What `appendRolloutEvent` needs; `at` defaults to the database's `now()`. */
export interface NewRolloutEvent {
  rolloutId: string
  type: string
  target?: string
  detail?: Json
  at?: Date
}

/**
 * Appends an event to a rollout's history and returns it as stored.
 *
 * The events of one rollout get their ids in the order they are committed: a reader that follows
 * a rollout with `afterId` must never see id 11 before id 10 commits and then skip 10. Parallel
 * target steps write events in concurrent transactions, so the id is drawn under a lock per
 * rollout that is held until the transaction ends (the event is the last thing those write).
 */
export async function appendRolloutEvent(
  db: Kysely<Database>,
  event: NewRolloutEvent,
): Promise<RolloutEvent> {
  if (!db.isTransaction) return db.transaction().execute((trx) => appendRolloutEvent(trx, event))
  await sql`select pg_advisory_xact_lock(hashtext(${`flotilla:events:${event.rolloutId}`}))`.execute(db)
  const row = await db
    .insertInto('rollout_events')
    .values({
      rollout_id: event.rolloutId,
      type: event.type,
      target: event.target ?? null,
      detail: JSON.stringify(event.detail ?? {}),
      ...(event.at === undefined ? {} : { at: event.at }),
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toRolloutEvent(row)
}

/**
 * The events of one rollout in the order they were appended; with `afterId`, only the later
 * ones (to resume a stream).
 */
export async function listRolloutEvents(
  db: Kysely<Database>,
  rolloutId: string,
  options: { afterId?: number } = {},
): Promise<RolloutEvent[]> {
  let query = db.selectFrom('rollout_events').selectAll().where('rollout_id', '=', rolloutId)
  if (options.afterId !== undefined) query = query.where('id', '>', options.afterId)
  const rows = await query.orderBy('id').execute()
  return rows.map(toRolloutEvent)
}

function toRolloutEvent(row: {
  id: number
  rollout_id: string
  at: Date
  type: string
  target: string | null
  detail: Json
}): RolloutEvent {
  return {
    id: row.id,
    rolloutId: row.rollout_id,
    at: row.at,
    type: row.type,
    target: row.target,
    detail: row.detail,
  }
}
