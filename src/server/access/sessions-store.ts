/**
 * Portal sessions in the store. Signing in takes an API token and opens a session that belongs to
 * it: every request checks that the token is still neither revoked nor expired and that its user
 * is enabled, so revoking the token, its expiry or disabling the user ends the session at once.
 * A session lasts {@link SESSION_TTL_MS}, and never longer than its token.
 */
import type { Kysely } from 'kysely'
import {
  mintCredential,
  newCsrfSecret,
  parseCredential,
  secretMatches,
} from '../../app/access/credentials.ts'
import { type Standing, standingColumns, standingOf } from '../../app/access/standing.ts'
import { tokenIsLive, type ValidToken } from '../../app/access/tokens-store.ts'
import type { Database } from '../../store/tables.ts'

/** How long a portal session lasts at most. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000

/** A live session: whose, its CSRF secret, its id and until when it lasts. */
export interface LiveSession {
  readonly user: string
  readonly csrf: string
  readonly id: string
  readonly expiresAt: Date
  /** The user's role and active elevation now (read in the same query). */
  readonly standing: Standing
}

/**
 * Opens a portal session with a valid token: the cookie value (shown once), the session's CSRF
 * secret, and when it ends (12 hours, or the token's expiry if sooner).
 */
export async function openSession(
  db: Kysely<Database>,
  token: ValidToken,
  now = new Date(),
): Promise<{ cookie: string; csrf: string; expiresAt: Date }> {
  const minted = mintCredential('fls')
  const csrf = newCsrfSecret()
  const ttlEnd = now.getTime() + SESSION_TTL_MS
  const expiresAt = new Date(Math.min(ttlEnd, token.expiresAt?.getTime() ?? ttlEnd))
  await db
    .insertInto('sessions')
    .values({
      id: minted.id,
      hash: minted.hash,
      user_name: token.user,
      csrf,
      expires_at: expiresAt,
      token_id: token.tokenId,
    })
    .execute()
  return { cookie: minted.secret, csrf, expiresAt }
}

/** The session of a cookie, while it, its token and its user are all still good; else undefined. */
export async function sessionOf(db: Kysely<Database>, cookie: string): Promise<LiveSession | undefined> {
  const parsed = parseCredential('fls', cookie)
  if (!parsed) return undefined
  const now = new Date()
  const row = await db
    .selectFrom('sessions')
    .innerJoin('api_tokens', 'api_tokens.id', 'sessions.token_id')
    .innerJoin('users', 'users.name', 'sessions.user_name')
    .select(['sessions.user_name', 'sessions.hash', 'sessions.csrf', 'sessions.expires_at'])
    .select(standingColumns(now))
    .where('sessions.id', '=', parsed.id)
    .where('sessions.expires_at', '>', now)
    .where(tokenIsLive(now))
    .executeTakeFirst()
  if (!row || !secretMatches(parsed.secret, row.hash)) return undefined
  return {
    user: row.user_name,
    csrf: row.csrf,
    id: parsed.id,
    expiresAt: row.expires_at,
    standing: standingOf(row),
  }
}

/** Ends a session. */
export async function closeSession(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute()
}
