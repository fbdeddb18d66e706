/**
 * `flotilla serve --follow`: the server follows a branch of another repository and decides on
 * each new commit — a good one rolled out by itself, a denied one recorded and not applied, one
 * that needs approvals waiting until they are recorded.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createUser } from '../src/app/access/users-store.ts'
import { Application } from '../src/app/application.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { applyFleet } from '../src/operations/apply-fleet.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { loadCommit } from '../src/rollout/runner.ts'
import { type RunningServer, startServer } from '../src/server/serve.ts'
import { git } from '../src/source/git.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import { commitAll, editRollout, exampleRepo, quickStages, setLogExpiry } from './support/rollout-fleet.ts'
import { firstDevAccount, moveZoneOfTeam } from './support/server-fleet.ts'
import { NOW, pollUntil, replaceOnce } from './support/sim-cli.ts'

/** The hook's burst on the test server: more than the earlier tests use up, less than the last test sends. */
const HOOK_BURST = 20

describe.each(testBackends)('following a repository, on %s', (backend) => {
  const testStore = useTestStore(backend)
  let upstream: string
  let dispose = () => {}
  let server: RunningServer
  let mirror: string
  let branch: string
  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(server.url + path, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  type Decision = { commit: string; status: string; detail: string; rollout: string | null; unmet: string[] }
  /** Pushes (commits upstream) and pokes the webhook; returns the decision on the new commit. */
  const push = async (message: string): Promise<Decision> => {
    const commit = await commitAll(upstream, message)
    expect((await api('/api/webhook', { method: 'POST' })).status).toBe(200)
    const revisions = (await api('/api/revisions')).body.revisions as Decision[]
    expect(revisions[0]!.commit).toBe(commit)
    return revisions[0]!
  }
  const rolloutState = async (id: string) => (await api(`/api/rollouts/${id}`)).body.state as string

  beforeAll(async () => {
    ;({ repo: upstream, dispose } = await exampleRepo())
    editRollout(upstream, quickStages)
    const commit = await commitAll(upstream, 'Rollouts without bakes and without the Prometheus gate')
    branch = (await git(upstream, ['rev-parse', '--abbrev-ref', 'HEAD'])).toString().trim()
    const db = testStore.store.db
    const sim = new SimProvider({ db })
    await sim.updateSettings({ latencyScale: 0 })
    const registry = new ProviderRegistry([sim])
    const fleet = await loadCommit(upstream, commit)
    await sim.seed(fleet.targets)
    await applyFleet({ head: fleet, registry, db, revision: commit, now: new Date(NOW) })
    mirror = mkdtempSync(join(tmpdir(), 'flotilla-mirror-'))
    server = await startServer({
      app: new Application({ db, registry, repoDir: upstream }),
      repoDir: upstream,
      port: 0,
      policyNow: new Date(NOW),
      log: () => {},
      follow: { source: upstream, branch, mirrorDir: mirror, intervalMs: 600_000 },
      revertDrift: true,
      webhookSecret: 'the hook secret',
      driftIntervalMs: 600_000, // checked by the tests, through the API
      // Room for the earlier tests' pokes (about a dozen), so the last test starts with some left.
      webhookRate: { burst: HOOK_BURST, perMinute: 20 },
    })
  }, 120_000)
  afterAll(async () => {
    await server?.close()
    dispose()
    if (mirror) rmSync(mirror, { recursive: true, force: true })
  })

  test('the commit it finds first changes nothing: recorded as such', async () => {
    const revisions = await pollUntil(
      async () => (await api('/api/revisions')).body.revisions as Decision[],
      (r) => r.length > 0,
      10_000,
    )
    expect(revisions[0]).toMatchObject({ status: 'no-changes' })
    expect((await api('/api/revisions')).body.following).toBe(branch)
  })

  test('a good commit is rolled out by itself', async () => {
    const dev = firstDevAccount(await loadCommit(upstream, 'HEAD'))
    setLogExpiry(upstream, { [dev.id]: 44 })
    const decision = await push('Logs for 44 days in a dev account')
    expect(decision).toMatchObject({ status: 'rolling-out', rollout: expect.stringMatching(/^r-/) })
    expect(
      await pollUntil(
        () => rolloutState(decision.rollout!),
        (s) => s === 'succeeded',
        30_000,
      ),
    ).toBe('succeeded')
    expect((await api(`/api/rollouts/${decision.rollout}`)).body.createdBy).toBe('controller')
    // Audited as the controller's: no person's name, no person's source.
    const audit = (await api(`/api/audit?subject=${decision.rollout}`)).body.entries as Record<
      string,
      unknown
    >[]
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'controller',
        action: 'rollout-start',
        source: 'controller',
        elevated: null,
        detail: expect.objectContaining({ revision: decision.commit, branch, state: 'running' }),
      }),
    ])
  })

  test('a denied commit is recorded with why, and nothing is applied', async () => {
    const before = ((await api('/api/rollouts')).body.rollouts as unknown[]).length
    const fleet = await loadCommit(upstream, 'HEAD')
    const ops = fleet.targets.find((t) => t.kind === 'account' && t.group === 'ops')!
    const domain = String(ops.config.dns_domain)
    replaceOnce(upstream, ops.at.file, `dns_domain: ${domain}`, `dns_domain: new-${domain}`)
    const decision = await push('A new zone for an ops account')
    expect(decision.status).toBe('denied')
    expect(decision.detail).toContain("The ops group's DNS zones are never deleted by a rollout")
    expect(decision.rollout).toBeNull()
    expect(((await api('/api/rollouts')).body.rollouts as unknown[]).length).toBe(before)
    await git(upstream, ['reset', '-q', '--hard', 'HEAD~1'])
  })

  test('a commit that needs approvals waits for them, then rolls out', async () => {
    const dev = firstDevAccount(await loadCommit(upstream, 'HEAD'))
    await moveZoneOfTeam(upstream, dev.team)
    expect((await api('/api/webhook', { method: 'POST' })).status).toBe(200)
    const decision = ((await api('/api/revisions')).body.revisions as Decision[])[0]!
    expect(decision.status).toBe('waiting-approval')
    expect(decision.unmet.length).toBeGreaterThan(0)
    // Still waiting at the next poll: nothing was started.
    expect((await api('/api/webhook', { method: 'POST' })).body.revisions).toMatchObject([
      { status: 'waiting-approval' },
    ])
    // The controller's rollouts have no author, but an approval counts only by its owner: one
    // recorded by someone on no team of the account (left it since, say) does not.
    const db = testStore.store.db
    await createUser(db, 'left.the.team', 'member', { name: 'test', source: 'test' })
    await db
      .insertInto('approvals')
      .values(
        decision.unmet.map((approval) => ({ commit: decision.commit, approval, given_by: 'left.the.team' })),
      )
      .execute()
    expect((await api('/api/webhook', { method: 'POST' })).body.revisions).toMatchObject([
      { commit: decision.commit, status: 'waiting-approval' },
    ])
    expect(
      (
        await api('/api/approvals', {
          method: 'POST',
          body: { rev: decision.commit, approvals: decision.unmet },
        })
      ).status,
    ).toBe(201)
    await api('/api/webhook', { method: 'POST' })
    const after = ((await api('/api/revisions')).body.revisions as Decision[])[0]!
    expect(after).toMatchObject({ commit: decision.commit, status: 'rolling-out' })
    expect(
      await pollUntil(
        () => rolloutState(after.rollout!),
        (s) => s === 'succeeded',
        30_000,
      ),
    ).toBe('succeeded')
  })

  test('--revert-drift: drift is undone by a rollout of the revision last applied, limited to the drifted target', async () => {
    const dev = firstDevAccount(await loadCommit(upstream, 'HEAD'))
    const fault = await api('/api/sim/faults', { method: 'POST', body: { target: dev.id, kind: 'drift' } })
    expect(fault.status).toBe(201)
    type Report = {
      targets: { id: string; revision: string }[]
      reverts: { targets: string[]; revision: string; status: string; rollout: string | null; at: string }[]
    }
    // The controller's rollouts honour the stop like any: pulled, the revert is started but waits, paused.
    expect((await api('/api/stop', { method: 'POST', body: { reason: 'hands off the fleet' } })).status).toBe(
      200,
    )
    const found = (await api('/api/drift/check', { method: 'POST' })).body as unknown as Report
    expect(found.targets.map((t) => t.id)).toEqual([dev.id])
    const [revert] = found.reverts
    expect(revert).toMatchObject({
      targets: [dev.id],
      revision: found.targets[0]!.revision,
      status: 'started',
    })
    const rollout = (await api(`/api/rollouts/${revert!.rollout}`)).body as {
      createdBy: string
      policyTime: unknown
      stages: { waves: { targets: { id: string }[] }[] }[]
    }
    expect(rollout.createdBy).toBe('controller')
    // This server runs with --now: the operator's time, recorded as such.
    expect(rollout.policyTime).toEqual({ at: new Date(NOW).toISOString(), source: 'operator' })
    expect(rollout.stages.flatMap((s) => s.waves.flatMap((w) => w.targets.map((t) => t.id)))).toEqual([
      dev.id,
    ])
    expect(
      await pollUntil(
        () => rolloutState(revert!.rollout!),
        (state) => state === 'paused',
        10_000,
      ),
    ).toBe('paused')
    expect((await api('/api/drift/check', { method: 'POST' })).body.targets).toEqual(found.targets)
    expect((await api('/api/unstop', { method: 'POST' })).status).toBe(200)
    expect(
      await pollUntil(
        () => rolloutState(revert!.rollout!),
        (state) => state === 'succeeded',
        30_000,
      ),
    ).toBe('succeeded')
    // Undone: the next check finds no drift, and starts nothing.
    const after = (await api('/api/drift/check', { method: 'POST' })).body as unknown as Report
    expect(after.targets).toEqual([])
    expect(after.reverts).toEqual(found.reverts)
    const audit = (await api('/api/audit')).body.entries as { action: string; subject: string }[]
    expect(audit.find((e) => e.action === 'drift-revert')).toMatchObject({
      subject: dev.id,
      detail: { policyTime: { at: new Date(NOW).toISOString(), source: 'operator' } },
    })
    // The account's page says so, with the rollout linked.
    const page = await fetch(`${server.url}/accounts/${dev.id}`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    })
    expect(page.status).toBe(200)
    expect(await page.text()).toContain(
      `<b>Drift revert</b> ${revert!.at.slice(0, 16).replace('T', ' ')} UTC: <a href="/rollouts/${revert!.rollout}">`,
    )
  })

  test('a push hook may sign its body (X-Hub-Signature-256) instead of sending a token; a wrong signature is refused; each delivery is taken once', async () => {
    // As a forge sends it: ids beyond 32 bits are fine in a payload that no route reads.
    const body = JSON.stringify({ ref: `refs/heads/${branch}`, repository: { id: 98_765_432_109 } })
    const hook = (
      signature: string,
      headers: Record<string, string> = { 'x-github-delivery': randomUUID() },
    ) =>
      fetch(`${server.url}/api/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, ...headers },
        body,
      })
    const signed = `sha256=${createHmac('sha256', 'the hook secret').update(body).digest('hex')}`
    const delivery = randomUUID()
    const ok = await hook(signed, { 'x-github-delivery': delivery })
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as { outcome: string }).outcome).toBe('polled')
    const forged = await hook(`sha256=${createHmac('sha256', 'a guess').update(body).digest('hex')}`)
    expect(forged.status).toBe(401)
    expect(((await forged.json()) as { error: string }).error).toContain('does not match the body')
    expect((await hook('sha256=')).status).toBe(401)
    // Unsigned and without a token: sign in first.
    const anonymous = await fetch(`${server.url}/api/webhook`, { method: 'POST', body })
    expect(anonymous.status).toBe(401)

    // The same delivery again is a replay, whichever header carries its id.
    const replay = await hook(signed, { 'x-github-delivery': delivery })
    expect(replay.status).toBe(409)
    expect(((await replay.json()) as { error: string }).error).toBe(
      `webhook delivery ${delivery} (x-github-delivery) was accepted before; a delivery is taken once`,
    )
    expect((await hook(signed, { 'x-gitea-delivery': delivery })).status).toBe(409)
    const gitlab = randomUUID()
    expect((await hook(signed, { 'x-gitlab-event-uuid': gitlab })).status).toBe(200)
    expect((await hook(signed, { 'x-gitlab-event-uuid': gitlab })).status).toBe(409)
    // A signed delivery must name itself; a malformed id is refused too.
    const unnamed = await hook(signed, {})
    expect(unnamed.status).toBe(400)
    expect(((await unnamed.json()) as { error: string }).error).toContain('needs its id')
    expect((await hook(signed, { 'x-github-delivery': 'x'.repeat(201) })).status).toBe(400)
    expect((await hook(signed, { 'x-github-delivery': 'two words' })).status).toBe(400)
    // The ids are kept in the store, so a restarted server (or another replica) refuses them too.
    const kept = await testStore.store.db.selectFrom('webhook_deliveries').select('id').execute()
    expect(kept.map((r) => r.id)).toEqual(expect.arrayContaining([delivery, gitlab]))
  })

  // Last: it uses up the hook's allowance of this server.
  test('webhook deliveries are rate-limited: a burst, then 429 with Retry-After; refused ones do not count', async () => {
    const body = JSON.stringify({ ref: `refs/heads/${branch}` })
    const send = (signature: string) =>
      fetch(`${server.url}/api/webhook`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': signature,
          'x-github-delivery': randomUUID(),
        },
        body,
      })
    const signed = `sha256=${createHmac('sha256', 'the hook secret').update(body).digest('hex')}`
    const forged = `sha256=${createHmac('sha256', 'a guess').update(body).digest('hex')}`
    // A stranger's deliveries (a wrong signature) do not use up the hook's allowance.
    for (let i = 0; i < 12; i++) expect((await send(forged)).status).toBe(401)
    // Twice the burst at once: what is left of the burst is taken, the rest refused.
    const responses = await Promise.all(Array.from({ length: 2 * HOOK_BURST }, () => send(signed)))
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 200).length, String(statuses)).toBeGreaterThanOrEqual(1)
    expect(statuses.filter((s) => s === 429).length, String(statuses)).toBeGreaterThanOrEqual(HOOK_BURST)
    expect(
      statuses.every((s) => s === 200 || s === 429),
      String(statuses),
    ).toBe(true)
    const limited = responses.find((r) => r.status === 429)
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(((await limited!.json()) as { error: string }).error).toContain('too many webhook deliveries')
    await Promise.all(responses.filter((r) => r !== limited).map((r) => r.text()))
  })
})
