import { type Kysely, sql } from 'kysely'

/**
 * What the simulated fleet's AWS-compatible endpoints keep besides the stacks themselves:
 * CloudFormation change sets (created, reviewed, executed or deleted through the API), each
 * stack's stack policy and tags, and when each stack was created (`CreationTime`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sim_change_sets')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('target', 'text', (col) => col.notNull())
    .addColumn('stack', 'text', (col) => col.notNull())
    .addColumn('stack_name', 'text', (col) => col.notNull())
    .addColumn('region', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('change_set_type', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('status_reason', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('execution_status', 'text', (col) => col.notNull())
    .addColumn('description', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('template', 'jsonb', (col) => col.notNull())
    .addColumn('parameters', 'jsonb', (col) => col.notNull())
    .addColumn('changes', 'jsonb', (col) => col.notNull())
    .addColumn('tags', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createIndex('sim_change_sets_stack_idx')
    .on('sim_change_sets')
    .columns(['stack', 'name'])
    .unique()
    .execute()
  await db.schema.alterTable('sim_stacks').addColumn('stack_policy', 'jsonb').execute()
  await db.schema
    .alterTable('sim_stacks')
    .addColumn('tags', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    .execute()
  await db.schema
    .alterTable('sim_stacks')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
}

/** Drops what `up` added. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sim_stacks').dropColumn('created_at').execute()
  await db.schema.alterTable('sim_stacks').dropColumn('tags').execute()
  await db.schema.alterTable('sim_stacks').dropColumn('stack_policy').execute()
  await db.schema.dropTable('sim_change_sets').execute()
}
