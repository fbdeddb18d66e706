import { type Kysely, sql } from 'kysely'

/**
 * Access control: users and their role, API tokens (only a hash of each is stored), portal
 * sessions (likewise hashed, with their CSRF secret), time-limited emergency elevations, and the
 * approvals people gave for a commit's plan (who approved what).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('name', 'text', (col) => col.primaryKey())
    .addColumn('role', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('created_by', 'text', (col) => col.notNull())
    .execute()
  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('user_name', 'text', (col) => col.notNull().references('users.name').onDelete('cascade'))
    .addColumn('hash', 'text', (col) => col.notNull())
    .addColumn('label', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute()
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('hash', 'text', (col) => col.notNull())
    .addColumn('user_name', 'text', (col) => col.notNull().references('users.name').onDelete('cascade'))
    .addColumn('csrf', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .execute()
  await db.schema
    .createTable('elevations')
    .addColumn('id', 'serial', (col) => col.primaryKey())
    .addColumn('user_name', 'text', (col) => col.notNull().references('users.name').onDelete('cascade'))
    .addColumn('granted_by', 'text', (col) => col.notNull())
    .addColumn('reason', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .execute()
  await db.schema.createIndex('elevations_user_idx').on('elevations').column('user_name').execute()
  await db.schema
    .createTable('approvals')
    .addColumn('id', 'serial', (col) => col.primaryKey())
    .addColumn('commit', 'text', (col) => col.notNull())
    .addColumn('approval', 'text', (col) => col.notNull())
    .addColumn('given_by', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('approvals_commit_idx').on('approvals').column('commit').execute()
}

/** Drops what `up` added. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['approvals', 'elevations', 'sessions', 'api_tokens', 'users'])
    await db.schema.dropTable(table).execute()
}
