import { type Kysely, sql } from 'kysely'

/**
 * The first tables: revisions, plans, rollouts and their events and locks, snapshots and the
 * audit log. States and verdicts are plain text: their values belong to the code that writes
 * them and grow with it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('revisions')
    .addColumn('sha', 'text', (col) => col.primaryKey())
    .addColumn('ref', 'text')
    .addColumn('loaded_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('summary', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute()

  await db.schema
    .createTable('plans')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('base', 'text', (col) => col.notNull())
    .addColumn('head', 'text', (col) => col.notNull())
    .addColumn('verdict', 'text', (col) => col.notNull())
    .addColumn('document', 'jsonb', (col) => col.notNull())
    .execute()

  await db.schema
    .createTable('rollouts')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('plan_id', 'text', (col) => col.notNull().references('plans.id'))
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('revision', 'text', (col) => col.notNull())
    .addColumn('created_by', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('rollouts_state_idx').on('rollouts').column('state').execute()

  await db.schema
    .createTable('rollout_events')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('rollout_id', 'text', (col) => col.notNull().references('rollouts.id').onDelete('cascade'))
    .addColumn('at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('target', 'text')
    .addColumn('detail', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute()
  await db.schema
    .createIndex('rollout_events_rollout_id_idx')
    .on('rollout_events')
    .columns(['rollout_id', 'id'])
    .execute()

  await db.schema
    .createTable('locks')
    .addColumn('target', 'text', (col) => col.primaryKey())
    .addColumn('rollout_id', 'text', (col) => col.notNull().references('rollouts.id').onDelete('cascade'))
    .addColumn('acquired_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('snapshots')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('target', 'text', (col) => col.notNull())
    .addColumn('address', 'text', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('content', 'jsonb', (col) => col.notNull())
    .execute()
  await db.schema.createIndex('snapshots_target_idx').on('snapshots').column('target').execute()

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('subject', 'text', (col) => col.notNull())
    .addColumn('detail', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('source', 'text', (col) => col.notNull())
    .execute()
  await db.schema.createIndex('audit_log_subject_idx').on('audit_log').columns(['subject', 'id']).execute()
}

/** Drops every table of `up`, dependents first. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'audit_log',
    'snapshots',
    'locks',
    'rollout_events',
    'rollouts',
    'plans',
    'revisions',
  ]) {
    await db.schema.dropTable(table).execute()
  }
}
