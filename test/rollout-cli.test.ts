/**
 * End-to-end tests of `flotilla rollout …`, `stop` and `unstop` on the simulated example fleet,
 * in this process and as real processes, on the embedded store and (with `TEST_DATABASE_URL`)
 * on PostgreSQL. The tests of the first suite share one fleet and build on each other in order:
 * the first bootstraps it, the next ones change it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { queryZones } from '../src/providers/sim/dns-server.ts'
import { simDatabase } from '../src/providers/sim/sim-database.ts'
import type { RolloutStatus } from '../src/rollout/rollout-model.ts'
import { git } from '../src/source/git.ts'
import { testBackends } from '../src/store/test-store.ts'
import {
  cliAs,
  closedPort,
  commitAll,
  editClusterConfig,
  editRollout,
  inFleetStore,
  opsCluster,
  quickStages,
  setLogExpiry,
  stageNamed,
} from './support/rollout-fleet.ts'
import { runCaptured } from './support/run-cli.ts'
import {
  NOW,
  pollUntil,
  replaceOnce,
  type SimFleet,
  shopAccount,
  simFleet,
  simStatus,
  TEST_CLOCK,
  within,
  withoutTimeRules,
} from './support/sim-cli.ts'

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

describe.each(testBackends)('rollouts from the command line, on %s', (backend) => {
  let sim: SimFleet
  let shop: ReturnType<typeof shopAccount>
  beforeAll(async () => {
    sim = await simFleet(backend)
    shop = shopAccount(sim.fleet)
    editRollout(sim.repo, quickStages)
    await commitAll(sim.repo, 'Rollouts without bakes and without the Prometheus gate')
    expect((await sim.cli('sim', 'settings', '--latency-scale', '0')).code).toBe(0)
  })
  afterAll(async () => {
    await sim?.dispose()
  })

  const statusOf = async (id = ''): Promise<RolloutStatus> => {
    const run = await sim.cli('rollout', 'status', ...(id ? [id] : []), '--format', 'json')
    expect(run.code, run.stderr).toBe(0)
    return JSON.parse(run.stdout) as RolloutStatus
  }

  test('start --wait bootstraps up to the approval of production (exit 5); the author cannot approve, bob can (exit 0)', async () => {
    const started = await cliAs(sim, 'alice', 'rollout', 'start', '--wait')
    expect(started.code, started.stderr).toBe(5)
    const id = /^Started rollout (r-\d{8}-[0-9a-f]{6}) of HEAD \([0-9a-f]{12}\)\.$/m.exec(started.stdout)?.[1]
    expect(id, started.stdout).toBeDefined()
    // What it will do, stage by stage, before the events.
    expect(started.stdout).toMatch(/^\d+ targets change \(\d+ in production\): \d+ create\.$/m)
    expect(started.stdout).toMatch(
      /^ {2}\d\. stable: 10 targets \(\d+ in production\), 4 waves, no bake, gates [^\n]*, waits for an approval$/m,
    )
    expect(started.stdout).toContain('  waiting-approval (stable)\n')
    // Started on the store directly: it says which trust it used.
    expect(started.stderr).toMatch(
      /^judged and rolled out as an operator of the local store; trusted branch main at [0-9a-f]{7} \(the revision [0-9a-f]{7} is on it\)\n/,
    )
    expect(started.stdout).toMatch(
      new RegExp(`Rollout ${id}: waiting-approval \\(revision [0-9a-f]{12}, by alice\\)`),
    )
    expect(started.stdout).toMatch(
      / {2}stable {5}waiting-approval 0\/10 targets in 4 waves, approval required\n/,
    )
    // The policies saw the clock of the machine that planned (fixed for in-process tests).
    expect(started.stdout).toContain(
      `  policy time: ${TEST_CLOCK().at} (the clock of the machine that planned)\n`,
    )

    const waiting = await statusOf()
    expect(Object.keys(waiting).sort()).toEqual([
      'createdAt',
      'createdBy',
      'haltReason',
      'id',
      'policyTime',
      'revision',
      'stages',
      'state',
      'untrusted',
    ])
    expect(waiting).toMatchObject({
      id,
      state: 'waiting-approval',
      createdBy: 'alice',
      haltReason: null,
      untrusted: null,
    })
    expect(waiting.policyTime).toEqual({ at: '2026-11-10T10:00:00.000Z', source: 'clock' })
    expect(waiting.stages.map((s) => [s.name, s.state, s.approval])).toEqual([
      ['dev', 'succeeded', 'none'],
      ['alpha', 'succeeded', 'none'],
      ['ops', 'succeeded', 'none'],
      ['beta', 'succeeded', 'none'],
      ['stable', 'waiting-approval', 'required'],
    ])
    const ops = waiting.stages.find((s) => s.name === 'ops')!
    expect(ops.gates.map((g) => [g.name, g.state])).toEqual([
      ['healthy', 'passed'],
      ['dns', 'passed'],
    ])
    expect(ops.waves[0]!.targets[0]).toEqual({
      id: expect.any(String),
      state: 'succeeded',
      attempts: 1,
      reason: null,
    })

    const self = await cliAs(sim, 'alice', 'rollout', 'approve', id!)
    expect(self).toMatchObject({
      code: 1,
      stderr: `error: alice started rollout ${id} and cannot also approve its stage stable: someone else must\n`,
    })
    const approved = await cliAs(sim, 'bob', 'rollout', 'approve', id!, '--wait')
    expect(approved.code, approved.stderr).toBe(0)
    expect(approved.stdout).toContain(`Approved stage stable of ${id}.\n`)
    expect(approved.stdout).toMatch(/ {2}stable {5}succeeded {8}10\/10 targets in 4 waves, approval by bob\n/)
    expect((await statusOf(id)).state).toBe('succeeded')

    expect((await sim.cli('plan', '--now', NOW)).code).toBe(0)
    const again = await sim.cli('rollout', 'start')
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(
      /^error: HEAD \([0-9a-f]{12}\) changes nothing: the fleet already is what it says\n$/,
    )
    expect((await simStatus(sim)).services.down).toEqual([])
  })

  test('a change that breaks DNS halts in its first stage and is rolled back there; production is not touched (exit 3)', async () => {
    // The ingress names of an ops cluster and of the shop's cluster move out of their accounts'
    // zones: allowed by every policy, but external-dns publishes nothing outside its zone.
    const { cluster: opsTarget, domain: opsDomain } = opsCluster(sim.fleet)
    const shopDomain = String(shop.cluster.config.ingress_domain)
    const moved = (domain: string) => domain.replace(/\.example\.org$/, '.example.net')
    editClusterConfig(sim.repo, opsTarget.id, { ingress_domain: moved(opsDomain) })
    editClusterConfig(sim.repo, shop.cluster.id, { ingress_domain: moved(shopDomain) })
    await commitAll(sim.repo, 'Ingress names under example.net')
    const preview = await sim.cli('plan', '--now', NOW)
    expect(preview.code).toBe(2) // changes, all allowed

    const resolves = () =>
      inFleetStore(sim, async (opened) => {
        const zones = await opened.simulator()!.zones()
        return [opsDomain, shopDomain].map((domain) => queryZones(zones, `probe.${domain}`).rcode)
      })
    const shopObjects = () =>
      inFleetStore(sim, async (opened) =>
        (await simDatabase(opened.db))
          .selectFrom('sim_objects')
          .select(['address', 'object', 'ready_at'])
          .where('cluster', '=', shop.cluster.id)
          .orderBy('address')
          .execute(),
      )
    expect(await resolves()).toEqual(['NOERROR', 'NOERROR'])
    const before = await shopObjects()

    const run = await cliAs(sim, 'alice', 'rollout', 'start', '--wait')
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(3)
    expect(run.stdout).toContain(
      `  rolled-back: 1 target failed in stage ops (tolerance 0): ${opsTarget.id}: health gate "healthy" failed`,
    )
    const status = await statusOf()
    expect(status.state).toBe('rolled-back')
    expect(status.stages.map((s) => [s.name, s.state])).toEqual([
      ['ops', 'failed'],
      ['stable', 'pending'],
    ])
    const [opsStage, stable] = status.stages
    expect(opsStage!.waves[0]!.targets).toEqual([
      { id: opsTarget.id, state: 'rolled-back', attempts: 1, reason: expect.any(String) },
    ])
    // Both gates see it: the services behind the cluster's ingress and the name itself.
    expect(opsStage!.gates.map((g) => [g.name, g.state])).toEqual([
      ['healthy', 'failed'],
      ['dns', 'failed'],
    ])
    expect(status.haltReason).toContain(`name *.${moved(opsDomain)}: does not resolve (REFUSED)`)
    expect(status.haltReason).toContain(`dns gate "dns" failed for cluster ${opsTarget.id}`)
    expect(status.haltReason).toContain(`${moved(opsDomain)}: refused`)
    expect(stable!.waves.flatMap((w) => w.targets)).toEqual([
      { id: shop.cluster.id, state: 'pending', attempts: 0, reason: null },
    ])
    // The rollback published the ops cluster's names again; the shop's cluster never changed.
    expect(await resolves()).toEqual(['NOERROR', 'NOERROR'])
    expect(await shopObjects()).toEqual(before)
    const stillPlanned = await sim.cli('plan', '--now', NOW, '--format', 'json')
    const planned = (JSON.parse(stillPlanned.stdout) as { targets: { id: string }[] }).targets.map(
      (t) => t.id,
    )
    expect(planned.sort()).toEqual([opsTarget.id, shop.cluster.id].sort())
    // What the rollout locked is free again.
    const locks = await inFleetStore(sim, (opened) => opened.db.selectFrom('locks').selectAll().execute())
    expect(locks).toEqual([])

    // Back to the names in the zones, for the tests after this one.
    editClusterConfig(sim.repo, opsTarget.id, { ingress_domain: opsDomain })
    editClusterConfig(sim.repo, shop.cluster.id, { ingress_domain: shopDomain })
    await commitAll(sim.repo, 'Ingress names back under example.org')
    expect((await sim.cli('plan', '--now', NOW)).code).toBe(0)
  })

  test('operator controls: pause, resume, abort, retry and skip, stop and unstop, and their errors (exit 1)', async () => {
    const devAccount = sim.fleet.targets.find(
      (t) => t.kind === 'account' && sim.fleet.stageOf.get(t.id) === 'dev',
    )!
    setLogExpiry(sim.repo, { [devAccount.id]: 35, [shop.account.id]: 401 })
    await commitAll(sim.repo, 'Log expiry of the dev and the shop accounts')

    const started = await cliAs(sim, 'alice', 'rollout', 'start', '--format', 'json')
    expect(started.code, started.stderr).toBe(0)
    expect(started.stdout).toMatch(/^\{"id":"r-\d{8}-[0-9a-f]{6}"\}\n$/)
    const { id } = JSON.parse(started.stdout) as { id: string }
    // Its targets are held: another rollout of them queues behind it.
    const queued = await sim.cli('rollout', 'start')
    expect(queued.code, queued.stderr).toBe(0)
    expect(queued.stdout).toMatch(
      new RegExp(
        `^Queued rollout r-\\d{8}-[0-9a-f]{6} of HEAD \\([0-9a-f]{12}\\) behind ${id}: it plans again and starts when nothing else holds its targets\\.\nRun it with: flotilla rollout resume r-`,
      ),
    )
    const queuedId = /^Queued rollout (\S+)/.exec(queued.stdout)![1]!
    expect((await statusOf(queuedId)).state).toBe('queued')

    const expectError = async (argv: string[], message: string) => {
      const run = await sim.cli(...argv)
      expect(run, argv.join(' ')).toMatchObject({ code: 1, stderr: `error: ${message}\n` })
    }
    expect((await sim.cli('rollout', 'pause', id)).code).toBe(0)
    expect((await statusOf(id)).state).toBe('paused')
    await expectError(
      ['rollout', 'pause', id],
      `cannot pause rollout ${id}: it is paused (only running or waiting-approval or queued can be)`,
    )
    await expectError(
      ['rollout', 'approve', id],
      `cannot approve rollout ${id}: it is paused (only waiting-approval can be)`,
    )
    await expectError(
      ['rollout', 'retry', id, devAccount.id],
      `target ${devAccount.id} of rollout ${id} is pending; only a failed target can be retried or skipped`,
    )
    await expectError(['rollout', 'skip', id, 'nope'], `rollout ${id} has no target nope`)
    await expectError(
      ['rollout', 'pause', 'r-20260101-000000'],
      'no rollout r-20260101-000000; run "flotilla rollout status" to see the latest',
    )
    await expectError(['rollout', 'status', 'r-20260101-000000'], 'no rollout r-20260101-000000')
    expect((await sim.cli('rollout', 'retry', id)).code).toBe(1) // the target is required

    // The stop pauses what runs; resume waits for unstop.
    expect((await sim.cli('rollout', 'resume', id)).code).toBe(0)
    expect((await statusOf(id)).state).toBe('running')
    const stop = await cliAs(sim, 'carol', 'stop', '--reason', 'an incident', '--format', 'json')
    expect(stop).toMatchObject({
      code: 0,
      stdout: `${JSON.stringify({ stopped: true, paused: [id, queuedId] })}\n`,
    })
    expect(await statusOf(id)).toMatchObject({ state: 'paused', haltReason: 'fleet-wide stop: an incident' })
    await expectError(
      ['rollout', 'resume', id],
      'the fleet-wide stop is on (an incident, by carol); "flotilla unstop" first',
    )
    const unstop = await sim.cli('unstop', '--format', 'json')
    expect(unstop).toMatchObject({
      code: 0,
      stdout: `${JSON.stringify({ stopped: false, resumed: [id, queuedId] })}\n`,
    })
    expect((await statusOf(id)).state).toBe('running')
    expect((await statusOf(queuedId)).state).toBe('queued') // back in the queue, not running past it

    const aborted = await cliAs(sim, 'alice', 'rollout', 'abort', id)
    expect(aborted.code).toBe(0)
    expect(aborted.stdout).toContain(`Rollout ${id}: aborted`)
    expect(aborted.stdout).toContain('  why: aborted by alice\n')
    await expectError(['rollout', 'abort', id], `rollout ${id} is already aborted`)
    await expectError(
      ['rollout', 'resume', id],
      `cannot resume rollout ${id}: it is aborted (only paused or running or queued can be)`,
    )

    // Aborted, it let go of its targets: the next rollout of them runs to the end.
    const next = await cliAs(sim, 'alice', 'rollout', 'start', '--format', 'json')
    expect(next.code, next.stderr).toBe(0)
    const { id: nextId } = JSON.parse(next.stdout) as { id: string }
    expect(await statusOf(queuedId)).toMatchObject({
      state: 'aborted',
      haltReason: `superseded by ${nextId}`,
    })
    // Another process holds it for 2 s more: resume --wait waits for it to let go, then runs it.
    await inFleetStore(sim, (opened) =>
      opened.db
        .updateTable('rollouts')
        .set({ runner: 'elsewhere.example:4242', lease_until: new Date(Date.now() + 2000) })
        .where('id', '=', nextId)
        .execute(),
    )
    const resumed = await sim.cli('rollout', 'resume', nextId, '--wait', '--format', 'json')
    expect(resumed.code, resumed.stderr).toBe(5) // the shop account is production: approval first
    expect((JSON.parse(resumed.stdout) as RolloutStatus).state).toBe('waiting-approval')
    const done = await cliAs(sim, 'bob', 'rollout', 'approve', nextId, '--wait', '--format', 'json')
    expect(done.code, done.stderr).toBe(0)
    expect((JSON.parse(done.stdout) as RolloutStatus).state).toBe('succeeded')
  })

  test('plans that are not allowed do not start (exit 3); neither does a revision that changes nothing (exit 1)', async () => {
    // A production change on a Saturday needs an approval (the example's weekend rule).
    setLogExpiry(sim.repo, { [shop.account.id]: 402 })
    await commitAll(sim.repo, 'Log expiry of the shop account')
    // It sees the machine's clock: on a Saturday, not because the one starting it says so.
    const saturday = () => ({ at: '2026-11-14T10:00:00.000Z', source: 'clock' as const })
    const weekend = await sim.inProcess(() =>
      runCaptured(['rollout', 'start', '--repo', sim.repo], process.cwd(), saturday),
    )
    expect(weekend.code).toBe(3)
    expect(weekend.stderr).toMatch(
      /^error: the plan of HEAD is requires-approval, a rollout needs it allowed: approvals missing: /,
    )
    // A time of its own is refused (a usage error), on a Saturday or any other day.
    for (const now of ['2026-11-10T10:00:00Z', '2026-11-14T10:00:00Z']) {
      const chosen = await sim.cli('rollout', 'start', '--now', now)
      expect(chosen.code).toBe(1)
      expect(chosen.stderr).toMatch(/^error: "flotilla rollout start" does not take --now: /)
    }
    // Moving an ops zone is denied outright.
    const ops = sim.fleet.targets.find((t) => t.kind === 'account' && t.group === 'ops')!
    const domain = String(ops.config.dns_domain)
    replaceOnce(sim.repo, ops.at.file, `dns_domain: ${domain}`, `dns_domain: new-${domain}`)
    await commitAll(sim.repo, 'A new zone for an ops account')
    const denied = await sim.cli('rollout', 'start')
    expect(denied.code).toBe(3)
    expect(denied.stderr).toMatch(/^error: the plan of HEAD is denied, a rollout needs it allowed: /)
    expect(denied.stderr).toContain("The ops group's DNS zones are never deleted by a rollout")
    await git(sim.repo, ['reset', '-q', '--hard', 'HEAD~1'])
    const none = await sim.cli('rollout', 'status', '--format', 'json')
    expect((JSON.parse(none.stdout) as RolloutStatus).state).toBe('succeeded') // nothing new was recorded
  })

  test('on a terminal, start shows what it would do and asks; only a yes starts it; --preview and a no start nothing', async () => {
    const dev = sim.fleet.targets.find((t) => t.kind === 'account' && sim.fleet.stageOf.get(t.id) === 'dev')!
    setLogExpiry(sim.repo, { [dev.id]: 44 })
    await commitAll(sim.repo, 'Log expiry of a dev account')
    /** The latest rollout's id (none before the first). */
    const latest = async () => {
      const run = await sim.cli('rollout', 'status', '--format', 'json')
      return run.code === 0 ? (JSON.parse(run.stdout) as { id?: string } | null)?.id : undefined
    }
    const before = await latest()
    const asked: string[] = []
    const start = (answer: boolean | undefined, ...args: string[]) =>
      sim.inProcess(() =>
        runCaptured(
          ['rollout', 'start', ...args, '--repo', sim.repo],
          process.cwd(),
          TEST_CLOCK,
          answer === undefined
            ? undefined
            : async (question) => {
                asked.push(question)
                return answer
              },
        ),
      )
    const shown =
      /^A rollout of HEAD \([0-9a-f]{12}\) would do this; nothing was started\.\n\d+ targets? changes? \(\d+ in production\): [^\n]+\.\nStages, in order:\n {2}1\. dev: \d+ targets?, \d+ waves?, no bake/
    const declined = await start(false)
    expect([declined.code, declined.stderr]).toEqual([1, 'Nothing was started.\n'])
    expect(declined.stdout).toMatch(shown)
    expect(asked).toEqual(['Start this rollout? [y/N] '])
    const previewed = await start(undefined, '--preview')
    expect(previewed.code, previewed.stderr).toBe(0)
    expect(previewed.stdout).toMatch(shown)
    const json = await start(undefined, '--preview', '--format', 'json')
    const { ref, preview } = JSON.parse(json.stdout) as {
      ref: string
      preview: { stages: { name: string }[] }
    }
    expect([ref, preview.stages[0]?.name]).toEqual(['HEAD', 'dev'])
    expect(await latest()).toBe(before) // none of them started anything
    // A yes starts it (aborted here: the tests after this one start their own).
    const confirmed = await start(true)
    expect(confirmed.code, confirmed.stderr).toBe(0)
    expect(asked).toHaveLength(2)
    const id = /^Started rollout (r-\S+) /m.exec(confirmed.stdout)?.[1]
    expect(id, confirmed.stdout).toBeDefined()
    expect(await latest()).toBe(id)
    const aborted = await sim.cli('rollout', 'abort', id!)
    expect(aborted.code, aborted.stderr).toBe(0)
  })

  test('status --follow prints every event until the rollout ends; --metrics-port serves the engine metrics while --wait runs', {
    timeout: 60_000,
  }, async () => {
    const devAccount = sim.fleet.targets.find(
      (t) => t.kind === 'account' && sim.fleet.stageOf.get(t.id) === 'dev',
    )!
    // (The shop account back to what it has: the change of the test before was never rolled out.)
    setLogExpiry(sim.repo, { [devAccount.id]: 37, [shop.account.id]: 401 })
    await commitAll(sim.repo, 'Log expiry of a dev account')
    // Stacks take seconds again, so that the rollout is still running while it is scraped.
    expect((await sim.cli('sim', 'settings', '--latency-scale', '1')).code).toBe(0)
    try {
      const port = await closedPort()
      const run = sim.spawn('rollout', 'start', '--wait', '--metrics-port', String(port))
      const id = /^Started rollout (\S+) /.exec(await run.firstStdoutLine(30_000))?.[1]
      expect(id, run.stderr()).toBeDefined()
      const url = `http://127.0.0.1:${port}/metrics`
      const running = await pollUntil(
        () =>
          fetch(url, { signal: AbortSignal.timeout(5000) }).then(
            (r) => r.text(),
            () => '',
          ),
        (text) => /^flotilla_rollouts\{state="running"\} [1-9]/m.test(text),
        20_000,
      )
      expect(running).toMatch(/^flotilla_rollouts\{state="running"\} 1$/m)
      expect(running).toMatch(/^flotilla_fleet_stopped 0$/m)
      expect(running).toContain('# TYPE flotilla_rollout_gate_duration_seconds histogram')
      // With PostgreSQL another process can follow it while it runs; the embedded store is one
      // process's, so there it is followed once the --wait let go.
      const follow = async () => sim.cli('rollout', 'status', id!, '--follow', '--format', 'json')
      const followed = backend === 'postgres' ? await follow() : undefined
      const end = await within(run.exited, 40_000, 'the rollout')
      expect(end, run.stdout() + run.stderr()).toEqual({ code: 0, signal: null })
      expect(run.stdout()).toContain(`Metrics: ${url}\n`)
      for (const result of [followed ?? (await follow()), await follow()]) {
        expect(result.code, result.stderr).toBe(0)
        const lines = result.stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Record<string, unknown>)
        const status = lines.at(-1) as unknown as RolloutStatus
        expect(status).toMatchObject({ id, state: 'succeeded' })
        const events = lines.slice(0, -1)
        const ids = events.map((e) => e.id as number)
        expect(ids).toEqual([...ids].sort((a, b) => a - b))
        expect(events.map((e) => e.type)).toEqual(
          expect.arrayContaining(['rollout-started', 'target-applying', 'target-succeeded', 'succeeded']),
        )
        expect(events.at(-1)).toMatchObject({ type: 'succeeded', rolloutId: id })
      }
      // In text: the status, the events, the status again.
      const text = await sim.cli('rollout', 'status', id!, '--follow')
      expect(text.code).toBe(0)
      expect(text.stdout).toMatch(
        new RegExp(
          `^Rollout ${id}: succeeded[^]*  target-succeeded ${devAccount.id} \\(dev\\)\n[^]*Rollout ${id}: succeeded`,
        ),
      )
    } finally {
      expect((await sim.cli('sim', 'settings', '--latency-scale', '0')).code).toBe(0)
    }
  })

  test('apply and restore pass the gates a rollout passes: refused while a rollout holds the target or the fleet is stopped, naming it (exit 1), and audited', async () => {
    const devAccount = sim.fleet.targets.find(
      (t) => t.kind === 'account' && sim.fleet.stageOf.get(t.id) === 'dev',
    )!
    setLogExpiry(sim.repo, { [devAccount.id]: 38 })
    await commitAll(sim.repo, 'Log expiry of a dev account, for the gates')
    // Started, not run: it holds its targets until it ends or is aborted.
    const started = await cliAs(sim, 'alice', 'rollout', 'start', '--format', 'json')
    expect(started.code, started.stderr).toBe(0)
    const { id } = JSON.parse(started.stdout) as { id: string }
    const held = `target ${devAccount.id} is held by rollout ${id} (running), which changes it; see it with "flotilla rollout status ${id}" (GET /api/rollouts/${id}, or /rollouts/${id} in the portal), and try again once it has ended or been aborted`
    // By id or by name, from the working tree or the commit: the same target, the same refusal.
    for (const argv of [[devAccount.id], [devAccount.name], [devAccount.id, '--rev', 'HEAD']]) {
      const apply = await sim.cli('apply', '--target', ...argv)
      expect(apply, argv.join(' ')).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: apply of ${devAccount.id} refused: ${held}\n`,
      })
    }

    expect((await cliAs(sim, 'carol', 'stop', '--reason', 'the DNS incident')).code).toBe(0)
    const snapshot = 'snap-20261110-gate01'
    await inFleetStore(sim, (opened) =>
      opened.db
        .insertInto('snapshots')
        .values({
          id: snapshot,
          target: shop.account.id,
          address: `${shop.account.id}/global/route53-hostedzones/HostedZone`,
          type: 'AWS::Route53::HostedZone',
          content: '{}',
          provider: 'sim',
          description: 'zone of the shop',
        })
        .execute(),
    )
    const stopped =
      'the fleet-wide stop is on \\("the DNS incident", pulled by carol at [\\d:.TZ-]+\\)\\. Nothing is applied or restored while it is on; an admin releases it with "flotilla unstop"'
    const apply = await sim.cli('apply', '--target', shop.cluster.id)
    expect(apply.code).toBe(1)
    expect(apply.stderr).toMatch(new RegExp(`^error: apply of ${shop.cluster.id} refused: ${stopped}`))
    const restore = await sim.cli('restore', snapshot)
    expect(restore.code).toBe(1)
    expect(restore.stderr).toMatch(
      new RegExp(
        `^error: restore of snapshot ${snapshot} \\(target ${shop.account.id}\\) refused: ${stopped}`,
      ),
    )
    const refused = await inFleetStore(sim, (opened) =>
      opened.db
        .selectFrom('audit_log')
        .select(['action', 'subject'])
        .where('action', 'like', '%-refused')
        .orderBy('id')
        .execute(),
    )
    expect(refused.map((e) => `${e.action} ${e.subject}`)).toEqual([
      ...Array(3).fill(`apply-refused ${devAccount.id}`),
      `apply-refused ${shop.cluster.id}`,
      `restore-refused ${shop.account.id}`,
    ])

    // Released, and the rollout aborted: the target is free, and the apply's entry keeps the policy time.
    expect((await sim.cli('unstop')).code).toBe(0)
    expect((await cliAs(sim, 'alice', 'rollout', 'abort', id)).code).toBe(0)
    const applied = await sim.cli('apply', '--target', devAccount.id)
    expect(applied.code, applied.stderr).toBe(0)
    expect(applied.stdout).toMatch(new RegExp(`^Applied \\d+ operations? to ${devAccount.id} `, 'm'))
    const entry = await inFleetStore(sim, (opened) =>
      opened.db
        .selectFrom('audit_log')
        .select('detail')
        .where('action', '=', 'apply')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow(),
    )
    expect(entry.detail).toMatchObject({ policyTime: { at: TEST_CLOCK().at, source: 'clock' } })
    await inFleetStore(sim, (opened) =>
      opened.db.deleteFrom('snapshots').where('id', '=', snapshot).execute(),
    )
  })
})

describe.each(testBackends)('a rollout killed with SIGKILL, on %s', (backend) => {
  let sim: SimFleet
  beforeAll(async () => {
    sim = await simFleet(backend)
    editRollout(sim.repo, (rollout) => {
      quickStages(rollout)
      for (const stage of rollout.stages) {
        stage.maxParallel = 20
        delete stage.approval
      }
      stageNamed(rollout, 'stable').waves = ['50%', '100%']
    })
    // Real processes see the real clock: no weekend rule to need an approval on some days.
    withoutTimeRules(sim.repo)
    await commitAll(sim.repo, 'Every stage at once, without approvals and without time rules')
  })
  afterAll(async () => {
    await sim?.dispose()
  })

  // Real processes, each starting in 1 to 3 s, and the stacks' own time: slower than the default bound.
  test('kill -9 during waves, twice; resume finishes with every target applied once', {
    timeout: 90_000,
  }, async () => {
    const started = Date.now()
    // At scale 0.25 a stack takes 0.4 to 1.75 s: a kill lands while stacks are being created.
    expect((await sim.cli('sim', 'settings', '--latency-scale', '0.25')).code).toBe(0)
    const rounds: { command: string; delayMs: number; ended: string; stdout: string }[] = []
    const report = () => JSON.stringify(rounds, null, 2)
    const killLater = async (command: string, run: ReturnType<SimFleet['spawn']>, delayMs: number) => {
      await Promise.race([sleep(delayMs), run.exited])
      run.child.kill('SIGKILL')
      const end = await run.waitForExit(10_000)
      rounds.push({
        command,
        delayMs,
        ended: end.signal ?? `exit ${end.code}`,
        stdout: run.stdout().slice(-400),
      })
    }

    const start = sim.spawn('rollout', 'start', '--wait')
    const line = await start.firstStdoutLine(30_000)
    const id = /^Started rollout (\S+) /.exec(line)?.[1]
    expect(id, `${line}\n${start.stderr()}`).toBeDefined()
    await killLater('start', start, 1000 + Math.floor(Math.random() * 3000))
    const resumed = sim.spawn('rollout', 'resume', id!, '--wait')
    await resumed.firstStdoutLine(30_000)
    await killLater('resume', resumed, 500 + Math.floor(Math.random() * 3000))
    for (const round of rounds) expect(round.ended, report()).toBe('SIGKILL')

    const last = sim.spawn('rollout', 'resume', id!, '--wait')
    const end = await within(last.exited, 60_000, 'the last resume')
    expect(end, `${report()}\n${last.stdout()}\n${last.stderr()}`).toEqual({ code: 0, signal: null })
    expect(last.stdout()).toContain(`Rollout ${id}: succeeded`)

    const { stacks, targets, events } = await inFleetStore(sim, async (opened) => ({
      stacks: await (await simDatabase(opened.db))
        .selectFrom('sim_stack_events')
        .select(['stack', 'status'])
        .where('resource_type', '=', 'AWS::CloudFormation::Stack')
        .execute(),
      targets: await opened.db
        .selectFrom('rollout_targets')
        .select(['target', 'state', 'attempts'])
        .where('rollout_id', '=', id!)
        .execute(),
      events: await opened.db
        .selectFrom('rollout_events')
        .select(['id', 'type', 'target'])
        .where('rollout_id', '=', id!)
        .orderBy('id')
        .execute(),
    }))
    // Every stack was created once: no apply ran twice, whatever the kills interrupted.
    const desiredStacks = [...sim.fleet.desired.values()].flatMap((d) => d.stacks.map((s) => s.address))
    const creates = new Map<string, number>()
    for (const event of stacks.filter((e) => e.status === 'CREATE_IN_PROGRESS'))
      creates.set(event.stack, (creates.get(event.stack) ?? 0) + 1)
    expect([...creates.keys()].sort(), report()).toEqual([...desiredStacks].sort())
    expect(
      [...creates.entries()].filter(([, n]) => n !== 1),
      report(),
    ).toEqual([])
    expect(stacks.filter((e) => /FAILED|ROLLBACK|DELETE/.test(e.status))).toEqual([])
    // Every target succeeded in its first attempt, with one event of each step.
    expect(targets.length).toBeGreaterThan(30)
    for (const target of targets) expect(target, report()).toMatchObject({ state: 'succeeded', attempts: 1 })
    for (const type of ['target-applying', 'target-applied', 'target-succeeded']) {
      const seen = events.filter((e) => e.type === type).map((e) => e.target)
      expect(seen.sort(), type).toEqual(targets.map((t) => t.target).sort())
    }
    expect(events.filter((e) => e.type === 'succeeded')).toHaveLength(1)
    // Each restart recorded `resumed`; a kill interrupted the target steps begun before it and
    // finished after it (at least one kill landed in the middle of a wave).
    const interrupted = events
      .filter((e) => e.type === 'resumed')
      .map(
        (resume) =>
          targets.filter((t) => {
            const mine = events.filter((e) => e.target === t.target)
            const began = mine.find((e) => e.type === 'target-applying')!.id
            const ended = mine.find((e) => e.type === 'target-succeeded')!.id
            return began < resume.id && resume.id < ended
          }).length,
      )
    expect(interrupted, report()).toHaveLength(2)
    expect(Math.max(...interrupted), report()).toBeGreaterThan(0)
    expect((await sim.cli('plan', '--now', NOW)).code).toBe(0)
    expect(Date.now() - started).toBeLessThan(90_000)
  })
})
