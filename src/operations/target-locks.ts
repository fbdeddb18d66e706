/**
 * The `locks` table: one row per target held — by a rollout (`rollout_id`) or by an apply, a
 * restore or a bootstrap outside rollouts (`holder`, a lease). Every statement on it is here;
 * `fleet-gate.ts` (operations) and the rollout engine ask these functions.
 */
import { type Kysely, sql } from 'kysely'
import type { Database } from '../store/tables.ts'

/** Rows per insert: a statement has at most 65,535 parameters. */
const BATCH = 1000

/**
 * Makes the transactions that take target locks (starting a rollout, leaving the queue, holding
 * targets for an operation) wait for each other, so two of them never both find a target free.
 * Held until the transaction ends. Advisory locks belong to the whole database: the key names
 * the schema, so installations (or test suites) that share a database through schemas of their
 * own do not queue behind each other's rollouts.
 */
export async function serializeLocking(trx: Kysely<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('flotilla:rollout-locks:' || current_schema()))`.execute(
    trx,
  )
}

/** Locks `targets` for a rollout. */
export async function lockForRollout(
  db: Kysely<Database>,
  rolloutId: string,
  targets: readonly string[],
): Promise<void> {
  for (let at = 0; at < targets.length; at += BATCH)
    await db
      .insertInto('locks')
      .values(targets.slice(at, at + BATCH).map((target) => ({ target, rollout_id: rolloutId })))
      .execute()
}

/** Releases every lock a rollout holds. */
export async function releaseLocks(db: Kysely<Database>, rolloutId: string): Promise<void> {
  await db.deleteFrom('locks').where('rollout_id', '=', rolloutId).execute()
}

/**
 * The rollouts holding a lock on any of `targets`, with their states, ordered by id. The holder's
 * state is read with its lock (a join on `rollouts`), so that whoever is refused is told what the
 * holder is doing; only rollouts' locks are returned (not those of an apply or a restore).
 */
export async function lockHolders(
  db: Kysely<Database>,
  targets: readonly string[],
): Promise<{ rolloutId: string; state: string }[]> {
  if (targets.length === 0) return []
  const rows = await db
    .selectFrom('locks')
    .innerJoin('rollouts', 'rollouts.id', 'locks.rollout_id')
    .select(['locks.rollout_id', 'rollouts.state'])
    .distinct()
    .where('locks.target', 'in', [...targets])
    .orderBy('locks.rollout_id')
    .execute()
  return rows.map((r) => ({ rolloutId: r.rollout_id as string, state: r.state }))
}

/** The first of `targets` (by name) that a rollout locks, with the rollout and its state; or undefined. */
export async function firstRolloutLock(
  db: Kysely<Database>,
  targets: readonly string[],
): Promise<{ target: string; rolloutId: string; state: string } | undefined> {
  if (targets.length === 0) return undefined
  const row = await db
    .selectFrom('locks')
    .innerJoin('rollouts', 'rollouts.id', 'locks.rollout_id')
    .select(['locks.target', 'locks.rollout_id', 'rollouts.state'])
    .where('locks.target', 'in', [...targets])
    .orderBy('locks.target')
    .executeTakeFirst()
  if (!row?.rollout_id) return undefined
  return { target: row.target, rolloutId: row.rollout_id, state: row.state }
}

/** A hold of an operation outside rollouts, as stored. */
export interface OperationHoldRow {
  readonly target: string
  /** The holder, as the operation stored it (JSON). */
  readonly holder: unknown
  readonly leaseUntil: Date | null
}

/** Holds `targets` for an operation outside rollouts, whose `holder` (JSON, with an `id`) says who. */
export async function insertOperationHolds(
  db: Kysely<Database>,
  targets: readonly string[],
  holder: string,
  leaseUntil: Date,
): Promise<void> {
  for (let at = 0; at < targets.length; at += BATCH)
    await db
      .insertInto('locks')
      .values(targets.slice(at, at + BATCH).map((target) => ({ target, holder, lease_until: leaseUntil })))
      .execute()
}

/** The holds of operations outside rollouts on any of `targets`, ordered by target. */
export async function operationHolds(
  db: Kysely<Database>,
  targets: readonly string[],
): Promise<OperationHoldRow[]> {
  if (targets.length === 0) return []
  const rows = await db
    .selectFrom('locks')
    .select(['target', 'holder', 'lease_until'])
    .where('rollout_id', 'is', null)
    .where('target', 'in', [...targets])
    .orderBy('target')
    .execute()
  return rows.map((r) => ({ target: r.target, holder: r.holder, leaseUntil: r.lease_until }))
}

/** Extends the lease of every hold of the holder `holderId`. */
export async function renewOperationHolds(
  db: Kysely<Database>,
  holderId: string,
  leaseUntil: Date,
): Promise<void> {
  await db
    .updateTable('locks')
    .where(sql<string>`holder->>'id'`, '=', holderId)
    .set({ lease_until: leaseUntil })
    .execute()
}

/** Lets go of every hold of the holder `holderId`. */
export async function releaseOperationHolds(db: Kysely<Database>, holderId: string): Promise<void> {
  await db.deleteFrom('locks').where(sql<string>`holder->>'id'`, '=', holderId).execute()
}

/**
 * Those of `targets` held now: by a rollout, or by an operation whose lease has not run out (the
 * hold of an operation whose process is gone runs out with its lease).
 */
export async function heldTargets(db: Kysely<Database>, targets: readonly string[]): Promise<Set<string>> {
  if (targets.length === 0) return new Set()
  const rows = await db
    .selectFrom('locks')
    .select('target')
    .where('target', 'in', [...targets])
    .where((eb) => eb.or([eb('rollout_id', 'is not', null), eb('lease_until', '>', new Date())]))
    .execute()
  return new Set(rows.map((r) => r.target))
}
