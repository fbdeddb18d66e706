import { type Kysely, sql } from 'kysely'
import { simSchemaName } from '../sim-schema.ts'

/** The sim's tables whose rows belong to one target, and the column naming it. */
const TARGET_TABLES = [
  ['sim_objects', 'cluster'],
  ['sim_cluster_objects', 'cluster'],
  ['sim_stacks', 'target'],
  ['sim_targets', 'id'],
] as const

async function simSchema(db: Kysely<unknown>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  return simSchemaName(rows[0]?.schema ?? 'public')
}

/**
 * Issue 21, the server's background work and plans without looking at the whole fleet:
 *
 * - `plan_cache`: plans against the observed fleet computed once and kept, keyed by what they
 *   depend on — the head commit, the observed state's version, the approvals and, when a policy
 *   reads `now`, the minute policies saw (`server/plan-cache.ts`);
 * - in the simulated fleet's schema, `sim_changes`: per target, the version of its last change,
 *   kept by statement triggers on the tables whose rows belong to a target, so that "what changed
 *   since" is an index lookup instead of a scan of every object (`providers/sim/sim-changes.ts`);
 *   and indexes on the times things become due (an object ready, a stack operation settling), so
 *   that what became due since a moment is one too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('plan_cache')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('head', 'text', (col) => col.notNull())
    .addColumn('observed', 'text', (col) => col.notNull())
    .addColumn('document', 'jsonb', (col) => col.notNull())
    .addColumn('computed_ms', 'integer', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('plan_cache_created_idx').on('plan_cache').column('created_at').execute()

  const sim = await simSchema(db)
  const changes = sql.id(sim, 'sim_changes')
  await sql`create sequence ${sql.id(sim, 'sim_change_version')}`.execute(db)
  await sql`create table ${changes} (target text primary key, version bigint not null)`.execute(db)
  await sql`create index sim_changes_version_idx on ${changes} (version)`.execute(db)
  // Every target the simulated fleet knows counts as changed once, at the first look after this.
  await sql`insert into ${changes} select id, nextval(${sql.lit(`${quoted(sim)}.sim_change_version`)}::regclass) from ${sql.id(sim, 'sim_targets')}`.execute(
    db,
  )
  for (const column of new Set(TARGET_TABLES.map(([, c]) => c))) {
    // One function per column: reading the column directly, not the whole row as JSON, keeps an
    // apply of thousands of objects cheap (one upsert per statement and target).
    await sql`create function ${sql.id(sim, `sim_note_change_${column}`)}() returns trigger language plpgsql as ${sql.lit(
      `begin
  insert into ${quoted(sim)}.sim_changes (target, version)
    select x.target, nextval('${quoted(sim).replaceAll("'", "''")}.sim_change_version')
    from (select distinct r.${column} as target from changed r) x
  on conflict (target) do update set version = excluded.version;
  return null;
end`,
    )}`.execute(db)
  }
  for (const [table, column] of TARGET_TABLES) {
    for (const [event, rows] of [
      ['insert', 'new'],
      ['update', 'new'],
      ['delete', 'old'],
    ] as const) {
      await sql`create trigger ${sql.id(`${table}_${event}_change`)} after ${sql.raw(event)} on ${sql.id(sim, table)} referencing ${sql.raw(rows)} table as changed for each statement execute function ${sql.id(sim, `sim_note_change_${column}`)}()`.execute(
        db,
      )
    }
  }
  await sql`create index sim_objects_ready_idx on ${sql.id(sim, 'sim_objects')} (ready_at)`.execute(db)
  await sql`create index sim_stacks_settles_idx on ${sql.id(sim, 'sim_stacks')} (settles_at)`.execute(db)
}

function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** Drops the cache and the change bookkeeping (nothing in them is needed: both are rebuilt). */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('plan_cache').execute()
  const sim = await simSchema(db)
  for (const [table] of TARGET_TABLES)
    for (const event of ['insert', 'update', 'delete'])
      await sql`drop trigger ${sql.id(`${table}_${event}_change`)} on ${sql.id(sim, table)}`.execute(db)
  for (const column of new Set(TARGET_TABLES.map(([, c]) => c)))
    await sql`drop function ${sql.id(sim, `sim_note_change_${column}`)}()`.execute(db)
  await sql`drop table ${sql.id(sim, 'sim_changes')}`.execute(db)
  await sql`drop sequence ${sql.id(sim, 'sim_change_version')}`.execute(db)
  await sql`drop index ${sql.id(sim, 'sim_objects_ready_idx')}`.execute(db)
  await sql`drop index ${sql.id(sim, 'sim_stacks_settles_idx')}`.execute(db)
}
