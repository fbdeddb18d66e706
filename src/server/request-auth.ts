/**
 * Who is asking: an API token (`Authorization: Bearer flt_…`) or a portal session (cookie), made
 * into a {@link Principal} with the teams the inventory lists them in and any active emergency
 * elevation. A token counts only while it is neither revoked nor expired and its user is enabled;
 * a session only while the token it was opened with does. Requests that change something must be
 * authenticated; those that come with a session cookie must also carry the session's CSRF secret
 * (a form field or a header), which a page of another site cannot know. Tokens are never logged.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import type { Kysely } from 'kysely'
import { csrfMatches } from '../app/access/credentials.ts'
import type { Principal } from '../app/access/permissions.ts'
import type { Standing } from '../app/access/standing.ts'
import { tokenUser } from '../app/access/tokens-store.ts'
import { activeElevation, userRole } from '../app/access/users-store.ts'
import { isLocalCredential } from '../app/local-link.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import type { Database } from '../store/tables.ts'
import { sessionOf } from './access/sessions-store.ts'

/** The cookie of a portal session. */
export const SESSION_COOKIE = 'flotilla_session'

/** What the middleware leaves on the context. */
export interface AuthVariables {
  principal: Principal | undefined
  /** The CSRF secret of the session, for the portal's forms. */
  csrf: string | undefined
  sessionId: string | undefined
  /** `api` (token) or `portal` (session), and the peer address: the audit log's "from where". */
  source: string
  /** The request carries the server's local credential (`app/local-link.ts`): the CLI relay's, only. */
  localCli: boolean
}

/** The teams whose `members` list `user`. */
export function teamsOf(fleet: Fleet, user: string): Set<string> {
  return new Set([...fleet.teams.values()].filter((t) => t.members.includes(user)).map((t) => t.id))
}

/** The principal of a user of known standing, with the teams `fleet` lists them in. */
function principalFrom(fleet: Fleet, user: string, standing: Standing): Principal {
  return { name: user, ...standing, teams: teamsOf(fleet, user) }
}

/** The principal of a user name, or undefined when the user does not exist. */
export async function principalOf(
  db: Kysely<Database>,
  fleet: Fleet,
  user: string,
): Promise<Principal | undefined> {
  const role = await userRole(db, user)
  if (!role) return undefined
  return principalFrom(fleet, user, { role, elevation: await activeElevation(db, user) })
}

/** Resolves the principal of a request (or leaves it undefined) and records where it came from. */
export function authenticate(
  db: Kysely<Database>,
  fleet: () => Promise<Fleet>,
  peer: (c: Context) => string,
  localCredential?: string,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const header = c.req.header('authorization')
    // One query: the token (or session) with the user's role and elevation.
    let found: { user: string; standing: Standing } | undefined
    let via = 'api'
    c.set('localCli', false)
    if (header?.startsWith('Bearer ')) {
      const token = header.slice(7).trim()
      // The local credential is no user's token: it signs in nobody, and only the CLI relay takes it.
      if (isLocalCredential(token, localCredential)) {
        c.set('localCli', true)
        via = 'local cli'
      } else found = await tokenUser(db, token)
    } else {
      const cookie = getCookie(c, SESSION_COOKIE)
      const session = cookie ? await sessionOf(db, cookie) : undefined
      if (session) {
        found = session
        via = 'portal'
        c.set('csrf', session.csrf)
        c.set('sessionId', session.id)
      }
    }
    c.set('source', `${via} ${peer(c)}`)
    c.set('principal', found ? principalFrom(await fleet(), found.user, found.standing) : undefined)
    await next()
  }
}

/** Whether a mutating request made with a session cookie carries the session's CSRF secret. */
export function csrfValid(c: Context<{ Variables: AuthVariables }>, formValue: string | undefined): boolean {
  const expected = c.get('csrf')
  if (expected === undefined) return true // a token, not a cookie: nothing a foreign page can send
  const given = formValue ?? c.req.header('x-csrf-token') ?? ''
  return csrfMatches(given, expected)
}
