import { type Kysely, sql } from 'kysely'

/**
 * What the rollout engine needs to survive a `kill -9`: each rollout's fixed schedule (stages,
 * waves, settings), where it stands (halt reason, bake deadline, stage approvals, the process
 * running it and until when), one row per target with its state and what it had before, and the
 * fleet-wide stop.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('rollouts')
    .addColumn('schedule', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute()
  await db.schema.alterTable('rollouts').addColumn('halt_reason', 'text').execute()
  await db.schema
    .alterTable('rollouts')
    .addColumn('stage_index', 'integer', (col) => col.notNull().defaultTo(0))
    .execute()
  await db.schema
    .alterTable('rollouts')
    .addColumn('wave_index', 'integer', (col) => col.notNull().defaultTo(0))
    .execute()
  await db.schema
    .alterTable('rollouts')
    .addColumn('phase', 'text', (col) => col.notNull().defaultTo('waves'))
    .execute()
  await db.schema.alterTable('rollouts').addColumn('bake_until', 'timestamptz').execute()
  await db.schema
    .alterTable('rollouts')
    .addColumn('stage_approvals', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute()
  await db.schema.alterTable('rollouts').addColumn('runner', 'text').execute()
  await db.schema.alterTable('rollouts').addColumn('lease_until', 'timestamptz').execute()

  await db.schema
    .createTable('rollout_targets')
    .addColumn('rollout_id', 'text', (col) => col.notNull().references('rollouts.id').onDelete('cascade'))
    .addColumn('target', 'text', (col) => col.notNull())
    .addColumn('stage', 'text', (col) => col.notNull())
    .addColumn('stage_index', 'integer', (col) => col.notNull())
    .addColumn('wave', 'integer', (col) => col.notNull())
    .addColumn('position', 'integer', (col) => col.notNull())
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('reason', 'text')
    .addColumn('planned', 'jsonb', (col) => col.notNull())
    .addColumn('previous', 'jsonb', (col) => col.notNull())
    .addColumn('gates', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('rollout_targets_pk', ['rollout_id', 'target'])
    .execute()

  await db.schema
    .createTable('fleet_controls')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('value', 'jsonb', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
}

/** Drops what `up` added. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('fleet_controls').execute()
  await db.schema.dropTable('rollout_targets').execute()
  for (const column of [
    'lease_until',
    'runner',
    'stage_approvals',
    'bake_until',
    'phase',
    'wave_index',
    'stage_index',
    'halt_reason',
    'schedule',
  ]) {
    await db.schema.alterTable('rollouts').dropColumn(column).execute()
  }
}
