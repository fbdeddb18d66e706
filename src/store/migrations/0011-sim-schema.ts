import { type Kysely, sql } from 'kysely'
import { simSchemaName } from '../sim-schema.ts'

// Frozen with the migration: the tables and the sequence the simulated fleet had in the control
// plane's schema when it moved out (0002, 0006, 0007).
const TABLES = [
  'sim_targets',
  'sim_stacks',
  'sim_stack_events',
  'sim_change_sets',
  'sim_zones',
  'sim_records',
  'sim_objects',
  'sim_cluster_objects',
  'sim_images',
  'sim_faults',
  'sim_meta',
] as const
const SEQUENCES = ['sim_resource_version'] as const

async function schemas(db: Kysely<unknown>): Promise<{ controlPlane: string; sim: string }> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  const controlPlane = rows[0]?.schema ?? 'public'
  return { controlPlane, sim: simSchemaName(controlPlane) }
}

/**
 * Issue 20: the simulated fleet owns its tables, in a schema of its own (`sim` beside `public`,
 * see `store/sim-schema.ts`), like a plugin that owns its database. They move with their rows,
 * indexes, constraints and sequences (`ALTER … SET SCHEMA` keeps everything, and column defaults
 * name their sequence by oid), so a store of 0.1 keeps its simulated fleet. Their names stay:
 * `sim_` is unambiguous in logs and `pg_stat_*` views, and every query of the sim keeps reading
 * as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { sim } = await schemas(db)
  await sql`create schema if not exists ${sql.id(sim)}`.execute(db)
  for (const table of TABLES) await sql`alter table ${sql.id(table)} set schema ${sql.id(sim)}`.execute(db)
  for (const sequence of SEQUENCES)
    await sql`alter sequence ${sql.id(sequence)} set schema ${sql.id(sim)}`.execute(db)
}

/** Moves the tables back into the control plane's schema and drops the sim's (then empty) schema. */
export async function down(db: Kysely<unknown>): Promise<void> {
  const { controlPlane, sim } = await schemas(db)
  for (const table of TABLES)
    await sql`alter table ${sql.id(sim, table)} set schema ${sql.id(controlPlane)}`.execute(db)
  for (const sequence of SEQUENCES)
    await sql`alter sequence ${sql.id(sim, sequence)} set schema ${sql.id(controlPlane)}`.execute(db)
  await sql`drop schema ${sql.id(sim)}`.execute(db)
}
