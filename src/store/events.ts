import { type Kysely, type RawBuilder, sql } from 'kysely'
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
  await sql`select ${rolloutEventsLock(event.rolloutId)}`.execute(db)
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
 * Takes the lock under which the ids of a rollout's events are drawn (see
 * {@link appendRolloutEvent}), held until the transaction ends: for statements that append an
 * event together with the change it records, in one round trip — as a materialized CTE the insert
 * reads from, so that the lock is taken before any id is drawn.
 */
export function rolloutEventsLock(rolloutId: string): RawBuilder<unknown> {
  return sql`pg_advisory_xact_lock(hashtext(${`flotilla:events:${rolloutId}`}))`
}

/**
 * Appends events of one rollout in one statement, numbered in the order given, under the same
 * lock as {@link appendRolloutEvent}: a burst of events (a provider's) costs one round trip.
 */
export async function appendRolloutEvents(
  db: Kysely<Database>,
  rolloutId: string,
  events: readonly Omit<NewRolloutEvent, 'rolloutId' | 'at'>[],
): Promise<void> {
  if (events.length === 0) return
  const rows = events.map(
    (event, index) =>
      sql`(${event.type}::text, ${event.target ?? null}::text, ${JSON.stringify(event.detail ?? {})}::jsonb, ${index}::integer)`,
  )
  await sql`with event_lock as materialized (select ${rolloutEventsLock(rolloutId)})
    insert into rollout_events (rollout_id, type, target, detail)
    select ${rolloutId}::text, v.type, v.target, v.detail
    from event_lock, (values ${sql.join(rows)}) as v(type, target, detail, ord)
    order by v.ord`.execute(db)
}

/**
 * The events of one rollout in the order they were appended; with `afterId`, only the later
 * ones (to resume a stream).
 */
export async function listRolloutEvents(
  db: Kysely<Database>,
  rolloutId: string,
  options: { afterId?: number; types?: readonly string[]; target?: string } = {},
): Promise<RolloutEvent[]> {
  let query = db.selectFrom('rollout_events').selectAll().where('rollout_id', '=', rolloutId)
  if (options.afterId !== undefined) query = query.where('id', '>', options.afterId)
  if (options.target !== undefined) query = query.where('target', '=', options.target)
  if (options.types) query = query.where('type', 'in', options.types.length > 0 ? options.types : [''])
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
