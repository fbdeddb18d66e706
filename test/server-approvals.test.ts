import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Fleet } from '../src/core/model/fleet-model.ts'
import { loadCommit } from '../src/rollout/runner.ts'
import { git } from '../src/source/git.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import { commitOnBranch } from './support/git-fixture.ts'
import { commitAll, setLogExpiry } from './support/rollout-fleet.ts'
import {
  computedPlanPage,
  json,
  moveZone,
  readStreamUntil,
  type ServerFleet,
  serverFleet,
  type TestUser,
} from './support/server-fleet.ts'
import { pollUntil, replaceOnce } from './support/sim-cli.ts'

describe.each(testBackends)('owned approvals and trusted revisions, on %s', (backend) => {
  const testStore = useTestStore(backend)
  let f: ServerFleet
  let fleet: Fleet
  /** A member of no team, a member of sre (fleet.yaml trust.owners), an admin who is on no team. */
  let loner: TestUser
  let sre: TestUser
  let admin2: TestUser
  beforeAll(async () => {
    f = await serverFleet(testStore.store.db)
    fleet = await loadCommit(f.repo, 'HEAD')
    loner = await f.signUp('no.team', 'member')
    const sreTeam = fleet.teams.get('sre')!
    sre = await f.signUp(
      sreTeam.members.find((m) => ![f.alice, f.bob, f.mallory].some((u) => u.name === m))!,
      'member',
    )
    admin2 = await f.signUp('second.admin', 'admin')
  }, 120_000)
  afterAll(async () => {
    await f?.close()
  })
  const approve = async (user: TestUser, approvals: string[], rev?: string) =>
    json(await user.api('/api/approvals', { method: 'POST', body: { approvals, ...(rev ? { rev } : {}) } }))
  const start = async (user: TestUser, body: Record<string, unknown> = {}) =>
    json(await user.api('/api/rollouts', { method: 'POST', body }))
  const stateOf = async (id: string) =>
    (await json(await f.viewer.api(`/api/rollouts/${id}`))).body.state as string
  /** The state of `target` in rollout `id` (undefined while it is in no wave). */
  const targetState = async (id: string, target: string) => {
    const status = (await json(await f.viewer.api(`/api/rollouts/${id}`))).body as {
      stages: { waves: { targets: { id: string; state: string }[] }[] }[]
    }
    return status.stages
      .flatMap((s) => s.waves)
      .flatMap((w) => w.targets)
      .find((t) => t.id === target)?.state
  }
  /** Ends a rollout that did what the test needed (running it to the end takes time, not coverage). */
  const letGo = async (id: string) => {
    const { status } = await json(await f.admin.api(`/api/rollouts/${id}/abort`, { method: 'POST' }))
    expect([200, 409]).toContain(status) // 409: it ended by itself already
  }

  test('approvals of a protected destruction: only its owners (or admins) record them; the author and a pattern never count', async () => {
    const account = await moveZone(f)
    const plan = (await json(await f.alice.api('/api/plans'))).body.plan as { approvalsRequired: string[] }
    const required = plan.approvalsRequired
    expect(required.length).toBeGreaterThan(0)
    expect(required.every((a) => a.startsWith(`${account.id}/`))).toBe(true)

    // The portal offers each protected destruction on its own, and only to those who may approve it.
    const portal = (user: TestUser) => computedPlanPage(() => user.api('/plans'))
    const alicePage = await portal(f.alice)
    expect(alicePage).not.toContain('Approve all')
    for (const address of required)
      expect(alicePage).toMatch(
        new RegExp(
          `<tr data-approval="${address}">.*<input type="hidden" name="approval" value="${address}" /><button type="submit">Approve</button>`,
        ),
      )
    expect(await portal(f.mallory)).not.toMatch(/<button[^>]*>Approve/)
    const form = await f.mallory.api('/approvals', {
      method: 'POST',
      body: new URLSearchParams([['approval', required[0]!]]).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(form.status).toBe(403)
    expect(await form.text()).toContain(`${f.mallory.name} cannot approve`)

    // Another team's member, a member of no team and a viewer may not approve alice's team's zone.
    const foreign = await approve(f.mallory, required)
    expect(foreign.status).toBe(403)
    expect(foreign.body.error).toContain(
      `${f.mallory.name} cannot approve "${required[0]}": it concerns team ${f.team}`,
    )
    expect(foreign.body.error).toContain(`ask a member of ${f.team}, or an admin, to approve it`)
    expect((await approve(loner, required)).body.error).toContain('no.team is a member of no team')
    expect((await approve(f.viewer, required)).status).toBe(403)
    // Nor by a pattern, however it is written, nor for the whole plan.
    const zones = `*/global/route53-hostedzones/* (expected ${required.length})`
    for (const pattern of [zones, '** (expected 99)'])
      expect((await approve(f.mallory, [pattern])).status, pattern).toBe(403)
    expect((await approve(f.mallory, ['plan/destructive-plan'])).body.error).toContain(`team ${f.team}`)
    // One foreign approval in a batch refuses the batch: nothing of it is recorded.
    expect((await approve(f.mallory, ['plan/x', required[0]!])).status).toBe(403)
    // An address of no target is for admins only; a change to the rules for trust.owners (sre).
    expect((await approve(f.alice, ['nowhere/global/x/Y'])).body.error).toContain('belongs to no target')
    expect((await approve(f.admin, ['nowhere/global/x/Y'])).status).toBe(201)
    const governance = 'governance/policies/freeze.yaml'
    expect((await approve(f.alice, [governance])).body.error).toContain(
      `${governance} changes the fleet's rules, which only admins and members of sre may approve`,
    )
    expect((await approve(sre, [governance])).status).toBe(201)
    // sre owns the rules, not alice's team's targets.
    expect((await approve(sre, [required[0]!])).status).toBe(403)
    expect(
      ((await json(await f.viewer.api('/api/approvals'))).body.approvals as { givenBy: string }[]).map(
        (a) => a.givenBy,
      ),
    ).toEqual(['admin', sre.name])

    // The author's own approvals never count: given with the start, or recorded.
    const given = await start(f.alice, { approvals: required })
    expect(given.status).toBe(403)
    expect(given.body.error).toContain(
      `needs an approval by someone other than ${f.alice.name}, who starts the rollout: `,
    )
    expect(given.body.error).toContain("the author's approvals never count")
    expect((await approve(f.alice, required)).status).toBe(201)
    expect((await start(f.alice)).status).toBe(403)
    // bob, of alice's team, approves by a pattern: it may not approve a protected destruction.
    expect((await approve(f.bob, [zones])).status).toBe(201)
    const byPattern = (await json(await f.alice.api(`/api/plans?approve=${encodeURIComponent(zones)}`))).body
      .plan as { verdict: string; findings: { rule: string }[] }
    expect(byPattern.verdict).toBe('requires-approval')
    expect(byPattern.findings.map((x) => x.rule)).toContain('approval-not-exact')
    expect((await start(f.alice)).body.error).toContain(`someone other than ${f.alice.name}`)
    // Exact addresses by bob count for alice.
    expect((await approve(f.bob, required)).status).toBe(201)
    const started = await start(f.alice)
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const id = started.body.id as string
    // The zone moves before the rollout is let go: the later tests plan from a fleet where it has,
    // so their own changes are not held by this test's protected destruction.
    expect(
      await pollUntil(
        () => targetState(id, account.id),
        (s) => s === 'succeeded',
        60_000,
      ),
    ).toBe('succeeded')
    await letGo(id)
    const audit = (await json(await f.viewer.api('/api/audit?action=rollout-start&limit=5'))).body
      .entries as {
      subject: string
      detail: { counted: { givenBy: string }[]; untrusted: boolean }
    }[]
    const entry = audit.find((e) => e.subject === id)!
    expect(entry.detail.untrusted).toBe(false)
    const counted = new Set(entry.detail.counted.map((c) => c.givenBy))
    expect(counted.has(f.bob.name)).toBe(true)
    expect(counted.has(f.alice.name)).toBe(false)
  })

  test('a change that hands a target to another team is still approved by the team that owns it on main; an elevated member approves, audited as such', async () => {
    const account = fleet.targets.find((t) => t.id === f.devAccount)!
    const otherTeam = [...fleet.teams.values()].find((t) => t.members.includes(f.mallory.name))!.id
    const commit = await commitOnBranch(f.repo, 'hand-over', (dir) => {
      replaceOnce(
        dir,
        account.at.file,
        `  name: ${account.name}\n  team: ${account.team}\n`,
        // It keeps its budget: its cost-center tag stays true (a cost center the tag contradicts is invalid).
        `  name: ${account.name}\n  team: ${otherTeam}\n  costCenter: "${account.tags['cost-center']}"\n`,
      )
      setLogExpiry(dir, { [account.id]: 40 })
    })
    const address = `${account.id}/global/any/Thing`
    const refused = await approve(f.mallory, [address], commit)
    expect(refused.status).toBe(403)
    expect(refused.body.error).toContain(`team ${account.team}`)
    // And alice, whose team owns it on main, cannot approve for the team it is handed to either.
    expect((await approve(f.alice, [address], commit)).body.error).toContain(`team ${otherTeam}`)
    expect((await approve(f.admin, [address], commit)).status).toBe(201)
    // Under emergency access mallory is an admin: the approval is recorded, and audited as elevated.
    const granted = await f.admin.api(`/api/users/${f.mallory.name}/elevations`, {
      method: 'POST',
      body: { reason: 'shop DNS outage, INC-19', minutes: 30 },
    })
    expect(granted.status).toBe(201)
    try {
      expect((await approve(f.mallory, [address], commit)).status).toBe(201)
      const entries = (await json(await f.viewer.api(`/api/audit?action=approve&actor=${f.mallory.name}`)))
        .body.entries as {
        actor: string
        subject: string
        detail: { approvals: string[]; elevated: boolean }
      }[]
      expect(entries[0]).toMatchObject({
        actor: f.mallory.name,
        subject: commit,
        detail: { approvals: [address], elevated: true },
      })
    } finally {
      await testStore.store.db
        .updateTable('elevations')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .execute()
    }
    expect((await approve(f.mallory, [address], commit)).status).toBe(403)
  })

  test('a stage is approved by an owner of its targets other than the author; the approval is audited', async () => {
    const prod = fleet.targets.find(
      (t) => t.kind === 'account' && t.team === f.team && fleet.stageOf.get(t.id) === 'stable',
    )!
    setLogExpiry(f.repo, { [prod.id]: 41 })
    await commitAll(f.repo, 'Logs for 41 days in a production account')
    const started = await start(f.alice)
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const id = started.body.id as string
    expect(
      await pollUntil(
        () => stateOf(id),
        (s) => s !== 'running',
        30_000,
      ),
    ).toBe('waiting-approval')
    const byAuthor = await json(await f.alice.api(`/api/rollouts/${id}/approve`, { method: 'POST' }))
    expect(byAuthor).toEqual({
      status: 403,
      body: {
        error: `${f.alice.name} started rollout ${id} and cannot also approve its stage stable: someone else who owns its targets (or an admin) must`,
      },
    })
    for (const user of [f.mallory, loner, f.viewer])
      expect(
        (await json(await user.api(`/api/rollouts/${id}/approve`, { method: 'POST' }))).status,
        user.name,
      ).toBe(403)
    expect(await stateOf(id)).toBe('waiting-approval')
    const approved = await json(await f.bob.api(`/api/rollouts/${id}/approve`, { method: 'POST' }))
    expect(approved.status).toBe(200)
    expect((approved.body.stages as { name: string; approvedBy: string | null }[]).at(-1)).toMatchObject({
      name: 'stable',
      approvedBy: f.bob.name,
    })
    await letGo(id)
    const audit = (await json(await f.viewer.api('/api/audit?action=rollout-approve&limit=5'))).body
      .entries as {
      actor: string
      subject: string
    }[]
    expect(audit.find((e) => e.subject === id)).toMatchObject({ actor: f.bob.name })
  })

  test('a revision not on main: a member is refused, an admin rolls it out, marked and audited as untrusted', async () => {
    const commit = await commitOnBranch(f.repo, 'feature', (dir) => setLogExpiry(dir, { [f.devAccount]: 42 }))
    const short = commit.slice(0, 12)
    const refusal = `revision ${short} is not on main (not reviewed and merged); merge it first, or ask an admin`
    for (const rev of ['feature', commit, short, 'refs/heads/feature', 'feature~0'])
      expect(await start(f.alice, { rev }), rev).toEqual({ status: 403, body: { error: refusal } })
    expect((await start(f.viewer, { rev: 'feature' })).status).toBe(403)
    const started = await start(f.admin, { rev: 'feature' })
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const id = started.body.id as string
    const status = (await json(await f.viewer.api(`/api/rollouts/${id}`))).body
    expect(status.untrusted).toBe(`revision ${short} is not on main (not reviewed and merged)`)
    // The stream ends with the rollout: read only until its first event is whole.
    const events = await readStreamUntil(await f.viewer.api(`/api/rollouts/${id}/events`), (text) =>
      /"rollout-started".*\n(?:id: \d+\n)?\n/.test(text),
    )
    expect(events).toContain('"untrusted":"revision')
    const entries = (await json(await f.viewer.api('/api/audit?action=rollout-start&limit=5'))).body
      .entries as {
      actor: string
      subject: string
      detail: { untrusted: boolean; trust: { branch: string; tip: string } }
    }[]
    expect(entries.find((e) => e.subject === id)).toMatchObject({
      actor: 'admin',
      detail: { untrusted: true, trust: { branch: 'main', tip: expect.stringMatching(/^[0-9a-f]{40}$/) } },
    })
    await letGo(id)
    // Merged into main, the same commit is trusted.
    await git(f.repo, ['merge', '-q', '--ff-only', 'feature'])
    expect((await json(await f.viewer.api(`/api/plans?rev=${commit}`))).status).toBe(200)
  })

  test('without the trusted branch nothing can be shown to be merged: only admins start rollouts', async () => {
    const main = (await git(f.repo, ['rev-parse', 'HEAD'])).toString().trim()
    replaceOnce(f.repo, 'fleet.yaml', 'branch: main', 'branch: release')
    setLogExpiry(f.repo, { [f.devAccount]: 43 })
    const commit = await commitAll(f.repo, 'The trusted branch is release, which does not exist')
    // The server reads trust.branch from the revision it serves: wait until it serves this one.
    await pollUntil(
      async () => (await json(await f.viewer.api('/api/teams'))).body.revision,
      (r) => r === commit,
      20_000,
    )
    const refused = await start(f.alice)
    expect(refused.status).toBe(403)
    expect(refused.body.error).toContain(
      "the trusted branch release is not in the server's repository (neither refs/heads/release nor refs/remotes/origin/release): until it is, only an admin may start a rollout",
    )
    const started = await start(admin2)
    expect(started.status, JSON.stringify(started.body)).toBe(201)
    const id = started.body.id as string
    expect((await json(await f.viewer.api(`/api/rollouts/${id}`))).body.untrusted).toContain(
      'the trusted branch release is not in',
    )
    await letGo(id)
    await git(f.repo, ['reset', '-q', '--hard', main])
  })
})
