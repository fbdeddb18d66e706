/**
 * The simulated fleet's own bookkeeping (`sim_meta`): its settings and its DNS serial.
 */
import { sql } from 'kysely'
import type { SimDb } from './sim-database.ts'

/** Settings of a simulated fleet (`flotilla sim settings`). */
export interface SimSettings {
  /** Multiplies every simulated duration: 1 is the default pace, 0 settles everything at once. */
  readonly latencyScale: number
}

const DEFAULT_SETTINGS: SimSettings = { latencyScale: 1 }

/** The simulator's settings (defaults for what was never set). */
export async function loadSettings(db: SimDb): Promise<SimSettings> {
  const row = await db.selectFrom('sim_meta').select('value').where('key', '=', 'settings').executeTakeFirst()
  return { ...DEFAULT_SETTINGS, ...((row?.value ?? {}) as Partial<SimSettings>) }
}

/** Changes some settings; returns them all. */
export async function saveSettings(db: SimDb, settings: Partial<SimSettings>): Promise<SimSettings> {
  const next = { ...(await loadSettings(db)), ...settings }
  const value = JSON.stringify(next)
  await db
    .insertInto('sim_meta')
    .values({ key: 'settings', value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute()
  return next
}

/** Marks DNS data as changed (see {@link dnsSerial}). */
export async function bumpDnsSerial(db: SimDb): Promise<void> {
  await db
    .insertInto('sim_meta')
    .values({ key: 'dns-serial', value: '1' })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({ value: sql`to_jsonb((sim_meta.value #>> '{}')::bigint + 1)` }),
    )
    .execute()
}

/** A number that changes whenever any zone or record changes. */
export async function dnsSerial(db: SimDb): Promise<number> {
  const row = await db
    .selectFrom('sim_meta')
    .select('value')
    .where('key', '=', 'dns-serial')
    .executeTakeFirst()
  return row ? Number(row.value) : 0
}

/**
 * Forgets the settings. The DNS serial and the reset generation stay and move on: DNS servers
 * and providers in other processes see that everything changed (see {@link resetGeneration}).
 */
export async function resetMeta(db: SimDb): Promise<void> {
  await db.deleteFrom('sim_meta').where('key', 'not in', ['dns-serial', 'reset-generation']).execute()
  await bumpDnsSerial(db)
  await db
    .insertInto('sim_meta')
    .values({ key: 'reset-generation', value: '1' })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({ value: sql`to_jsonb((sim_meta.value #>> '{}')::bigint + 1)` }),
    )
    .execute()
}

/** How many times the simulated fleet was reset: what a process prepared before a reset is gone. */
export async function resetGeneration(db: SimDb): Promise<number> {
  const row = await db
    .selectFrom('sim_meta')
    .select('value')
    .where('key', '=', 'reset-generation')
    .executeTakeFirst()
  return row ? Number(row.value) : 0
}
