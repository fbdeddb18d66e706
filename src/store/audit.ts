import { AsyncLocalStorage } from 'node:async_hooks'
import type { Kysely } from 'kysely'
import type { Database, Json } from './tables.ts'

/** An emergency elevation an action was taken under, as the audit log records it. */
export interface AuditElevation {
  readonly reason: string
  readonly grantedBy: string
  /** ISO 8601. */
  readonly until: string
}

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
  /** The emergency elevation the actor acted under, else null. */
  elevated: Json | null
}

/** What `appendAuditEntry` needs; `at` defaults to the database's `now()`. */
export interface NewAuditEntry {
  actor: string
  action: string
  subject: string
  source: string
  detail?: Json
  at?: Date
  /** The emergency elevation the actor acts under; by default the one of the current {@link auditScope}. */
  elevated?: AuditElevation
}

/** Who acts in the current request, under which elevation, and how many entries they made so far. */
export interface AuditScope {
  readonly actor: string
  readonly elevated: AuditElevation
  appended: number
}

const scopes = new AsyncLocalStorage<AuditScope>()

/**
 * Runs `fn` so that every audit entry `scope.actor` makes in it — wherever in the code it is
 * written — carries `scope.elevated`, and counts them in `scope.appended`. The server runs each
 * request of someone under emergency access in one, so no action of theirs goes unmarked.
 */
export function auditScope<T>(scope: AuditScope, fn: () => Promise<T>): Promise<T> {
  return scopes.run(scope, fn)
}

/** Records who did what; returns the entry as stored. */
export async function appendAuditEntry(db: Kysely<Database>, entry: NewAuditEntry): Promise<AuditEntry> {
  const scope = scopes.getStore()
  // Only the acting person's entries: a controller entry written during their request is not theirs.
  const inScope = scope !== undefined && scope.actor === entry.actor
  const elevated = entry.elevated ?? (inScope ? scope.elevated : undefined)
  const stored = await db
    .insertInto('audit_log')
    .values({
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      source: entry.source,
      detail: JSON.stringify(entry.detail ?? {}),
      elevated: elevated ? JSON.stringify(elevated) : null,
      ...(entry.at === undefined ? {} : { at: entry.at }),
    })
    .returningAll()
    .executeTakeFirstOrThrow()
  if (inScope) scope.appended++
  return stored
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
