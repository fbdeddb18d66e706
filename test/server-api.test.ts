/**
 * The HTTP API end to end on loopback, on PGlite and (with TEST_DATABASE_URL) PostgreSQL:
 * authentication, access by team and role, rollouts started through the API and run by the
 * server's worker, their events as Server-Sent Events, the stop, bad input, emergency access,
 * the audit log, and the OpenAPI document.
 */
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApp } from '../src/server/app.ts'
import { openApiDocument } from '../src/server/openapi.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import { commitAll, setLogExpiry } from './support/rollout-fleet.ts'
import { computedPlanPage, json, moveZone, type ServerFleet, serverFleet } from './support/server-fleet.ts'
import { pollUntil } from './support/sim-cli.ts'

describe.each(testBackends)('the API, on %s', (backend) => {
  const testStore = useTestStore(backend)
  let f: ServerFleet
  beforeAll(async () => {
    f = await serverFleet(testStore.store.db)
  }, 120_000)
  afterAll(async () => {
    await f?.close()
  })

  test('nothing without a valid token; who am I; the inventory with filters; bad filters are a 400', async () => {
    expect((await fetch(`${f.server.url}/api/accounts`)).status).toBe(401)
    const forged = await fetch(`${f.server.url}/api/accounts`, {
      headers: { authorization: `Bearer ${f.alice.token.slice(0, -2)}xx` },
    })
    expect(forged.status).toBe(401)
    expect(await json(await f.alice.api('/api/me'))).toMatchObject({
      status: 200,
      body: {
        name: f.alice.name,
        role: 'member',
        effectiveRole: 'member',
        teams: expect.arrayContaining([f.team]),
        elevation: null,
      },
    })
    const all = await json(await f.viewer.api('/api/accounts'))
    expect(all.status).toBe(200)
    const accounts = all.body.accounts as {
      environment: string
      team: string
      tagCompliance: number
      name: string
    }[]
    expect(accounts.length).toBe(all.body.total)
    const prod = await json(await f.viewer.api('/api/accounts?environment=production&sort=name&order=desc'))
    const rows = prod.body.accounts as typeof accounts
    expect(rows.length).toBe(accounts.filter((a) => a.environment === 'production').length)
    expect(rows.map((r) => r.name)).toEqual(
      rows
        .map((r) => r.name)
        .sort()
        .reverse(),
    )
    const mine = await json(
      await f.viewer.api(
        `/api/accounts?team=${f.team}&q=${encodeURIComponent(accounts.find((a) => a.team === f.team)!.name.slice(0, 6))}`,
      ),
    )
    expect((mine.body.accounts as typeof accounts).every((a) => a.team === f.team)).toBe(true)
    expect(await json(await f.viewer.api('/api/accounts?environment=prod'))).toEqual({
      status: 400,
      body: { error: 'query parameter environment="prod" is not one of production, staging, test' },
    })
    expect((await json(await f.viewer.api('/api/accounts/000000000000'))).status).toBe(404)
    expect((await json(await f.viewer.api(`/api/accounts/${f.devAccount}`))).body).toMatchObject({
      account: { id: f.devAccount },
    })
    expect((await json(await f.viewer.api('/api/rollouts/r-20260101-000000'))).status).toBe(404)
    expect((await json(await f.viewer.api('/api/nothing-here'))).status).toBe(404)
  })

  test("a member rolls out their team's change; another team's member and a viewer are refused; the worker runs it; its events stream", async () => {
    setLogExpiry(f.repo, { [f.devAccount]: 33 })
    const commit = await commitAll(f.repo, 'Logs for 33 days in a dev account')
    // The account's page says what is about to change in it, and what it has now.
    type Detail = {
      applied: { revision: string } | null
      pending: { revision: string; verdict: string; changes: { action: string; address: string }[] }
    }
    const before = (await json(await f.viewer.api(`/api/accounts/${f.devAccount}`))).body as unknown as Detail
    expect(before.pending).toMatchObject({ revision: commit, verdict: 'allowed' })
    expect(before.pending.changes.map((c) => c.action)).toContain('update')
    expect(before.applied?.revision).not.toBe(commit)
    const refused = await json(await f.mallory.api('/api/rollouts', { method: 'POST', body: {} }))
    expect(refused.status).toBe(403)
    expect(refused.body.error).toMatch(
      new RegExp(
        `^${f.mallory.name.replace('.', '\\.')} cannot roll out [0-9a-f]{12}: it touches team ${f.team}, and ${f.mallory.name.replace('.', '\\.')} is a member of `,
      ),
    )
    expect((await json(await f.viewer.api('/api/rollouts', { method: 'POST', body: {} }))).status).toBe(403)
    expect(
      await json(await f.alice.api('/api/rollouts', { method: 'POST', body: { approvals: 'all' } })),
    ).toEqual({
      status: 400,
      body: { error: 'invalid body: approvals: Invalid input: expected array, received string' },
    })
    expect(
      (await json(await f.alice.api('/api/rollouts', { method: 'POST', body: { nope: 1 } }))).status,
    ).toBe(400)
    expect(
      (await json(await f.alice.api('/api/rollouts', { method: 'POST', body: '{not json' }))).status,
    ).toBe(400)
    expect(await postRaw(`${f.server.url}/api/rollouts`, f.alice.token, 'x'.repeat(300 * 1024))).toBe(413)
    expect(
      (await json(await f.alice.api('/api/rollouts', { method: 'POST', body: { rev: 'no-such-branch' } })))
        .status,
    ).toBe(404)

    const started = await json(await f.alice.api('/api/rollouts', { method: 'POST', body: {} }))
    expect(started).toMatchObject({ status: 201, body: { state: 'running' } })
    const id = started.body.id as string
    // Another team's member may not operate it either.
    expect((await json(await f.mallory.api(`/api/rollouts/${id}/pause`, { method: 'POST' }))).status).toBe(
      403,
    )

    const stream = await f.viewer.api(`/api/rollouts/${id}/events`)
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const text = await stream.text() // the stream ends with the rollout
    const events = [...text.matchAll(/^event: rollout-event\ndata: (.*)\nid: (\d+)$/gm)].map(
      (m) => JSON.parse(m[1]!) as { type: string; id: number },
    )
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['rollout-started', 'target-applying', 'target-succeeded', 'succeeded']),
    )
    expect(events.map((e) => e.id)).toEqual(events.map((e) => e.id).sort((a, b) => a - b))
    expect(text).toMatch(/event: end\ndata: \{"state":"succeeded"\}/)
    // Resuming after the last event gives only the end.
    const rest = await (
      await f.viewer.api(`/api/rollouts/${id}/events`, {
        headers: { 'last-event-id': String(events.at(-1)!.id) },
      })
    ).text()
    expect(rest).not.toContain('rollout-event')
    const status = await json(await f.viewer.api(`/api/rollouts/${id}`))
    expect(status.body).toMatchObject({ id, state: 'succeeded', createdBy: f.alice.name })
    const list = await json(await f.viewer.api('/api/rollouts?state=succeeded'))
    expect((list.body.rollouts as { id: string }[]).map((r) => r.id)).toContain(id)
    expect((await json(await f.viewer.api('/api/rollouts?state=done'))).status).toBe(400)
    const after = (await json(await f.viewer.api(`/api/accounts/${f.devAccount}`))).body as unknown as Detail
    expect(after.applied?.revision).toBe(commit)
    expect(after.pending.changes).toEqual([])
  })

  test("a protected destruction starts only with an approval by someone other than the rollout's author", async () => {
    await moveZone(f)
    const plan = (await json(await f.alice.api('/api/plans'))).body.plan as {
      verdict: string
      approvalsRequired: string[]
    }
    expect(plan.verdict).toBe('requires-approval')
    const required = plan.approvalsRequired
    expect(required.length).toBeGreaterThan(0)
    // The author's own approvals do not count for a protected destruction.
    const alone = await json(
      await f.alice.api('/api/rollouts', { method: 'POST', body: { approvals: required } }),
    )
    expect(alone.status).toBe(403)
    expect(alone.body.error).toContain(
      `needs an approval by someone other than ${f.alice.name}, who starts the rollout: ${required[0]}`,
    )
    await f.alice.api('/api/approvals', { method: 'POST', body: { approvals: required } })
    expect((await json(await f.alice.api('/api/rollouts', { method: 'POST', body: {} }))).status).toBe(403)
    // A viewer cannot approve; a malformed approval is a 400; bob, of the same team, approves.
    expect(
      (await json(await f.viewer.api('/api/approvals', { method: 'POST', body: { approvals: required } })))
        .status,
    ).toBe(403)
    expect(
      (await json(await f.bob.api('/api/approvals', { method: 'POST', body: { approvals: ['a/*'] } })))
        .status,
    ).toBe(400)
    expect(
      (await json(await f.bob.api('/api/approvals', { method: 'POST', body: { approvals: required } })))
        .status,
    ).toBe(201)
    const recorded = (await json(await f.viewer.api('/api/approvals'))).body.approvals as {
      givenBy: string
    }[]
    expect(new Set(recorded.map((a) => a.givenBy))).toEqual(new Set([f.alice.name, f.bob.name]))
    const started = await json(await f.alice.api('/api/rollouts', { method: 'POST', body: {} }))
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const id = started.body.id as string
    const state = async () => (await json(await f.viewer.api(`/api/rollouts/${id}`))).body.state as string
    expect(await pollUntil(state, (s) => !['running', 'queued'].includes(s), 30_000)).toBe('succeeded')
  })

  test('anyone signed in may pull the stop; only an admin releases it; both are audited with who and from where', async () => {
    expect(
      await json(await f.viewer.api('/api/stop', { method: 'POST', body: { reason: 'incident 42' } })),
    ).toMatchObject({ status: 200, body: { stopped: true } })
    expect((await json(await f.viewer.api('/api/stop'))).body).toMatchObject({
      stop: { reason: 'incident 42', by: 'vic.viewer' },
    })
    // A rollout started while the fleet is stopped waits, paused, until the stop is released.
    setLogExpiry(f.repo, { [f.devAccount]: 34 })
    await commitAll(f.repo, 'Logs for 34 days in a dev account')
    const started = await json(await f.alice.api('/api/rollouts', { method: 'POST', body: {} }))
    expect(started.status).toBe(201)
    const id = started.body.id as string
    const state = async () => (await json(await f.viewer.api(`/api/rollouts/${id}`))).body.state as string
    expect(await pollUntil(state, (s) => s === 'paused', 10_000)).toBe('paused')
    expect((await json(await f.alice.api('/api/unstop', { method: 'POST' }))).status).toBe(403)
    expect(await json(await f.admin.api('/api/unstop', { method: 'POST' }))).toMatchObject({
      status: 200,
      body: { stopped: false, resumed: [id] },
    })
    expect(await pollUntil(state, (s) => s === 'succeeded', 20_000)).toBe('succeeded')
    const audit = await json(await f.viewer.api('/api/audit?limit=20'))
    const entries = audit.body.entries as { actor: string; action: string; source: string }[]
    expect(entries.find((e) => e.action === 'stop')).toMatchObject({
      actor: 'vic.viewer',
      source: 'api 127.0.0.1',
    })
    expect(entries.find((e) => e.action === 'unstop')).toMatchObject({ actor: 'admin' })
    expect(entries.find((e) => e.action === 'rollout-start')).toMatchObject({ actor: f.alice.name })
  })

  test("policies see the server's clock: a request naming its own time is a 400; the time used is in the plan, the rollout's status and the audit", async () => {
    setLogExpiry(f.repo, { [f.devAccount]: 35 })
    await commitAll(f.repo, 'Logs for 35 days in a dev account')
    const clock =
      "policies see the server's clock: a request that changes the fleet cannot choose the time it is judged at"
    // In the body under any name, in the query, on any endpoint that changes something.
    for (const [path, body] of [
      ['/api/rollouts', { now: '2026-11-10T10:00:00Z' }],
      ['/api/rollouts', { policyNow: '2026-11-14T10:00:00Z' }],
      ['/api/rollouts', { NOW: 'x', approvals: [] }],
      ['/api/rollouts?now=2026-11-10T10:00:00Z', {}],
      ['/api/approvals', { approvals: ['x'], policyTime: '2026-11-10T10:00:00Z' }],
      ['/api/stop?now=2026-11-10T10:00:00Z', { reason: 'a try' }],
    ] as const) {
      const refused = await json(await f.alice.api(path, { method: 'POST', body }))
      expect(refused.status, path).toBe(400)
      expect(refused.body.error, path).toContain(clock)
      expect(refused.body.error, path).toContain(
        '--now exists for offline "flotilla plan" and "flotilla drill" only',
      )
    }
    expect((await json(await f.viewer.api('/api/stop'))).body.stop).toBeNull() // nothing happened

    // The server here runs with --now: an operator-set time, recorded as such.
    const operator = { at: '2026-11-10T10:00:00.000Z', source: 'operator' }
    const plan = (await json(await f.viewer.api('/api/plans'))).body.plan as { policyTime: unknown }
    expect(plan.policyTime).toEqual(operator)
    // A what-if preview at another time is read-only, and says so.
    const whatIf = await json(await f.viewer.api('/api/plans?now=2026-11-14T10:00:00Z'))
    expect((whatIf.body.plan as { policyTime: unknown }).policyTime).toEqual({
      at: '2026-11-14T10:00:00.000Z',
      source: 'what-if',
    })
    const started = await json(await f.alice.api('/api/rollouts', { method: 'POST', body: {} }))
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const id = started.body.id as string
    expect((await json(await f.viewer.api(`/api/rollouts/${id}`))).body.policyTime).toEqual(operator)
    const audit = await json(await f.viewer.api(`/api/audit?action=rollout-start&subject=${id}`))
    expect((audit.body.entries as { detail: unknown }[])[0]?.detail).toMatchObject({ policyTime: operator })
    const stored = await testStore.store.db
      .selectFrom('plans')
      .innerJoin('rollouts', 'rollouts.plan_id', 'plans.id')
      .select(['plans.policy_time', 'plans.policy_time_source', 'plans.document'])
      .where('rollouts.id', '=', id)
      .executeTakeFirstOrThrow()
    expect(stored.policy_time?.toISOString()).toBe(operator.at)
    expect(stored.policy_time_source).toBe('operator')
    expect((stored.document as { policyTime: unknown }).policyTime).toEqual(operator)
    const state = async () => (await json(await f.viewer.api(`/api/rollouts/${id}`))).body.state as string
    expect(await pollUntil(state, (s) => !['running', 'queued'].includes(s), 30_000)).toBe('succeeded')
  })

  test('the portal shows the policy time; a what-if plan offers no start; a form naming a time is refused', async () => {
    setLogExpiry(f.repo, { [f.devAccount]: 36 })
    await commitAll(f.repo, 'Logs for 36 days in a dev account')
    const headers = { authorization: `Bearer ${f.alice.token}` }
    const page = (path: string) => computedPlanPage(() => fetch(f.server.url + path, { headers }))
    expect(await page('/plans')).toContain('Start a rollout of')
    const whatIf = await page('/plans?now=2026-11-14T10:00:00Z')
    expect(whatIf).toContain(
      'What if: policies saw 2026-11-14T10:00:00.000Z, a time chosen for this preview.',
    )
    expect(whatIf).not.toContain('Start a rollout of')
    const post = (fields: Record<string, string>, query = '') =>
      fetch(`${f.server.url}/rollouts${query}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
        redirect: 'manual',
      })
    const before = (await json(await f.viewer.api('/api/rollouts'))).body.rollouts as unknown[]
    for (const refused of [
      await post({ rev: 'HEAD', now: '2026-11-10T10:00:00Z' }),
      await post({ rev: 'HEAD' }, '?now=2026-11-10T10:00:00Z'),
    ]) {
      expect(refused.status).toBe(400)
      expect(await refused.text()).toContain('--now exists for offline')
    }
    expect((await json(await f.viewer.api('/api/rollouts'))).body.rollouts).toEqual(before)
    // Nothing starts unconfirmed: the form without its confirmation leads to the page that asks.
    const unconfirmed = await post({ rev: 'HEAD' })
    expect(unconfirmed.status).toBe(303)
    expect(unconfirmed.headers.get('location')).toBe('/rollouts/new?rev=HEAD')
    expect((await json(await f.viewer.api('/api/rollouts'))).body.rollouts).toEqual(before)
    const confirmPage = await page('/rollouts/new?rev=HEAD')
    expect(confirmPage).toContain('Confirm: start the rollout')
    expect(confirmPage).toMatch(/<tr data-stage="dev"><td>1<\/td><td>dev<\/td><td>1<\/td>/)
    // The API shows the same and starts nothing; a start naming a commit HEAD is no longer at is refused.
    const preview = await json(await f.alice.api('/api/rollouts/preview?rev=HEAD'))
    expect(preview.status).toBe(200)
    expect(preview.body).toMatchObject({ ref: 'HEAD', preview: { targets: 1, production: 0 } })
    expect((preview.body.preview as { stages: { name: string }[] }).stages.map((s) => s.name)).toEqual([
      'dev',
    ])
    const stale = await json(
      await f.alice.api('/api/rollouts', { method: 'POST', body: { rev: 'HEAD', commit: '0'.repeat(40) } }),
    )
    expect(stale.status).toBe(409)
    expect(stale.body.error).toMatch(
      /^HEAD moved since you confirmed it \(from 000000000000 to [0-9a-f]{12}\): nothing was started/,
    )
    expect((await json(await f.viewer.api('/api/rollouts'))).body.rollouts).toEqual(before)
    const started = await post({ rev: 'HEAD', confirm: 'yes' })
    expect(started.status).toBe(303)
    expect(started.headers.get('location')).toMatch(/^\/rollouts\/r-/)
    const path = started.headers.get('location')!
    expect(await page(path)).toContain(
      'Policy time: 2026-11-10T10:00:00.000Z (set by the operator: flotilla serve --now)',
    )
    const state = async () => (await json(await f.viewer.api(`/api/${path.slice(1)}`))).body.state as string
    expect(await pollUntil(state, (s) => !['running', 'queued'].includes(s), 30_000)).toBe('succeeded')
  })

  test('a restore through the API passes the gates of every change: refused (409) while the fleet is stopped or a rollout holds its target, naming either', async () => {
    const snapshots = (await json(await f.viewer.api('/api/snapshots'))).body.snapshots as {
      id: string
      target: string
    }[]
    const snapshot = snapshots[0]! // taken when the protected zone was destroyed, above
    const restore = () => f.alice.api(`/api/snapshots/${snapshot.id}/restore`, { method: 'POST' })
    expect(
      (await json(await f.viewer.api('/api/stop', { method: 'POST', body: { reason: 'incident 43' } })))
        .status,
    ).toBe(200)
    const stopped = await json(await restore())
    expect(stopped.status).toBe(409)
    expect(stopped.body.error).toMatch(
      new RegExp(
        `^restore of snapshot ${snapshot.id} \\(target ${snapshot.target}\\) refused: the fleet-wide stop is on \\("incident 43", pulled by vic\\.viewer at [^)]+\\)\\. Nothing is applied or restored while it is on; an admin releases it with "flotilla unstop" \\(or POST /api/unstop`,
      ),
    )
    expect((await json(await f.admin.api('/api/unstop', { method: 'POST' }))).status).toBe(200)

    // A rollout that halted on the target holds it until it is retried, skipped or aborted.
    const { db } = testStore.store
    const id = 'r-20261110-a1b2c3'
    await db
      .insertInto('plans')
      .values({ id: `p-${id.slice(2)}`, base: 'observed', head: 'abc', verdict: 'allowed', document: '{}' })
      .execute()
    await db
      .insertInto('rollouts')
      .values({ id, plan_id: `p-${id.slice(2)}`, state: 'halted', revision: 'abc', created_by: f.bob.name })
      .execute()
    await db.insertInto('locks').values({ target: snapshot.target, rollout_id: id }).execute()
    try {
      const held = await json(await restore())
      expect(held).toEqual({
        status: 409,
        body: {
          error: `restore of snapshot ${snapshot.id} (target ${snapshot.target}) refused: target ${snapshot.target} is held by rollout ${id} (halted), which changes it; see it with "flotilla rollout status ${id}" (GET /api/rollouts/${id}, or /rollouts/${id} in the portal), and try again once it has ended or been aborted`,
        },
      })
    } finally {
      await db.deleteFrom('locks').where('rollout_id', '=', id).execute()
      await db.updateTable('rollouts').set({ state: 'aborted' }).where('id', '=', id).execute()
    }
    const refused = await json(await f.viewer.api('/api/audit?action=restore-refused'))
    expect((refused.body.entries as { actor: string }[]).map((e) => e.actor)).toEqual([
      f.alice.name,
      f.alice.name,
    ])
    expect(
      (
        await testStore.store.db
          .selectFrom('snapshots')
          .select('restored_at')
          .where('id', '=', snapshot.id)
          .executeTakeFirstOrThrow()
      ).restored_at,
    ).toBeNull()
  })

  test('emergency access: an admin grants it with a reason; it makes the holder an admin until it expires, loudly audited', async () => {
    expect(
      (
        await json(
          await f.alice.api(`/api/users/${f.mallory.name}/elevations`, {
            method: 'POST',
            body: { reason: 'dns outage in prod', minutes: 30 },
          }),
        )
      ).status,
    ).toBe(403)
    expect(
      (
        await json(
          await f.admin.api(`/api/users/${f.mallory.name}/elevations`, {
            method: 'POST',
            body: { reason: 'short', minutes: 30 },
          }),
        )
      ).status,
    ).toBe(400)
    const granted = await json(
      await f.admin.api(`/api/users/${f.mallory.name}/elevations`, {
        method: 'POST',
        body: { reason: 'shop DNS outage, INC-7', minutes: 30 },
      }),
    )
    expect(granted.status).toBe(201)
    expect((await json(await f.mallory.api('/api/me'))).body).toMatchObject({
      role: 'member',
      effectiveRole: 'admin',
      elevation: { reason: 'shop DNS outage, INC-7', grantedBy: 'admin' },
    })
    const audit = (await json(await f.viewer.api('/api/audit?action=emergency-access-granted'))).body
      .entries as { subject: string }[]
    expect(audit.map((e) => e.subject)).toEqual([f.mallory.name])
    // Expired, it is gone.
    await testStore.store.db
      .updateTable('elevations')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .execute()
    expect((await json(await f.mallory.api('/api/me'))).body).toMatchObject({
      effectiveRole: 'member',
      elevation: null,
    })
  })

  test('users and tokens: admins create them; a token is shown once and stored only as a hash; a revoked token stops working; tokens are never logged', async () => {
    expect(
      (
        await json(
          await f.alice.api('/api/users', { method: 'POST', body: { name: 'new.user', role: 'member' } }),
        )
      ).status,
    ).toBe(403)
    expect(
      (
        await json(
          await f.admin.api('/api/users', { method: 'POST', body: { name: 'New User', role: 'member' } }),
        )
      ).status,
    ).toBe(400)
    expect(
      (
        await json(
          await f.admin.api('/api/users', { method: 'POST', body: { name: 'new.user', role: 'member' } }),
        )
      ).status,
    ).toBe(201)
    expect(
      (
        await json(
          await f.admin.api('/api/users', { method: 'POST', body: { name: 'new.user', role: 'member' } }),
        )
      ).status,
    ).toBe(409)
    const minted = await json(
      await f.admin.api('/api/users/new.user/tokens', { method: 'POST', body: { label: 'laptop' } }),
    )
    const token = minted.body.token as string
    expect(token).toMatch(/^flt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/)
    const stored = await testStore.store.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', minted.body.id as string)
      .executeTakeFirstOrThrow()
    expect(stored.hash).not.toContain(token.slice(17))
    expect(
      JSON.stringify(await testStore.store.db.selectFrom('api_tokens').selectAll().execute()),
    ).not.toContain(token.slice(17))
    const me = await fetch(`${f.server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })
    expect(me.status).toBe(200)
    expect((await f.admin.api(`/api/tokens/${minted.body.id as string}`, { method: 'DELETE' })).status).toBe(
      204,
    )
    expect(
      (await fetch(`${f.server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(401)
    for (const line of f.logs) expect(line).not.toMatch(/flt_|fls_/)
  })

  test("the clusters list carries each cluster's health, refreshed in the background", async () => {
    type Row = { id: string; health: { state: string; detail: string; at: string | null } }
    const clusters = async () => (await json(await f.viewer.api('/api/clusters'))).body.clusters as Row[]
    const rows = await pollUntil(clusters, (list) => list.every((r) => r.health.state !== 'unknown'), 30_000)
    expect(rows.filter((r) => r.health.state === 'unknown')).toEqual([])
    expect(rows.filter((r) => r.health.state === 'healthy').length).toBeGreaterThan(0)
    for (const row of rows) expect(Date.parse(row.health.at!)).toBeGreaterThan(0)
  })

  test('the server keeps serving while a provider fails', async () => {
    const fault = await json(
      await f.alice.api('/api/sim/faults', {
        method: 'POST',
        body: { target: f.devAccount, kind: 'api-errors', rate: 1 },
      }),
    )
    expect(fault.status).toBe(201)
    expect(
      (
        await json(
          await f.mallory.api('/api/sim/faults', {
            method: 'POST',
            body: { target: f.devAccount, kind: 'api-errors', rate: 1 },
          }),
        )
      ).status,
    ).toBe(403)
    const cluster = (
      (await json(await f.viewer.api('/api/clusters'))).body.clusters as { id: string; account: string }[]
    )[0]!
    expect((await f.viewer.api(`/api/clusters/${encodeURIComponent(cluster.id)}`)).status).toBe(200)
    expect((await f.viewer.api('/api/accounts')).status).toBe(200)
    expect(
      (await json(await f.alice.api(`/api/sim/faults?target=${f.devAccount}`, { method: 'DELETE' }))).body,
    ).toEqual({ cleared: 1 })
  })

  test('drift: a change made outside Flotilla is found by the drift check, shown by the API and counted in /metrics', async () => {
    expect(
      (
        await json(
          await f.alice.api('/api/sim/faults', {
            method: 'POST',
            body: { target: f.devAccount, kind: 'drift' },
          }),
        )
      ).status,
    ).toBe(201)
    // A check observes the whole fleet: a viewer may read its result, a member runs it.
    expect((await json(await f.viewer.api('/api/drift/check', { method: 'POST' }))).status).toBe(403)
    const report = (await json(await f.alice.api('/api/drift/check', { method: 'POST' }))).body as {
      checkedAt: string
      targets: { id: string; addresses: string[] }[]
    }
    expect(report.targets.map((t) => t.id)).toEqual([f.devAccount])
    expect(report.targets[0]!.addresses.length).toBeGreaterThan(0)
    expect((await json(await f.viewer.api('/api/drift'))).body).toEqual(report)
    const metrics = await (await fetch(`${f.server.url}/metrics`)).text()
    expect(metrics).toMatch(/^flotilla_drift_targets 1$/m)
    // The rollouts this server ran are counted too.
    expect(metrics).toMatch(/^flotilla_rollout_targets_total\{stage="dev",state="succeeded"\} [1-9]/m)
    expect(metrics).toMatch(/^flotilla_rollouts\{state="succeeded"\} [1-9]/m)
    expect(metrics).not.toMatch(/flt_/)
  })

  test('the OpenAPI document is served, checked in, and lists every route of the API', async () => {
    const served = await json(await fetch(`${f.server.url}/api/openapi.json`))
    expect(served.body).toEqual(openApiDocument())
    expect(JSON.parse(readFileSync(new URL('../schema/openapi.json', import.meta.url), 'utf8'))).toEqual(
      openApiDocument(),
    )
    // Every route under /api/ is in the document, and the document has no route the API lacks.
    const app = createApp({} as never, { peer: () => '', log: () => {} })
    const routes = app.routes
      .filter((r) => r.path.startsWith('/api/') && r.path !== '/api/*' && r.method !== 'ALL')
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
    const documented = Object.entries((openApiDocument() as { paths: Record<string, object> }).paths).flatMap(
      ([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`),
    )
    expect([...new Set(routes)].sort()).toEqual(documented.sort())
  })
})

/**
 * POSTs a body and returns the status, also when the server answers before reading the whole
 * body and closes the connection (as it does for one that is too large).
 */
function postRaw(url: string, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    }
    const req = request(url, { method: 'POST', headers }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', (error) => reject(error))
    req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')))
    req.end(body)
  })
}
