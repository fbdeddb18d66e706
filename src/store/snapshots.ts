/**
 * The `snapshots` table, as every provider uses it: copies of protected stateful resources taken
 * before they are destroyed, listed by `flotilla snapshots` and brought back by `flotilla restore`.
 */
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { SnapshotInfo } from '../core/provider/port.ts'
import type { Database, Json } from './tables.ts'

/** A new snapshot id: `snap-<yyyymmdd>-<6 hex>`. */
export function newSnapshotId(now: Date): string {
  return `snap-${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`
}

/** The snapshots a provider took, newest first. */
export async function listSnapshots(db: Kysely<Database>, provider: string): Promise<SnapshotInfo[]> {
  const rows = await db
    .selectFrom('snapshots')
    .selectAll()
    .where('provider', '=', provider)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute()
  return rows.map(toSnapshotInfo)
}

/** A stored snapshot as the provider port describes it. */
export function toSnapshotInfo(row: {
  id: string
  provider: string
  target: string
  address: string
  type: string
  created_at: Date
  description: string
}): SnapshotInfo {
  return {
    id: row.id,
    provider: row.provider,
    target: row.target,
    address: row.address,
    type: row.type,
    createdAt: row.created_at,
    description: row.description,
  }
}

/** A snapshot to keep (see {@link insertSnapshot}). */
export interface NewSnapshot {
  readonly id: string
  readonly provider: string
  readonly target: string
  readonly address: string
  readonly type: string
  /** What a restore needs, as JSON. */
  readonly content: Json
  readonly description: string
  readonly createdAt: Date
}

/** Keeps a snapshot (in `db`'s transaction when it is one: taken with the change it protects from). */
export async function insertSnapshot(db: Kysely<Database>, snapshot: NewSnapshot): Promise<SnapshotInfo> {
  const row = await db
    .insertInto('snapshots')
    .values({
      id: snapshot.id,
      target: snapshot.target,
      address: snapshot.address,
      type: snapshot.type,
      content: JSON.stringify(snapshot.content),
      provider: snapshot.provider,
      description: snapshot.description,
      created_at: snapshot.createdAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  return toSnapshotInfo(row)
}

/** A stored snapshot with what it holds, if it exists. */
export async function snapshotById(
  db: Kysely<Database>,
  id: string,
): Promise<(SnapshotInfo & { readonly content: Json }) | undefined> {
  const row = await db.selectFrom('snapshots').selectAll().where('id', '=', id).executeTakeFirst()
  return row ? { ...toSnapshotInfo(row), content: row.content } : undefined
}

/** Records that a snapshot was restored. */
export async function markRestored(db: Kysely<Database>, id: string, at: Date): Promise<void> {
  await db.updateTable('snapshots').set({ restored_at: at }).where('id', '=', id).execute()
}

/**
 * The snapshots of `target` taken since `since` and not restored yet: what a
 * rollback of a rollout started at `since` brings back before it re-applies the target.
 */
export async function snapshotsToRestore(
  db: Kysely<Database>,
  target: string,
  since: Date,
): Promise<string[]> {
  const rows = await db
    .selectFrom('snapshots')
    .select('id')
    .where('target', '=', target)
    .where('created_at', '>=', since)
    .where('restored_at', 'is', null)
    .execute()
  return rows.map((r) => r.id)
}

/** How many snapshots a provider took. */
export async function countSnapshots(db: Kysely<Database>, provider: string): Promise<number> {
  const row = await db
    .selectFrom('snapshots')
    .select(db.fn.countAll<number>().as('n'))
    .where('provider', '=', provider)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Forgets every snapshot of a provider (its fleet was reset). */
export async function deleteSnapshotsOf(db: Kysely<Database>, provider: string): Promise<void> {
  await db.deleteFrom('snapshots').where('provider', '=', provider).execute()
}
