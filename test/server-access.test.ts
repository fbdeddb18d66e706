/**
 * Sessions, tokens and requests, end to end on loopback, on PGlite and (with TEST_DATABASE_URL)
 * PostgreSQL: tokens with an expiry under the server's maximum, listed and revoked by their owner
 * and bounded in number; portal sessions that end with their token and their user; disabling
 * users; the sign-in form's redirects, CSRF guard and cookies (over HTTP, no browser); emergency
 * access marked in the audit log and ended early; NUL bytes and out-of-range numbers refused with
 * a 400; plans bounded in concurrency.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import { json, type ServerFleet, serverFleet, type TestUser, testUser } from './support/server-fleet.ts'

/** The server's maximum token lifetime in these tests. */
const MAX_DAYS = 30
const DAY_MS = 24 * 60 * 60 * 1000

describe.each(testBackends)('sessions, tokens and requests, on %s', (backend) => {
  const testStore = useTestStore(backend)
  let f: ServerFleet
  beforeAll(async () => {
    f = await serverFleet(testStore.store.db, {
      maxTokenDays: MAX_DAYS,
      trustProxy: true,
      planConcurrency: { running: 1, queued: 1, maxWaitMs: 30_000 },
    })
  }, 120_000)
  afterAll(async () => {
    await f?.close()
  })
  const bearer = (token: string, path: string, init: RequestInit = {}) =>
    fetch(f.server.url + path, {
      ...init,
      redirect: 'manual',
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    })
  const mint = async (user: TestUser, name: string, body: object) =>
    json(await user.api(`/api/users/${name}/tokens`, { method: 'POST', body }))
  /** A user created by the admin, with a token of their own. */
  const newUser = async (name: string, role: 'viewer' | 'member' | 'admin' = 'member'): Promise<TestUser> => {
    expect((await f.admin.api('/api/users', { method: 'POST', body: { name, role } })).status).toBe(201)
    const { body } = await mint(f.admin, name, { label: 'test' })
    return testUser(f.server.url, name, body.token as string)
  }

  /** The sign-in form as a browser gets it: the double-submit cookie and the form's value. */
  const signInForm = async () => {
    const page = await fetch(`${f.server.url}/login`)
    const cookie = page.headers.getSetCookie().find((c) => c.startsWith('flotilla_login='))!
    const value = /name="_login" value="([^"]+)"/.exec(await page.text())![1]!
    return { cookie: cookie.split(';')[0]!, value, setCookie: cookie }
  }
  /** Posts the sign-in form. */
  const postLogin = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${f.server.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    })
  /** Signs in to the portal with `token` as a same-origin form would: the session cookie (name=value). */
  const signIn = async (token: string, extra: Record<string, string> = {}) => {
    const form = await signInForm()
    const response = await postLogin(
      { token, next: '/rollouts', _login: form.value },
      { cookie: form.cookie, origin: f.server.url, 'sec-fetch-site': 'same-origin', ...extra },
    )
    expect(response.status).toBe(303)
    const session = response.headers.getSetCookie().find((c) => c.startsWith('flotilla_session='))
    return { response, session: session?.split(';')[0], setCookie: session }
  }
  /** A page of the portal with a session cookie: 200, or a redirect to sign in. */
  const withSession = (session: string, path: string) =>
    fetch(f.server.url + path, { redirect: 'manual', headers: { cookie: session } })

  test('tokens: an expiry, capped by the server maximum; listed without secrets; revoked by their owner; expired ones refused', async () => {
    const week = await mint(f.alice, f.alice.name, { label: 'ci', expiresInDays: 7 })
    expect(week.status).toBe(201)
    expect(Date.parse(week.body.expiresAt as string) - Date.now()).toBeGreaterThan(7 * DAY_MS - 60_000)
    expect(Date.parse(week.body.expiresAt as string) - Date.now()).toBeLessThanOrEqual(7 * DAY_MS)
    // No expiry asked for: the server's maximum.
    const capped = await mint(f.alice, f.alice.name, { label: 'laptop' })
    expect(Date.parse(capped.body.expiresAt as string) - Date.now()).toBeGreaterThan(
      MAX_DAYS * DAY_MS - 60_000,
    )
    const at = new Date(Date.now() + 2 * DAY_MS).toISOString()
    expect((await mint(f.alice, f.alice.name, { label: 'at', expiresAt: at })).body.expiresAt).toBe(at)
    const tooLong = await mint(f.alice, f.alice.name, { label: 'x', expiresInDays: MAX_DAYS + 1 })
    expect(tooLong).toEqual({
      status: 400,
      body: {
        error: `tokens last at most ${MAX_DAYS} days on this server (FLOTILLA_MAX_TOKEN_DAYS); ask for ${MAX_DAYS} days or fewer`,
      },
    })
    for (const bad of [
      { expiresAt: new Date(Date.now() + (MAX_DAYS + 2) * DAY_MS).toISOString() },
      { expiresAt: new Date(Date.now() - 1000).toISOString() },
      { expiresAt: 'tomorrow' },
      { expiresInDays: 0 },
      { expiresInDays: 1.5 },
      { expiresInDays: -3 },
      { expiresInDays: 7, expiresAt: at },
    ])
      expect((await mint(f.alice, f.alice.name, { label: 'bad', ...bad })).status, JSON.stringify(bad)).toBe(
        400,
      )
    const huge = await f.alice.api(`/api/users/${f.alice.name}/tokens`, {
      method: 'POST',
      body: '{"label": "bad", "expiresInDays": 1e309}',
    })
    expect(huge.status).toBe(400)

    // The owner lists them: never a secret, nor its hash.
    const listed = await json(await f.alice.api(`/api/users/${f.alice.name}/tokens`))
    expect(listed.status).toBe(200)
    const tokens = listed.body.tokens as Record<string, unknown>[]
    expect(tokens.map((t) => t.id)).toEqual(expect.arrayContaining([week.body.id, capped.body.id]))
    expect(tokens.find((t) => t.id === week.body.id)).toEqual({
      id: week.body.id,
      label: 'ci',
      createdAt: expect.any(String),
      lastUsedAt: null,
      expiresAt: week.body.expiresAt,
      revokedAt: null,
      state: 'active',
    })
    const text = JSON.stringify(listed.body)
    expect(text).not.toContain((week.body.token as string).slice(17))
    expect(text).not.toContain(f.alice.token.slice(17))
    expect(text).not.toMatch(/"hash"|"token"/)
    // Someone else's tokens: only an admin sees them.
    expect((await f.mallory.api(`/api/users/${f.alice.name}/tokens`)).status).toBe(403)
    expect((await f.viewer.api(`/api/users/${f.alice.name}/tokens`)).status).toBe(403)
    expect((await f.admin.api(`/api/users/${f.alice.name}/tokens`)).status).toBe(200)
    expect((await f.admin.api('/api/users/no.such.user/tokens')).status).toBe(404)

    // Revoking: another member's token is not theirs to revoke (and not even confirmed to exist).
    const weekToken = week.body.token as string
    expect((await f.mallory.api(`/api/tokens/${week.body.id as string}`, { method: 'DELETE' })).status).toBe(
      404,
    )
    expect((await bearer(weekToken, '/api/me')).status).toBe(200)
    expect((await f.alice.api(`/api/tokens/${week.body.id as string}`, { method: 'DELETE' })).status).toBe(
      204,
    )
    expect((await bearer(weekToken, '/api/me')).status).toBe(401)
    expect((await f.alice.api(`/api/tokens/${week.body.id as string}`, { method: 'DELETE' })).status).toBe(
      404,
    )
    // A viewer revokes their own, too; an admin anyone's.
    const viewers = await mint(f.viewer, f.viewer.name, { label: 'spare' })
    expect(
      (await f.viewer.api(`/api/tokens/${viewers.body.id as string}`, { method: 'DELETE' })).status,
    ).toBe(204)
    expect((await f.admin.api(`/api/tokens/${capped.body.id as string}`, { method: 'DELETE' })).status).toBe(
      204,
    )

    // Expired: refused, and listed as such.
    const soon = await mint(f.alice, f.alice.name, { label: 'soon', expiresInDays: 1 })
    expect((await bearer(soon.body.token as string, '/api/me')).status).toBe(200)
    await testStore.store.db
      .updateTable('api_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', soon.body.id as string)
      .execute()
    expect((await bearer(soon.body.token as string, '/api/me')).status).toBe(401)
    const after = (await json(await f.alice.api(`/api/users/${f.alice.name}/tokens`))).body.tokens as {
      id: string
      state: string
    }[]
    expect(after.find((t) => t.id === soon.body.id)?.state).toBe('expired')
    expect(after.find((t) => t.id === week.body.id)?.state).toBe('revoked')
  })

  test('a user holds at most 20 active tokens, also when minting many at once; revoking one frees a place', async () => {
    const user = await newUser('many.tokens')
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => mint(user, user.name, { label: `t${i}` })),
    )
    expect(results.filter((r) => r.status === 201)).toHaveLength(19) // and the one newUser minted
    const refused = results.filter((r) => r.status !== 201)
    expect(refused.map((r) => r.status)).toEqual([409, 409, 409, 409, 409])
    expect(refused[0]!.body.error).toContain(
      'many.tokens holds 20 active tokens, the most a user may hold; revoke one first',
    )
    // Expired and revoked ones do not count.
    const first = results.find((r) => r.status === 201)!.body.id as string
    expect((await user.api(`/api/tokens/${first}`, { method: 'DELETE' })).status).toBe(204)
    expect((await mint(user, user.name, { label: 'again' })).status).toBe(201)
    expect((await mint(user, user.name, { label: 'over' })).status).toBe(409)
  })

  test('a portal session ends at once when its token is revoked or expires, and lasts no longer than its token', async () => {
    const revoked = await mint(f.bob, f.bob.name, { label: 'portal' })
    const { session } = await signIn(revoked.body.token as string)
    expect(session).toBeDefined()
    expect((await withSession(session!, '/rollouts')).status).toBe(200)
    expect((await json(await withSession(session!, '/api/me'))).body).toMatchObject({ name: f.bob.name })
    expect((await f.bob.api(`/api/tokens/${revoked.body.id as string}`, { method: 'DELETE' })).status).toBe(
      204,
    )
    const out = await withSession(session!, '/rollouts')
    expect(out.status).toBe(302)
    expect(out.headers.get('location')).toBe('/login?next=%2Frollouts')
    expect((await withSession(session!, '/api/me')).status).toBe(401)

    const hour = await mint(f.bob, f.bob.name, {
      label: 'an hour',
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    })
    const second = await signIn(hour.body.token as string)
    const maxAge = Number(/Max-Age=(\d+)/i.exec(second.setCookie!)![1])
    expect(maxAge).toBeGreaterThan(3500)
    expect(maxAge).toBeLessThanOrEqual(3600)
    expect((await withSession(second.session!, '/rollouts')).status).toBe(200)
    await testStore.store.db
      .updateTable('api_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', hour.body.id as string)
      .execute()
    expect((await withSession(second.session!, '/rollouts')).status).toBe(302)
    // Revoked elsewhere (another replica, the store): every request checks the token itself.
    const third = await mint(f.bob, f.bob.name, { label: 'elsewhere' })
    const elsewhere = await signIn(third.body.token as string)
    expect((await withSession(elsewhere.session!, '/rollouts')).status).toBe(200)
    await testStore.store.db
      .updateTable('api_tokens')
      .set({ revoked_at: new Date() })
      .where('id', '=', third.body.id as string)
      .execute()
    expect((await withSession(elsewhere.session!, '/rollouts')).status).toBe(302)
    // The sign-in records which token opened the session.
    const signIns = (await json(await f.admin.api(`/api/audit?action=sign-in&actor=${f.bob.name}`))).body
      .entries as { detail: { token: string } }[]
    expect(signIns.map((e) => e.detail.token)).toEqual([third.body.id, hour.body.id, revoked.body.id])
  })

  test('a disabled user can neither use a token nor a session nor sign in; enabled again, their tokens work; the last enabled admin stays', async () => {
    const user = await newUser('dis.user')
    const { session } = await signIn(user.token)
    expect((await withSession(session!, '/rollouts')).status).toBe(200)
    expect((await f.alice.api('/api/users/dis.user/disable', { method: 'POST' })).status).toBe(403)
    expect(await json(await f.admin.api('/api/users/dis.user/disable', { method: 'POST' }))).toEqual({
      status: 200,
      body: { name: 'dis.user', disabled: true },
    })
    expect((await user.api('/api/me')).status).toBe(401)
    expect((await withSession(session!, '/rollouts')).status).toBe(302)
    const form = await signInForm()
    const again = await postLogin(
      { token: user.token, next: '/rollouts', _login: form.value },
      { cookie: form.cookie },
    )
    expect(again.headers.get('location')).toBe('/login?failed&next=%2Frollouts')
    expect((await mint(f.admin, 'dis.user', { label: 'more' })).status).toBe(409)
    expect(
      (
        await f.admin.api('/api/users/dis.user/elevations', {
          method: 'POST',
          body: { reason: 'should not work at all', minutes: 5 },
        })
      ).status,
    ).toBe(409)
    const users = (await json(await f.admin.api('/api/users'))).body.users as {
      name: string
      disabled: boolean
    }[]
    expect(users.find((u) => u.name === 'dis.user')).toMatchObject({ disabled: true, disabledBy: 'admin' })
    expect((await f.admin.api('/api/users/dis.user/disable', { method: 'POST' })).status).toBe(409)
    expect((await f.admin.api('/api/users/no.such.user/disable', { method: 'POST' })).status).toBe(404)

    expect((await f.admin.api('/api/users/dis.user/enable', { method: 'POST' })).status).toBe(200)
    expect((await user.api('/api/me')).status).toBe(200)
    expect((await withSession(session!, '/rollouts')).status).toBe(302) // sessions were closed
    const audit = (await json(await f.admin.api('/api/audit?subject=dis.user'))).body.entries as {
      action: string
      actor: string
    }[]
    expect(audit.map((e) => `${e.actor} ${e.action}`).slice(0, 2)).toEqual([
      'admin user-enable',
      'admin user-disable',
    ])

    // The last enabled admin cannot be disabled, not even by themselves.
    const lastAdmin = await json(await f.admin.api('/api/users/admin/disable', { method: 'POST' }))
    expect(lastAdmin.status).toBe(409)
    expect(lastAdmin.body.error).toContain('admin is the last enabled admin')
    const second = await newUser('second.admin', 'admin')
    expect((await second.api('/api/users/admin/disable', { method: 'POST' })).status).toBe(200)
    expect((await f.admin.api('/api/me')).status).toBe(401)
    expect((await second.api('/api/users/second.admin/disable', { method: 'POST' })).status).toBe(409)
    expect((await second.api('/api/users/admin/enable', { method: 'POST' })).status).toBe(200)
    expect((await f.admin.api('/api/me')).status).toBe(200)
    // Flotilla's own names are not for users: they would pass for the controller in the audit log.
    for (const name of ['controller', 'flotilla'])
      expect(
        (await f.admin.api('/api/users', { method: 'POST', body: { name, role: 'admin' } })).status,
      ).toBe(400)
  })

  test('after signing in, only a path of this site: every way of naming another site goes to /accounts', async () => {
    const form = await signInForm()
    const landing = async (next: string) => {
      const response = await postLogin(
        { token: f.viewer.token, next, _login: form.value },
        { cookie: form.cookie, origin: f.server.url },
      )
      expect(response.status, next).toBe(303)
      return response.headers.get('location')
    }
    for (const next of [
      '//evil.example',
      '///evil.example',
      '/\\evil.example',
      '\\/evil.example',
      '\\\\evil.example',
      'https://evil.example/',
      'HTTPS://evil.example',
      'javascript:alert(1)',
      '//evil.example/%2F..',
      '/%5Cevil.example',
      '/%5cevil.example',
      '/%2F%2Fevil.example',
      '%2F%2Fevil.example',
      '/%252F%252Fevil.example',
      '/%255Cevil.example',
      '/\t/evil.example',
      '/\n/evil.example',
      '/%09/evil.example',
      '/%0d%0aSet-Cookie:%20x=1',
      '/./\\evil.example',
      '/.//evil.example',
      '/..//evil.example',
      ' //evil.example',
      '/\u3002evil.example',
      'evil.example',
      '',
    ])
      expect(await landing(next), JSON.stringify(next)).toBe('/accounts')
    for (const next of ['/rollouts?state=running', '/plans?rev=feature%2Fx', '/accounts/123456789012#stacks'])
      expect(await landing(next)).toBe(next)
    // The sign-in page does not carry a foreign next into its form either.
    const page = await (
      await fetch(`${f.server.url}/login?next=${encodeURIComponent('/\\evil.example')}`)
    ).text()
    expect(page).toContain('name="next" value="/accounts"')
  })

  test('the sign-in form refuses a post from another site (login CSRF); the session cookie is HttpOnly, SameSite=Lax, and Secure behind a trusted HTTPS proxy', async () => {
    const form = await signInForm()
    expect(form.setCookie).toMatch(/HttpOnly/i)
    expect(form.setCookie).toMatch(/SameSite=Strict/i)
    const attempt = (fields: Record<string, string>, headers: Record<string, string>) =>
      postLogin({ token: f.alice.token, next: '/rollouts', ...fields }, headers)
    const refusals = [
      attempt({}, {}), // a page of another site cannot read or send the cookie
      attempt({ _login: form.value }, {}),
      attempt({}, { cookie: form.cookie }),
      attempt(
        { _login: `${form.value.slice(0, -1)}${form.value.endsWith('A') ? 'B' : 'A'}` },
        { cookie: form.cookie },
      ),
      attempt({ _login: form.value }, { cookie: form.cookie, origin: 'https://evil.example' }),
      attempt({ _login: form.value }, { cookie: form.cookie, origin: 'null' }),
      attempt({ _login: form.value }, { cookie: form.cookie, origin: `${f.server.url}.evil.example` }),
      attempt({ _login: form.value }, { cookie: form.cookie, 'sec-fetch-site': 'cross-site' }),
      attempt({ _login: form.value }, { cookie: form.cookie, 'sec-fetch-site': 'same-site' }),
      // An X-Forwarded-Host is believed only as another name of this server, not as a way in.
      attempt(
        { _login: form.value },
        { cookie: form.cookie, origin: 'https://evil.example', 'x-forwarded-host': 'other.example' },
      ),
    ]
    for (const [i, refused] of (await Promise.all(refusals)).entries()) {
      expect(refused.status, `attempt ${i}`).toBe(403)
      expect(
        refused.headers.getSetCookie().some((c) => c.startsWith('flotilla_session=')),
        `attempt ${i}`,
      ).toBe(false)
      expect(await refused.text()).toContain('(CSRF check)')
    }
    // The same form from this site signs in, through the proxy's name too.
    const proxied = await attempt(
      { _login: form.value },
      { cookie: form.cookie, origin: 'https://flotilla.example', 'x-forwarded-host': 'flotilla.example' },
    )
    expect(proxied.status).toBe(303)

    const plain = await signIn(f.alice.token)
    expect(plain.setCookie).toMatch(/HttpOnly/i)
    expect(plain.setCookie).toMatch(/SameSite=Lax/i)
    expect(plain.setCookie).toMatch(/Path=\//)
    expect(plain.setCookie).not.toMatch(/;\s*Secure/i)
    const tls = await signIn(f.alice.token, { 'x-forwarded-proto': 'https' })
    expect(tls.setCookie).toMatch(/;\s*Secure/i)
    const http = await signIn(f.alice.token, { 'x-forwarded-proto': 'http' })
    expect(http.setCookie).not.toMatch(/;\s*Secure/i)

    // Signing out needs the session's CSRF secret too.
    const out = await fetch(`${f.server.url}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: plain.session!, 'content-type': 'application/x-www-form-urlencoded' },
      body: '_csrf=guess',
    })
    expect(out.status).toBe(403)
    expect((await withSession(plain.session!, '/rollouts')).status).toBe(200)
  })

  test('every action under emergency access is audited and marked; the holder or an admin ends it early', async () => {
    const reason = 'shop DNS outage, INC-9'
    const grant = () =>
      f.admin.api(`/api/users/${f.mallory.name}/elevations`, {
        method: 'POST',
        body: { reason, minutes: 30 },
      })
    expect((await grant()).status).toBe(201)
    // An action with an audit entry of its own, one without, and one refused.
    const fault = { target: f.devAccount, kind: 'api-errors', rate: 0.5 }
    expect((await f.mallory.api('/api/sim/faults', { method: 'POST', body: fault })).status).toBe(201)
    expect((await f.mallory.api(`/api/sim/faults?target=${f.devAccount}`, { method: 'DELETE' })).status).toBe(
      200,
    )
    expect((await f.mallory.api('/api/drift/check', { method: 'POST' })).status).toBe(200)
    expect(
      (await f.mallory.api('/api/users', { method: 'POST', body: { name: 'by.mallory', role: 'admin' } }))
        .status,
    ).toBe(403)
    // Another member's action at the same time is not marked.
    expect((await f.alice.api('/api/drift/check', { method: 'POST' })).status).toBe(200)

    type Entry = {
      actor: string
      action: string
      subject: string
      detail: Record<string, unknown>
      elevated: unknown
    }
    const marked = (await json(await f.viewer.api('/api/audit?elevated=true&limit=10'))).body
      .entries as Entry[]
    const elevated = { reason, grantedBy: 'admin', until: expect.any(String) }
    expect(marked.map((e) => [e.actor, e.action, e.subject, e.detail.status ?? null])).toEqual([
      [f.mallory.name, 'elevated-request', '/api/users', 403],
      [f.mallory.name, 'elevated-request', '/api/drift/check', 200],
      [f.mallory.name, 'sim-fault-clear', f.devAccount, null],
      [f.mallory.name, 'sim-fault', f.devAccount, null],
    ])
    for (const entry of marked) expect(entry.elevated).toEqual(elevated)
    const unmarked = (await json(await f.viewer.api('/api/audit?elevated=false&limit=5'))).body
      .entries as Entry[]
    expect(unmarked[0]).toMatchObject({ actor: 'admin', action: 'emergency-access-granted', elevated: null })
    expect(unmarked.every((e) => e.actor !== f.mallory.name)).toBe(true)
    const page = await (await f.viewer.api(`/audit?actor=${f.mallory.name}`)).text()
    expect(page).toContain(`emergency access, granted by admin: ${reason}`)

    // Ended early: not by another member; by the holder; then by an admin.
    expect((await f.alice.api(`/api/users/${f.mallory.name}/elevations`, { method: 'DELETE' })).status).toBe(
      403,
    )
    expect(
      (await f.mallory.api(`/api/users/${f.mallory.name}/elevations`, { method: 'DELETE' })).status,
    ).toBe(200)
    expect((await json(await f.mallory.api('/api/me'))).body).toMatchObject({
      effectiveRole: 'member',
      elevation: null,
    })
    expect(
      (await f.mallory.api(`/api/users/${f.mallory.name}/elevations`, { method: 'DELETE' })).status,
    ).toBe(404)
    expect((await f.mallory.api('/api/sim/faults', { method: 'POST', body: fault })).status).toBe(403)
    expect((await grant()).status).toBe(201)
    expect((await f.admin.api(`/api/users/${f.mallory.name}/elevations`, { method: 'DELETE' })).status).toBe(
      200,
    )
    expect((await json(await f.mallory.api('/api/me'))).body).toMatchObject({ effectiveRole: 'member' })
    const ended = (await json(await f.viewer.api('/api/audit?action=emergency-access-ended'))).body
      .entries as Entry[]
    expect(ended.map((e) => `${e.actor} ${e.subject}`)).toEqual([
      `admin ${f.mallory.name}`,
      `${f.mallory.name} ${f.mallory.name}`,
    ])
  })

  test('NUL bytes and out-of-range numbers are 400s on every kind of input, never 500s', async () => {
    const form = (token: string, path: string, body: string) =>
      bearer(token, path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      })
    const post = (user: TestUser, path: string, body: string, method = 'POST') =>
      bearer(user.token, path, { method, headers: { 'content-type': 'application/json' }, body })
    const cases: [string, Promise<Response>][] = [
      ['query', bearer(f.viewer.token, '/api/audit?actor=a%00b')],
      ['query name', bearer(f.viewer.token, '/api/audit?act%00or=a')],
      ['path', bearer(f.viewer.token, '/api/rollouts/r-%00')],
      ['path', bearer(f.viewer.token, '/api/accounts/%00')],
      ['path of the portal', bearer(f.viewer.token, '/accounts/%00')],
      ['query of the portal', bearer(f.viewer.token, '/plans?rev=main%00')],
      ['JSON string', post(f.viewer, '/api/stop', '{"reason": "stop\\u0000now"}')],
      ['JSON key', post(f.viewer, '/api/stop', '{"reason\\u0000": "stop now"}')],
      ['JSON array', post(f.alice, '/api/approvals', '{"approvals": ["a\\u0000"]}')],
      ['JSON user', post(f.admin, '/api/users', '{"name": "x\\u0000y", "role": "member"}')],
      ['raw NUL', post(f.viewer, '/api/stop', '{"reason": "stop\u0000now"}')],
      ['text body', bearer(f.viewer.token, '/api/stop', { method: 'POST', body: 'stop\u0000' })],
      ['form field', form(f.viewer.token, '/stop', 'reason=stop%00now')],
      ['form field name', form(f.viewer.token, '/stop', 'rea%00son=stop')],
      ['sign-in form', postLogin({ token: 'flt_\u0000' })],
      [
        'JSON 1e309',
        post(
          f.alice,
          '/api/sim/faults',
          `{"target": "${f.devAccount}", "kind": "latency", "forSeconds": 1e309}`,
        ),
      ],
      [
        'JSON beyond int32',
        post(
          f.alice,
          '/api/sim/faults',
          `{"target": "${f.devAccount}", "kind": "latency", "latencyMs": 3000000000}`,
        ),
      ],
      [
        'JSON -1e309',
        post(
          f.alice,
          '/api/sim/faults',
          `{"target": "${f.devAccount}", "kind": "api-errors", "rate": -1e309}`,
        ),
      ],
      [
        'JSON minutes',
        post(
          f.admin,
          `/api/users/${f.bob.name}/elevations`,
          '{"reason": "a long enough reason", "minutes": 1e309}',
        ),
      ],
      ['limit=1e309', bearer(f.viewer.token, '/api/rollouts?limit=1e309')],
      ['limit=-1', bearer(f.viewer.token, '/api/audit?limit=-1')],
      ['limit huge', bearer(f.viewer.token, '/api/revisions?limit=99999999999999999999')],
      ['limit hex', bearer(f.viewer.token, '/api/audit?limit=0x10')],
      ['after=-1', bearer(f.viewer.token, '/api/rollouts/r-20260101-000000/events?after=-1')],
      ['after=1e3', bearer(f.viewer.token, '/api/rollouts/r-20260101-000000/events?after=1e3')],
      [
        'after beyond int32',
        bearer(f.viewer.token, '/api/rollouts/r-20260101-000000/events?after=2147483648'),
      ],
      [
        'Last-Event-ID',
        bearer(f.viewer.token, '/api/rollouts/r-20260101-000000/events', {
          headers: { 'last-event-id': '99999999999999999999' },
        }),
      ],
    ]
    for (const [what, pending] of cases) {
      const response = await pending
      const text = await response.text()
      expect(response.status, `${what}: ${text}`).toBe(400)
      expect(text, what).toMatch(/NUL byte|out of range|whole number from/)
    }
    expect((await json(await f.viewer.api('/api/stop'))).body).toEqual({ stop: null })
    for (const line of f.logs) expect(line).not.toContain('internal error')
  })

  test('plans are computed one at a time here, one more waits; beyond that a 503 with Retry-After, for the API and the portal', async () => {
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        // Each at another what-if time: plans of one key are computed once, whoever asks.
        i % 2 === 0
          ? f.viewer.api(`/api/plans?now=2026-11-1${i}T10:00:00Z`)
          : f.viewer.api(`/plans?now=2026-11-1${i}T10:00:00Z`),
      ),
    )
    const texts = await Promise.all(responses.map((r) => r.text()))
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 200).length, String(statuses)).toBeGreaterThanOrEqual(2)
    expect(statuses.filter((s) => s === 503).length, String(statuses)).toBeGreaterThanOrEqual(1)
    expect(
      statuses.every((s) => s === 200 || s === 503),
      String(statuses),
    ).toBe(true)
    for (const [i, response] of responses.entries()) {
      if (response.status !== 503) continue
      expect(response.headers.get('retry-after')).toBe('5')
      expect(texts[i]).toContain(
        'the server is computing as many plans and drift checks as it may (1 at once, 1 waiting)',
      )
    }
    // The places are given back: once the computations the portal's pages started in the
    // background (they answer at once with progress) are done too.
    await expect
      .poll(async () => (await f.viewer.api('/api/plans')).status, { timeout: 60_000, interval: 500 })
      .toBe(200)
  })
})
