/**
 * Signing in to the portal and out. The sign-in form takes an API token and opens a session that
 * belongs to that token (see `access/sessions-store.ts`), in an HttpOnly, SameSite=Lax cookie that
 * is `Secure` whenever the client reached the server over HTTPS.
 *
 * The form is guarded against login CSRF — a page of another site signing the victim in as the
 * attacker — three ways: a browser's `Sec-Fetch-Site` must say same-origin, an `Origin` must be
 * this server, and the form must carry the random value of a short-lived SameSite=Strict cookie
 * that the sign-in page set (double submit), which another site can neither read nor send.
 */
import { randomBytes } from 'node:crypto'
import type { Context } from 'hono'
import { Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { html } from 'hono/html'
import { csrfMatches } from '../../app/access/credentials.ts'
import { tokenUser } from '../../app/access/tokens-store.ts'
import { appendAuditEntry } from '../../store/audit.ts'
import { closeSession, openSession } from '../access/sessions-store.ts'
import { requireCsrf } from '../api/http-helpers.ts'
import { SESSION_COOKIE } from '../request-auth.ts'
import { crossSiteReason, servedOverHttps } from '../request-origin.ts'
import type { ServerDeps, ServerEnv } from '../server-deps.ts'
import { type Frame, page } from './layout.ts'
import { sameSitePath } from './redirects.ts'

/** The cookie of the sign-in form's double submit. */
export const LOGIN_COOKIE = 'flotilla_login'

/** How long a sign-in form stays good. */
const LOGIN_FORM_SECONDS = 60 * 60

const NONCE = /^[A-Za-z0-9_-]{43}$/

type C = Context<ServerEnv>

/** The portal's frame of a page (title, navigation, banners). */
export type FrameOf = (c: C, title: string, section: Frame['section']) => Promise<Frame>

/** `GET /login`, `POST /login`, `POST /logout`. */
export function signInRoutes(deps: ServerDeps, frame: FrameOf): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>()

  const signInPage = async (c: C, next: string, problem: string | undefined, status: 200 | 403) => {
    // One value per browser for an hour, so two sign-in tabs do not invalidate each other.
    const existing = getCookie(c, LOGIN_COOKIE)
    const nonce = existing && NONCE.test(existing) ? existing : randomBytes(32).toString('base64url')
    setCookie(c, LOGIN_COOKIE, nonce, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/login',
      maxAge: LOGIN_FORM_SECONDS,
      secure: servedOverHttps(c, deps.trustProxy),
    })
    return c.html(
      page(
        await frame(c, 'Sign in', 'none'),
        html`<h1>Sign in</h1>
          ${problem ? html`<div class="error" role="alert">${problem}</div>` : ''}
          <form method="post" action="/login">
            <input type="hidden" name="next" value="${next}" />
            <input type="hidden" name="_login" value="${nonce}" />
            <label for="token">API token</label><br />
            <input id="token" name="token" type="password" autocomplete="off" required size="60" />
            <button class="primary" type="submit">Sign in</button>
          </form>
          <p class="muted">flotilla serve prints the first admin's token when it starts for the first time.</p>`,
      ),
      status,
    )
  }

  app.get('/login', (c) =>
    signInPage(
      c,
      sameSitePath(c.req.query('next')),
      c.req.query('failed') !== undefined
        ? 'That token is not valid (or was revoked, or has expired, or its user is disabled).'
        : undefined,
      200,
    ),
  )

  app.post('/login', async (c) => {
    const body = await c.req.parseBody()
    const next = sameSitePath(typeof body.next === 'string' ? body.next : undefined)
    const cookie = getCookie(c, LOGIN_COOKIE) ?? ''
    const field = typeof body._login === 'string' ? body._login : ''
    const refusal =
      crossSiteReason(c, deps.trustProxy) ??
      (NONCE.test(cookie) && csrfMatches(field, cookie)
        ? undefined
        : 'the sign-in form is stale or was not sent from this portal')
    if (refusal)
      return signInPage(c, next, `Not signed in: ${refusal} (CSRF check). Sign in here again.`, 403)
    const token = await tokenUser(deps.db, typeof body.token === 'string' ? body.token.trim() : '')
    if (!token) return c.redirect(`/login?failed&next=${encodeURIComponent(next)}`, 303)
    const session = await openSession(deps.db, token)
    await appendAuditEntry(deps.db, {
      actor: token.user,
      action: 'sign-in',
      subject: token.user,
      source: c.get('source').replace(/^api /, 'portal '),
      detail: { token: token.tokenId },
    })
    deleteCookie(c, LOGIN_COOKIE, { path: '/login' })
    setCookie(c, SESSION_COOKIE, session.cookie, {
      httpOnly: true,
      // Lax: a link from chat or mail opens the portal signed in; every form carries the
      // session's CSRF secret, and no GET changes anything.
      sameSite: 'Lax',
      path: '/',
      secure: servedOverHttps(c, deps.trustProxy),
      maxAge: Math.max(1, Math.floor((session.expiresAt.getTime() - Date.now()) / 1000)),
    })
    return c.redirect(next, 303)
  })

  app.post('/logout', async (c) => {
    const id = c.get('sessionId')
    const body = await c.req.parseBody()
    if (id) {
      requireCsrf(c, typeof body._csrf === 'string' ? body._csrf : '')
      await closeSession(deps.db, id)
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: servedOverHttps(c, deps.trustProxy) })
    return c.redirect('/login', 303)
  })
  return app
}
