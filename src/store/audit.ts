import type { Kysely } from 'kysely'
import type { Database, Json } from './tables.ts'

/** One entry of the audit log. */
export interface AuditEntry {
  id: number
  at: Date
  actor: string
  action: string
  subject: string
  detail: Json
  /** Where the action came from: `cli`, `api`, `portal`, … */
  source: string
}

/** What `appendAuditEntry` needs; `at` defaults to the database's `now()`. */
export interface NewAuditEntry {
  actor: string
  action: string
  subject: string
  source: string
  detail?: Json
  at?: Date
}

/** Records who did what; returns the entry as stored. */
export async function appendAuditEntry(db: Kysely<Database>, entry: NewAuditEntry): Promise<AuditEntry> {
  return db
    .insertInto('audit_log')
    .values({
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      source: entry.source,
      detail: JSON.stringify(entry.detail ?? {}),
      ...(entry.at === undefined ? {} : { at: entry.at }),
    })
    .returningAll()
    .executeTakeFirstOrThrow()
}

/**
 * Audit entries, newest first.
 * @param options.subject only the entries about this subject
 * @param options.limit at most this many @default 100
 */
export async function listAuditEntries(
  db: Kysely<Database>,
  options: { subject?: string; limit?: number } = {},
): Promise<AuditEntry[]> {
  let query = db.selectFrom('audit_log').selectAll()
  if (options.subject !== undefined) query = query.where('subject', '=', options.subject)
  return query
    .orderBy('id', 'desc')
    .limit(options.limit ?? 100)
    .execute()
}
