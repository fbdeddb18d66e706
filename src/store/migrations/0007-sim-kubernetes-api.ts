import { type Kysely, sql } from 'kysely'

/**
 * What the simulated fleet's Kubernetes-compatible API keeps besides the objects themselves: each
 * object's server-side metadata (uid, resourceVersion from one sequence, generation, creation time,
 * managedFields), the objects a simulated cluster makes itself (Nodes, Pods, its built-in
 * namespaces: never rendered, never planned), and the images pushed to the simulated registry.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create sequence sim_resource_version`.execute(db)
  await db.schema
    .alterTable('sim_objects')
    .addColumn('uid', 'text', (col) => col.notNull().defaultTo(sql`gen_random_uuid()::text`))
    .execute()
  await db.schema
    .alterTable('sim_objects')
    .addColumn('resource_version', 'integer', (col) =>
      col.notNull().defaultTo(sql`nextval('sim_resource_version')`),
    )
    .execute()
  await db.schema
    .alterTable('sim_objects')
    .addColumn('generation', 'integer', (col) => col.notNull().defaultTo(1))
    .execute()
  await db.schema
    .alterTable('sim_objects')
    .addColumn('managed_fields', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    .execute()
  await db.schema
    .alterTable('sim_objects')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('sim_cluster_objects')
    .addColumn('address', 'text', (col) => col.primaryKey())
    .addColumn('cluster', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('object', 'jsonb', (col) => col.notNull())
    .addColumn('uid', 'text', (col) => col.notNull().defaultTo(sql`gen_random_uuid()::text`))
    .addColumn('resource_version', 'integer', (col) =>
      col.notNull().defaultTo(sql`nextval('sim_resource_version')`),
    )
    .addColumn('generation', 'integer', (col) => col.notNull().defaultTo(1))
    .addColumn('managed_fields', 'jsonb', (col) => col.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createIndex('sim_cluster_objects_cluster_idx')
    .on('sim_cluster_objects')
    .columns(['cluster', 'kind'])
    .execute()

  await db.schema
    .createTable('sim_images')
    .addColumn('reference', 'text', (col) => col.primaryKey())
    .addColumn('added_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
}

/** Drops what `up` added. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sim_images').execute()
  await db.schema.dropTable('sim_cluster_objects').execute()
  for (const column of ['created_at', 'managed_fields', 'generation', 'resource_version', 'uid']) {
    await db.schema.alterTable('sim_objects').dropColumn(column).execute()
  }
  await sql`drop sequence sim_resource_version`.execute(db)
}
