import { type Kysely, sql } from 'kysely'

/**
 * Issue 19: the time a plan's policies saw, and who set it (the server's clock, or its operator),
 * kept with every stored plan; and `locks` held by an apply or a restore outside rollouts, so
 * every path that changes a target takes the same lock a rollout takes (`rollout/fleet-gate.ts`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('plans')
    .addColumn('policy_time', 'timestamptz')
    .addColumn('policy_time_source', 'text')
    .execute()
  await db.schema
    .alterTable('locks')
    .alterColumn('rollout_id', (col) => col.dropNotNull())
    .execute()
  await db.schema
    .alterTable('locks')
    .addColumn('holder', 'jsonb')
    .addColumn('lease_until', 'timestamptz')
    .execute()
  await db.schema
    .alterTable('locks')
    .addCheckConstraint('locks_one_holder', sql`(rollout_id is null) <> (holder is null)`)
    .execute()
}

/** Drops what `up` added; holds of operations outside rollouts are dropped with it. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from locks where rollout_id is null`.execute(db)
  await db.schema.alterTable('locks').dropConstraint('locks_one_holder').execute()
  await db.schema.alterTable('locks').dropColumn('holder').dropColumn('lease_until').execute()
  await db.schema
    .alterTable('locks')
    .alterColumn('rollout_id', (col) => col.setNotNull())
    .execute()
  await db.schema.alterTable('plans').dropColumn('policy_time').dropColumn('policy_time_source').execute()
}
