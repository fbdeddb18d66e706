import { type Kysely, sql } from 'kysely'

/**
 * What Flotilla last applied to each target (for drift), snapshots naming their provider, and
 * the simulated fleet's own state: targets seeded from the inventory, CloudFormation-like stacks
 * and their events, Route 53-like hosted zones and record sets, Kubernetes objects, faults.
 *
 * The simulator keeps its state in the same database as everything else, so it survives
 * restarts, several processes on one PostgreSQL see one simulated fleet, and a snapshot or a
 * restore is one transaction with the change it belongs to.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('applied_states')
    .addColumn('target', 'text', (col) => col.primaryKey())
    .addColumn('provider', 'text', (col) => col.notNull())
    .addColumn('revision', 'text', (col) => col.notNull())
    .addColumn('applied_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('fingerprints', 'jsonb', (col) => col.notNull())
    .addColumn('intended', 'jsonb')
    .execute()

  await db.schema
    .alterTable('snapshots')
    .addColumn('provider', 'text', (col) => col.notNull().defaultTo('sim'))
    .execute()
  await db.schema
    .alterTable('snapshots')
    .addColumn('description', 'text', (col) => col.notNull().defaultTo(''))
    .execute()
  await db.schema.alterTable('snapshots').addColumn('restored_at', 'timestamptz').execute()

  await db.schema
    .createTable('sim_targets')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('account', 'text', (col) => col.notNull())
    .addColumn('info', 'jsonb', (col) => col.notNull())
    .addColumn('seeded_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('sim_stacks')
    .addColumn('address', 'text', (col) => col.primaryKey())
    .addColumn('target', 'text', (col) => col.notNull())
    .addColumn('stack_name', 'text', (col) => col.notNull())
    .addColumn('region', 'text', (col) => col.notNull())
    .addColumn('scope', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('status_reason', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('template', 'jsonb', (col) => col.notNull())
    .addColumn('parameters', 'jsonb', (col) => col.notNull())
    .addColumn('resources', 'jsonb', (col) => col.notNull())
    .addColumn('termination_protection', 'boolean', (col) => col.notNull().defaultTo(true))
    .addColumn('pending', 'jsonb')
    .addColumn('settles_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('sim_stacks_target_idx').on('sim_stacks').column('target').execute()

  await db.schema
    .createTable('sim_stack_events')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('target', 'text', (col) => col.notNull())
    .addColumn('stack', 'text', (col) => col.notNull())
    .addColumn('at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('logical_id', 'text', (col) => col.notNull())
    .addColumn('resource_type', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('reason', 'text', (col) => col.notNull().defaultTo(''))
    .execute()
  await db.schema
    .createIndex('sim_stack_events_stack_idx')
    .on('sim_stack_events')
    .columns(['stack', 'id'])
    .execute()

  await db.schema
    .createTable('sim_zones')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('account', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('stack', 'text')
    .addColumn('logical_id', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('sim_zones_account_idx').on('sim_zones').columns(['account', 'name']).execute()

  await db.schema
    .createTable('sim_records')
    .addColumn('zone_id', 'text', (col) => col.notNull().references('sim_zones.id').onDelete('cascade'))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('ttl', 'integer', (col) => col.notNull())
    .addColumn('values', 'jsonb', (col) => col.notNull())
    .addColumn('owner', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('sim_records_pk', ['zone_id', 'name', 'type'])
    .execute()

  await db.schema
    .createTable('sim_objects')
    .addColumn('address', 'text', (col) => col.primaryKey())
    .addColumn('cluster', 'text', (col) => col.notNull())
    .addColumn('component', 'text', (col) => col.notNull())
    .addColumn('object', 'jsonb', (col) => col.notNull())
    .addColumn('ready_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('sim_objects_cluster_idx').on('sim_objects').column('cluster').execute()

  await db.schema
    .createTable('sim_faults')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('scope', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('rate', 'double precision', (col) => col.notNull().defaultTo(1))
    .addColumn('latency_ms', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz')
    .execute()

  await db.schema
    .createTable('sim_meta')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('value', 'jsonb', (col) => col.notNull())
    .execute()
}

/** Drops what `up` added. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'sim_meta',
    'sim_faults',
    'sim_objects',
    'sim_records',
    'sim_zones',
    'sim_stack_events',
    'sim_stacks',
    'sim_targets',
    'applied_states',
  ]) {
    await db.schema.dropTable(table).execute()
  }
  for (const column of ['restored_at', 'description', 'provider']) {
    await db.schema.alterTable('snapshots').dropColumn(column).execute()
  }
}
