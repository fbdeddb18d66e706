/**
 * Users, API tokens, portal sessions and emergency elevations in the store. Secrets are returned
 * once, when minted, and stored only as hashes (see `credentials.ts`).
 */
import type { Kysely } from 'kysely'
import { ConflictError, InputError, NotFoundError } from '../../core/errors.ts'
import { appendAuditEntry } from '../../store/audit.ts'
import type { Database } from '../../store/tables.ts'
import { mintCredential, newCsrfSecret, parseCredential, secretMatches } from './credentials.ts'
import { ROLES, type Role } from './permissions.ts'

/** How long a portal session lasts. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000

/** The longest emergency elevation an admin can grant. */
export const MAX_ELEVATION_MS = 8 * 60 * 60 * 1000

/** A user name: what teams.yaml lists as members. */
const USER_NAME = /^[a-z][a-z0-9._-]{0,63}$/

/** Who did something, and from where (`api 127.0.0.1`, `portal ::1`, `cli`). */
export interface Actor {
  readonly name: string
  readonly source: string
}

/** Creates a user; an existing name is a conflict. */
export async function createUser(db: Kysely<Database>, name: string, role: Role, by: Actor): Promise<void> {
  if (!USER_NAME.test(name))
    throw new InputError(
      `user name "${name}" is not valid: use lower-case letters, digits, ".", "_" or "-", as teams.yaml lists members`,
    )
  if (!ROLES.includes(role)) throw new InputError(`role "${role}" is not one of ${ROLES.join(', ')}`)
  const existing = await db.selectFrom('users').select('name').where('name', '=', name).executeTakeFirst()
  if (existing) throw new ConflictError(`user ${name} exists already`)
  await db.insertInto('users').values({ name, role, created_by: by.name }).execute()
  await appendAuditEntry(db, {
    actor: by.name,
    action: 'user-create',
    subject: name,
    source: by.source,
    detail: { role },
  })
}

/** The users, by name. */
export async function listUsers(
  db: Kysely<Database>,
): Promise<{ name: string; role: Role; createdAt: Date }[]> {
  const rows = await db.selectFrom('users').selectAll().orderBy('name').execute()
  return rows.map((r) => ({ name: r.name, role: r.role as Role, createdAt: r.created_at }))
}

/** The stored role of a user, or undefined when there is no such user. */
export async function userRole(db: Kysely<Database>, name: string): Promise<Role | undefined> {
  const row = await db.selectFrom('users').select('role').where('name', '=', name).executeTakeFirst()
  return row?.role as Role | undefined
}

/** Mints an API token for a user: the returned `token` is shown once. */
export async function mintToken(
  db: Kysely<Database>,
  user: string,
  label: string,
  by: Actor,
): Promise<{ id: string; token: string }> {
  if ((await userRole(db, user)) === undefined) throw new NotFoundError(`no user ${user}`)
  const minted = mintCredential('flt')
  await db
    .insertInto('api_tokens')
    .values({ id: minted.id, user_name: user, hash: minted.hash, label })
    .execute()
  await appendAuditEntry(db, {
    actor: by.name,
    action: 'token-create',
    subject: user,
    source: by.source,
    detail: { id: minted.id, label },
  })
  return { id: minted.id, token: minted.secret }
}

/** Revokes a token by id. */
export async function revokeToken(db: Kysely<Database>, id: string, by: Actor): Promise<void> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  if (Number(result.numUpdatedRows) === 0) throw new NotFoundError(`no active token ${id}`)
  await appendAuditEntry(db, { actor: by.name, action: 'token-revoke', subject: id, source: by.source })
}

/** When this process last recorded a token's use, by token id. */
const lastUseWritten = new Map<string, number>()

/** The user an API token belongs to, or undefined for anything that is not a valid, active token. */
export async function tokenUser(db: Kysely<Database>, token: string): Promise<string | undefined> {
  const parsed = parseCredential('flt', token)
  if (!parsed) return undefined
  const row = await db
    .selectFrom('api_tokens')
    .select(['user_name', 'hash'])
    .where('id', '=', parsed.id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  if (!row || !secretMatches(parsed.secret, row.hash)) return undefined
  // When it was last used, to the minute: one write a minute per token, not one per request.
  const now = Date.now()
  if (now - (lastUseWritten.get(parsed.id) ?? 0) > 60_000) {
    lastUseWritten.set(parsed.id, now)
    await db
      .updateTable('api_tokens')
      .set({ last_used_at: new Date(now) })
      .where('id', '=', parsed.id)
      .execute()
  }
  return row.user_name
}

/** Opens a portal session for a user: the cookie value (shown once) and the session's CSRF secret. */
export async function openSession(
  db: Kysely<Database>,
  user: string,
): Promise<{ cookie: string; csrf: string }> {
  const minted = mintCredential('fls')
  const csrf = newCsrfSecret()
  await db
    .insertInto('sessions')
    .values({
      id: minted.id,
      hash: minted.hash,
      user_name: user,
      csrf,
      expires_at: new Date(Date.now() + SESSION_TTL_MS),
    })
    .execute()
  return { cookie: minted.secret, csrf }
}

/** The user and CSRF secret of a live session, or undefined. */
export async function sessionOf(
  db: Kysely<Database>,
  cookie: string,
): Promise<{ user: string; csrf: string; id: string } | undefined> {
  const parsed = parseCredential('fls', cookie)
  if (!parsed) return undefined
  const row = await db
    .selectFrom('sessions')
    .select(['user_name', 'hash', 'csrf'])
    .where('id', '=', parsed.id)
    .where('expires_at', '>', new Date())
    .executeTakeFirst()
  if (!row || !secretMatches(parsed.secret, row.hash)) return undefined
  return { user: row.user_name, csrf: row.csrf, id: parsed.id }
}

/** Ends a session. */
export async function closeSession(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute()
}

/**
 * Grants emergency access: the user is an admin until `minutes` have passed. Loudly audited; the
 * reason is required and shown wherever the elevation is.
 */
export async function grantElevation(
  db: Kysely<Database>,
  user: string,
  options: { reason: string; minutes: number },
  by: Actor,
): Promise<{ until: Date }> {
  if ((await userRole(db, user)) === undefined) throw new NotFoundError(`no user ${user}`)
  const reason = options.reason.trim()
  if (reason.length < 10)
    throw new InputError('emergency access needs a reason of at least 10 characters: say what is happening')
  const ms = options.minutes * 60_000
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_ELEVATION_MS)
    throw new InputError(`minutes must be between 1 and ${MAX_ELEVATION_MS / 60_000}; got ${options.minutes}`)
  const until = new Date(Date.now() + ms)
  await db
    .insertInto('elevations')
    .values({ user_name: user, granted_by: by.name, reason, expires_at: until })
    .execute()
  await appendAuditEntry(db, {
    actor: by.name,
    action: 'emergency-access-granted',
    subject: user,
    source: by.source,
    detail: { reason, until: until.toISOString() },
  })
  return { until }
}

/** The user's active elevation, if any. */
export async function activeElevation(
  db: Kysely<Database>,
  user: string,
): Promise<{ reason: string; until: Date; grantedBy: string } | null> {
  const row = await db
    .selectFrom('elevations')
    .select(['reason', 'expires_at', 'granted_by'])
    .where('user_name', '=', user)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date())
    .orderBy('expires_at', 'desc')
    .executeTakeFirst()
  return row ? { reason: row.reason, until: row.expires_at, grantedBy: row.granted_by } : null
}

/**
 * The first start: with no user at all, creates `admin` and mints its token (returned, to be
 * printed once). Later starts return undefined.
 */
export async function bootstrapAdmin(db: Kysely<Database>): Promise<string | undefined> {
  const any = await db.selectFrom('users').select('name').limit(1).executeTakeFirst()
  if (any) return undefined
  const system: Actor = { name: 'flotilla', source: 'first start' }
  await createUser(db, 'admin', 'admin', system)
  return (await mintToken(db, 'admin', 'first start', system)).token
}
