import { type Kysely, sql } from 'kysely'

/**
 * Sessions, tokens and requests (issue 19): a token may expire; a user may be disabled; a portal
 * session belongs to the token it was opened with (and ends with it); an audit entry made under
 * emergency access carries that elevation; a webhook delivery is accepted once, by its id.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_tokens').addColumn('expires_at', 'timestamptz').execute()
  await db.schema.createIndex('api_tokens_user_idx').on('api_tokens').column('user_name').execute()
  await db.schema
    .alterTable('users')
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('disabled_by', 'text')
    .execute()
  // A session opened before this migration names no token, so nothing could end it with its
  // token: such sessions end now (their users sign in again).
  await sql`delete from sessions`.execute(db)
  await db.schema
    .alterTable('sessions')
    .addColumn('token_id', 'text', (col) => col.notNull().references('api_tokens.id').onDelete('cascade'))
    .execute()
  await db.schema.createIndex('sessions_token_idx').on('sessions').column('token_id').execute()
  await db.schema.alterTable('audit_log').addColumn('elevated', 'jsonb').execute()
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('header', 'text', (col) => col.notNull())
    .addColumn('received_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createIndex('webhook_deliveries_received_idx')
    .on('webhook_deliveries')
    .column('received_at')
    .execute()
}

/** Drops what `up` added. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webhook_deliveries').execute()
  await db.schema.alterTable('audit_log').dropColumn('elevated').execute()
  await db.schema.dropIndex('sessions_token_idx').execute()
  await db.schema.alterTable('sessions').dropColumn('token_id').execute()
  await db.schema.alterTable('users').dropColumn('disabled_at').dropColumn('disabled_by').execute()
  await db.schema.dropIndex('api_tokens_user_idx').execute()
  await db.schema.alterTable('api_tokens').dropColumn('expires_at').execute()
}
