/**
 * Users — enabled or disabled — and emergency elevations in the store (tokens: `tokens-store.ts`,
 * portal sessions: `sessions-store.ts`). Every change is audited.
 */
import type { Kysely } from 'kysely'
import { ConflictError, InputError, NotFoundError } from '../../core/errors.ts'
import { appendAuditEntry } from '../../store/audit.ts'
import type { Database } from '../../store/tables.ts'
import { CONTROLLER_ACTOR } from '../actors.ts'
import { ROLES, type Role } from './permissions.ts'
import { mintToken, tokenExpiry } from './tokens-store.ts'

/** The longest emergency elevation an admin can grant. */
export const MAX_ELEVATION_MS = 8 * 60 * 60 * 1000

/** A user name: what teams.yaml lists as members. */
const USER_NAME = /^[a-z][a-z0-9._-]{0,63}$/

/**
 * Names the audit log uses for Flotilla itself: a user of that name could pass their actions off
 * as the controller's (or the first start's).
 */
const RESERVED_NAMES: ReadonlySet<string> = new Set([CONTROLLER_ACTOR, 'flotilla'])

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
  if (RESERVED_NAMES.has(name))
    throw new InputError(`user name "${name}" is reserved for Flotilla's own audit entries; choose another`)
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
export async function listUsers(db: Kysely<Database>): Promise<
  {
    name: string
    role: Role
    createdAt: Date
    disabledAt: Date | null
    disabledBy: string | null
  }[]
> {
  const rows = await db.selectFrom('users').selectAll().orderBy('name').execute()
  return rows.map((r) => ({
    name: r.name,
    role: r.role as Role,
    createdAt: r.created_at,
    disabledAt: r.disabled_at,
    disabledBy: r.disabled_by,
  }))
}

/**
 * Disables a user (no sign-in, no token, no session: their sessions are closed at once) or enables
 * them again (their tokens work again; sessions must be opened anew). The last enabled admin
 * cannot be disabled: nobody could then manage users.
 */
export async function setUserDisabled(
  db: Kysely<Database>,
  name: string,
  disabled: boolean,
  by: Actor,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // The enabled admins are locked, so two admins cannot disable each other at the same moment.
    const admins = await trx
      .selectFrom('users')
      .select('name')
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .orderBy('name') // always in the same order: two such transactions never deadlock
      .forUpdate()
      .execute()
    const row = await trx
      .selectFrom('users')
      .select(['role', 'disabled_at'])
      .where('name', '=', name)
      .forUpdate()
      .executeTakeFirst()
    if (!row) throw new NotFoundError(`no user ${name}`)
    if ((row.disabled_at !== null) === disabled)
      throw new ConflictError(`user ${name} is ${disabled ? 'disabled' : 'enabled'} already`)
    if (disabled && row.role === 'admin' && admins.every((a) => a.name === name))
      throw new ConflictError(
        `${name} is the last enabled admin and cannot be disabled: make another user an admin first`,
      )
    await trx
      .updateTable('users')
      .set(
        disabled
          ? { disabled_at: new Date(), disabled_by: by.name }
          : { disabled_at: null, disabled_by: null },
      )
      .where('name', '=', name)
      .execute()
    if (disabled) await trx.deleteFrom('sessions').where('user_name', '=', name).execute()
    await appendAuditEntry(trx, {
      actor: by.name,
      action: disabled ? 'user-disable' : 'user-enable',
      subject: name,
      source: by.source,
    })
  })
}

/** The stored role of a user, or undefined when there is no such user. */
export async function userRole(db: Kysely<Database>, name: string): Promise<Role | undefined> {
  const row = await db.selectFrom('users').select('role').where('name', '=', name).executeTakeFirst()
  return row?.role as Role | undefined
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
  const target = await db
    .selectFrom('users')
    .select('disabled_at')
    .where('name', '=', user)
    .executeTakeFirst()
  if (!target) throw new NotFoundError(`no user ${user}`)
  if (target.disabled_at !== null)
    throw new ConflictError(`user ${user} is disabled; enable it first (POST /api/users/${user}/enable)`)
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

/**
 * Ends a user's emergency access before it expires (by the holder, or an admin). A 404 when there
 * is none active.
 */
export async function endElevation(db: Kysely<Database>, user: string, by: Actor): Promise<void> {
  const now = new Date()
  const result = await db
    .updateTable('elevations')
    .set({ revoked_at: now })
    .where('user_name', '=', user)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst()
  if (Number(result.numUpdatedRows) === 0) throw new NotFoundError(`${user} has no active emergency access`)
  await appendAuditEntry(db, {
    actor: by.name,
    action: 'emergency-access-ended',
    subject: user,
    source: by.source,
  })
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
 * printed once; it expires after `maxTokenDays` when the server sets a maximum). Later starts
 * return undefined.
 */
export async function bootstrapAdmin(
  db: Kysely<Database>,
  options: { maxTokenDays?: number | undefined } = {},
): Promise<string | undefined> {
  const any = await db.selectFrom('users').select('name').limit(1).executeTakeFirst()
  if (any) return undefined
  const system: Actor = { name: 'flotilla', source: 'first start' }
  await createUser(db, 'admin', 'admin', system)
  const expiresAt = tokenExpiry({}, options.maxTokenDays)
  return (await mintToken(db, 'admin', 'first start', system, { expiresAt })).token
}
