/**
 * API tokens in the store: minted for a user (shown once, stored as a hash — see
 * `credentials.ts`), with an optional expiry that a server may cap, at most
 * {@link MAX_ACTIVE_TOKENS} active ones per user, listed without their secret, revoked by their
 * owner or an admin. A token works only while it is neither revoked nor expired and its user is
 * enabled; the portal sessions opened with it end with it.
 */
import type { ExpressionBuilder, Kysely } from 'kysely'
import { ConflictError, InputError, NotFoundError } from '../../core/errors.ts'
import { appendAuditEntry } from '../../store/audit.ts'
import type { Database } from '../../store/tables.ts'
import { mintCredential, parseCredential, secretMatches } from './credentials.ts'
import { type Standing, standingColumns, standingOf } from './standing.ts'
import type { Actor } from './users-store.ts'

/** The most tokens a user may hold at once that are neither revoked nor expired. */
export const MAX_ACTIVE_TOKENS = 20

/** The longest a token may last, in days, and so the largest maximum a server may set. */
export const LONGEST_TOKEN_DAYS = 3650

const DAY_MS = 24 * 60 * 60 * 1000

/** How long a new token is to last, as asked for: in days, or until an instant. */
export interface TokenLifetime {
  readonly expiresInDays?: number | undefined
  readonly expiresAt?: Date | undefined
}

/** A token as its owner and admins see it: never its secret. */
export interface TokenInfo {
  readonly id: string
  readonly label: string
  readonly createdAt: Date
  readonly lastUsedAt: Date | null
  readonly expiresAt: Date | null
  readonly revokedAt: Date | null
  /** `active`, `expired` or `revoked`. */
  readonly state: 'active' | 'expired' | 'revoked'
}

/**
 * When a new token expires: as asked, capped by the server's maximum (`maxDays`, which also
 * applies to a token asked for without an expiry); null when it does not expire. A 400 when the
 * request asks for both forms, for a time in the past, or for longer than the maximum.
 */
export function tokenExpiry(
  asked: TokenLifetime,
  maxDays: number | undefined,
  now = new Date(),
): Date | null {
  if (asked.expiresInDays !== undefined && asked.expiresAt !== undefined)
    throw new InputError('give expiresInDays or expiresAt, not both')
  const limit = maxDays === undefined ? undefined : new Date(now.getTime() + maxDays * DAY_MS)
  let expires: Date | null = null
  if (asked.expiresInDays !== undefined) {
    if (
      !Number.isInteger(asked.expiresInDays) ||
      asked.expiresInDays < 1 ||
      asked.expiresInDays > LONGEST_TOKEN_DAYS
    )
      throw new InputError(
        `expiresInDays must be a whole number from 1 to ${LONGEST_TOKEN_DAYS}; got ${asked.expiresInDays}`,
      )
    expires = new Date(now.getTime() + asked.expiresInDays * DAY_MS)
  } else if (asked.expiresAt !== undefined) {
    if (!(asked.expiresAt.getTime() > now.getTime()))
      throw new InputError(`expiresAt ${asked.expiresAt.toISOString()} is not in the future`)
    if (asked.expiresAt.getTime() > now.getTime() + LONGEST_TOKEN_DAYS * DAY_MS)
      throw new InputError(`expiresAt is more than ${LONGEST_TOKEN_DAYS} days away; choose an earlier time`)
    expires = asked.expiresAt
  }
  if (limit === undefined) return expires
  if (expires === null) return limit
  // A minute of leeway, so that asking for exactly the maximum in days is never refused.
  if (expires.getTime() > limit.getTime() + 60_000)
    throw new InputError(
      `tokens last at most ${maxDays} days on this server (FLOTILLA_MAX_TOKEN_DAYS); ask for ${maxDays} days or fewer`,
    )
  return expires
}

/**
 * Mints an API token for a user: the returned `token` is shown once. Refused (409) for a
 * disabled user and for one who holds {@link MAX_ACTIVE_TOKENS} active tokens already.
 */
export async function mintToken(
  db: Kysely<Database>,
  user: string,
  label: string,
  by: Actor,
  options: { expiresAt?: Date | null } = {},
): Promise<{ id: string; token: string; expiresAt: Date | null }> {
  const expiresAt = options.expiresAt ?? null
  return db.transaction().execute(async (trx) => {
    // The user's row is locked, so two requests at once cannot both take the last free place.
    const row = await trx
      .selectFrom('users')
      .select(['name', 'disabled_at'])
      .where('name', '=', user)
      .forUpdate()
      .executeTakeFirst()
    if (!row) throw new NotFoundError(`no user ${user}`)
    if (row.disabled_at !== null)
      throw new ConflictError(
        `user ${user} is disabled; an admin enables it first (POST /api/users/${user}/enable)`,
      )
    const now = new Date()
    const { active } = await trx
      .selectFrom('api_tokens')
      .select((eb) => eb.fn.countAll<string>().as('active'))
      .where('user_name', '=', user)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirstOrThrow()
    if (Number(active) >= MAX_ACTIVE_TOKENS)
      throw new ConflictError(
        `${user} holds ${MAX_ACTIVE_TOKENS} active tokens, the most a user may hold; revoke one first (GET /api/users/${user}/tokens lists them, DELETE /api/tokens/ID revokes one)`,
      )
    const minted = mintCredential('flt')
    await trx
      .insertInto('api_tokens')
      .values({ id: minted.id, user_name: user, hash: minted.hash, label, expires_at: expiresAt })
      .execute()
    await appendAuditEntry(trx, {
      actor: by.name,
      action: 'token-create',
      subject: user,
      source: by.source,
      detail: { id: minted.id, label, expiresAt: expiresAt?.toISOString() ?? null },
    })
    return { id: minted.id, token: minted.secret, expiresAt }
  })
}

/** A user's tokens, newest first, without their secrets or hashes. */
export async function listTokens(db: Kysely<Database>, user: string, now = new Date()): Promise<TokenInfo[]> {
  const rows = await db
    .selectFrom('api_tokens')
    .select(['id', 'label', 'created_at', 'last_used_at', 'expires_at', 'revoked_at'])
    .where('user_name', '=', user)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute()
  return rows.map((r) => ({
    id: r.id,
    label: r.label,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    state:
      r.revoked_at !== null
        ? 'revoked'
        : r.expires_at !== null && r.expires_at.getTime() <= now.getTime()
          ? 'expired'
          : 'active',
  }))
}

/** The user a token (by id) belongs to, or undefined when there is no such token. */
export async function tokenOwner(db: Kysely<Database>, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('api_tokens').select('user_name').where('id', '=', id).executeTakeFirst()
  return row?.user_name
}

/** Revokes a token by id, and ends at once the portal sessions opened with it. */
export async function revokeToken(db: Kysely<Database>, id: string, by: Actor): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('api_tokens')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    if (Number(result.numUpdatedRows) === 0) throw new NotFoundError(`no active token ${id}`)
    // Every request checks the session's token anyway; deleting them too leaves nothing to revive.
    await trx.deleteFrom('sessions').where('token_id', '=', id).execute()
    await appendAuditEntry(trx, { actor: by.name, action: 'token-revoke', subject: id, source: by.source })
  })
}

/**
 * What makes a token count, as a condition over a query that joins `api_tokens` and `users`:
 * neither revoked nor expired at `now`, and its user enabled. Sessions use the same rule.
 */
export function tokenIsLive(now: Date) {
  return (eb: ExpressionBuilder<Database, 'api_tokens' | 'users'>) =>
    eb.and([
      eb('api_tokens.revoked_at', 'is', null),
      eb.or([eb('api_tokens.expires_at', 'is', null), eb('api_tokens.expires_at', '>', now)]),
      eb('users.disabled_at', 'is', null),
    ])
}

/** When this process last recorded a token's use, by token id. */
const lastUseWritten = new Map<string, number>()

/** A token that authenticates: whose it is, until when, and the user's standing now. */
export interface ValidToken {
  readonly user: string
  readonly tokenId: string
  readonly expiresAt: Date | null
  readonly standing: Standing
}

/**
 * The user of an API token, or undefined for anything that is not a valid token that is neither
 * revoked nor expired, of an enabled user.
 */
export async function tokenUser(db: Kysely<Database>, token: string): Promise<ValidToken | undefined> {
  const parsed = parseCredential('flt', token)
  if (!parsed) return undefined
  const now = new Date()
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.name', 'api_tokens.user_name')
    .select(['api_tokens.user_name', 'api_tokens.hash', 'api_tokens.expires_at'])
    .select(standingColumns(now))
    .where('api_tokens.id', '=', parsed.id)
    .where(tokenIsLive(now))
    .executeTakeFirst()
  if (!row || !secretMatches(parsed.secret, row.hash)) return undefined
  // When it was last used, to the minute: one write a minute per token, not one per request.
  if (now.getTime() - (lastUseWritten.get(parsed.id) ?? 0) > 60_000) {
    lastUseWritten.set(parsed.id, now.getTime())
    await db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', parsed.id).execute()
  }
  return { user: row.user_name, tokenId: parsed.id, expiresAt: row.expires_at, standing: standingOf(row) }
}
