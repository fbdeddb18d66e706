import { type Kysely, sql } from 'kysely'

/**
 * What a queued rollout needs to plan again when it leaves the queue: the ref it was started
 * from, the approvals given with it, and the time its policies were asked about (`--now`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('rollouts')
    .addColumn('request', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute()
}

/** Drops what `up` added. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('rollouts').dropColumn('request').execute()
}
