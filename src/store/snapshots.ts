/**
 * The `snapshots` table, as every provider uses it: copies of protected stateful resources taken
 * before they are destroyed, listed by `flotilla snapshots` and brought back by `flotilla restore`.
 */
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { SnapshotInfo } from '../core/provider/port.ts'
import type { Database } from './tables.ts'

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
