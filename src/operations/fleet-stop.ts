/**
 * The fleet-wide stop (the emergency brake): the `stop` row of `fleet_controls`. Read by every
 * path that changes the fleet — applies, restores and rollouts — so it lives below them all.
 */
import type { Kysely } from 'kysely'
import type { Database } from '../store/tables.ts'

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
