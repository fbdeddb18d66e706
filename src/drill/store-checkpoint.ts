/**
 * A checkpoint of a drill's whole store: every row of the control plane's tables and of the
 * simulated fleet's, copied aside inside the database once the base revision is built, and put
 * back before a scenario that must start from it. Putting rows back is a copy inside the
 * database; building the fleet again is planning and applying every target through the
 * simulator — the slowest part of a drill by far. The fleet a scenario starts from is the same
 * either way: the one the first build made, row for row.
 *
 * Only for the drill's own store, which nothing else uses: it replaces every table's rows.
 */
import { type Kysely, sql } from 'kysely'
import { simSchemaName } from '../store/sim-schema.ts'
import type { Database } from '../store/tables.ts'

/** The schema the checkpoint's copies are kept in. */
const CHECKPOINT_SCHEMA = 'drill_checkpoint'

/** A table checkpointed, and the name of its copy. */
interface Copied {
  readonly table: string
  readonly copy: string
}

/** A checkpoint taken: {@link restore} puts the store back as it was. */
export interface StoreCheckpoint {
  restore(): Promise<void>
}

/** The tables of the control plane's schema and the simulated fleet's (not the migrations' bookkeeping). */
async function tablesOf(db: Kysely<Database>): Promise<string[]> {
  const { rows: current } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  const schema = current[0]!.schema
  const { rows } = await sql<{ schema: string; name: string }>`
    select table_schema as schema, table_name as name from information_schema.tables
    where table_type = 'BASE TABLE'
      and table_schema in (${schema}, ${simSchemaName(schema)})
      and table_name not like 'kysely_migration%'
    order by table_schema, table_name`.execute(db)
  return rows.map((r) => `"${r.schema}"."${r.name}"`)
}

/** Copies every row of the store aside (see the module comment). */
export async function checkpointStore(db: Kysely<Database>): Promise<StoreCheckpoint> {
  const tables = await tablesOf(db)
  const copied: Copied[] = tables.map((table, index) => ({
    table,
    copy: `"${CHECKPOINT_SCHEMA}"."t${index}"`,
  }))
  await db.transaction().execute(async (trx) => {
    await sql.raw(`drop schema if exists "${CHECKPOINT_SCHEMA}" cascade`).execute(trx)
    await sql.raw(`create schema "${CHECKPOINT_SCHEMA}"`).execute(trx)
    for (const { table, copy } of copied) await sql.raw(`create table ${copy} as table ${table}`).execute(trx)
  })
  return {
    async restore() {
      await db.transaction().execute(async (trx) => {
        // Foreign keys between the tables hold in the copies as they held when copied: their
        // triggers are not needed while every table is put back at once.
        await sql.raw('set local session_replication_role = replica').execute(trx)
        await sql.raw(`truncate ${copied.map((c) => c.table).join(', ')}`).execute(trx)
        for (const { table, copy } of copied) await sql.raw(`insert into ${table} table ${copy}`).execute(trx)
      })
    },
  }
}
