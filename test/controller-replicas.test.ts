/**
 * Three `flotilla serve --follow` processes on one PostgreSQL: one leads the controller and rolls
 * the followed commit out by itself; the process running the rollout is killed with SIGKILL in
 * the middle of it, and another replica finishes it with every target applied once.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { simDatabase } from '../src/providers/sim/sim-database.ts'
import { git } from '../src/source/git.ts'
import { commitAll, editRollout, inFleetStore, quickStages } from './support/rollout-fleet.ts'
import { type CliProcess, NOW, pollUntil, type SimFleet, simFleet, within } from './support/sim-cli.ts'

describe.skipIf(!process.env.TEST_DATABASE_URL)('replicas of the server on one PostgreSQL', () => {
  let sim: SimFleet
  let branch: string
  beforeAll(async () => {
    sim = await simFleet('postgres')
    editRollout(sim.repo, (rollout) => {
      quickStages(rollout)
      for (const stage of rollout.stages) {
        stage.maxParallel = 4
        delete stage.approval
      }
    })
    await commitAll(sim.repo, 'Every stage without approvals')
    branch = (await git(sim.repo, ['rev-parse', '--abbrev-ref', 'HEAD'])).toString().trim()
  }, 60_000)
  afterAll(async () => {
    await sim?.dispose()
  })

  test('the leader rolls the followed commit out; killed mid-rollout, another replica finishes it, every target applied once', {
    timeout: 150_000,
  }, async () => {
    // At scale 0.25 a stack takes 0.4 to 1.75 s: the rollout is under way for a while.
    expect((await sim.cli('sim', 'settings', '--latency-scale', '0.25')).code).toBe(0)
    const data = mkdtempSync(join(tmpdir(), 'flotilla-replicas-'))
    const replica = (n: number): CliProcess =>
      sim.spawn(
        'serve',
        '--follow',
        sim.repo,
        '--branch',
        branch,
        '--port',
        '0',
        '--poll-interval',
        '2',
        '--now',
        NOW,
        '--data',
        join(data, `r${n}`),
      )
    // One after the other: the first creates the admin and prints its token.
    const first = replica(1)
    expect(await first.firstStdoutLine(60_000)).toMatch(/^Flotilla is following /)
    const token = await pollUntil(
      async () => /Admin token: (flt_\S+)/.exec(first.stdout())?.[1],
      (t) => t !== undefined,
      30_000,
    )
    const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(first.stdout())![1]!
    const replicas = [first, replica(2), replica(3)]
    for (const r of replicas.slice(1)) await r.firstStdoutLine(60_000)
    const api = async (base: string, path: string) =>
      (await (await fetch(base + path, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<
        string,
        unknown
      >

    // The leader decides on the commit by itself and starts a rollout.
    type Decision = { status: string; rollout: string | null }
    const decided = await pollUntil(
      async () => ((await api(url, '/api/revisions')).revisions as Decision[])[0],
      (d) => d?.status === 'rolling-out',
      60_000,
    )
    expect(decided).toMatchObject({ status: 'rolling-out' })
    const id = decided!.rollout!
    // Exactly one replica leads.
    const leads = await Promise.all(
      replicas.map(
        async (r) =>
          (await api(/on (http:\/\/127\.0\.0\.1:\d+)/.exec(r.stdout())![1]!, '/api/revisions')).leads,
      ),
    )
    expect(leads.filter(Boolean)).toHaveLength(1)

    // Kill the process that runs the rollout, once a few targets are done.
    const runner = await pollUntil(
      () =>
        inFleetStore(sim, async (opened) => {
          const done = await opened.db
            .selectFrom('rollout_targets')
            .select('target')
            .where('rollout_id', '=', id)
            .where('state', '=', 'succeeded')
            .execute()
          const row = await opened.db
            .selectFrom('rollouts')
            .select('runner')
            .where('id', '=', id)
            .executeTakeFirst()
          return done.length >= 3 ? (row?.runner ?? undefined) : undefined
        }),
      (r) => r !== undefined,
      60_000,
    )
    const pid = Number(runner!.split(':').at(-1))
    const victim = replicas.find((r) => r.pid === pid)!
    expect(victim, `${runner} is none of ${replicas.map((r) => r.pid).join(', ')}`).toBeDefined()
    victim.child.kill('SIGKILL')
    await within(victim.exited, 10_000, 'the killed replica')
    const survivors = replicas.filter((r) => r !== victim)
    const survivorUrl = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(survivors[0]!.stdout())![1]!

    // Another replica takes the rollout over and finishes it; one of the survivors leads.
    const state = await pollUntil(
      async () => (await api(survivorUrl, `/api/rollouts/${id}`)).state as string,
      (s) => s === 'succeeded' || s === 'halted' || s === 'rolled-back',
      90_000,
    )
    const why = (await api(survivorUrl, `/api/rollouts/${id}`)).haltReason
    expect(state, String(why)).toBe('succeeded')
    const survivorLeads = await pollUntil(
      () =>
        Promise.all(
          survivors.map(
            async (r) =>
              (await api(/on (http:\/\/127\.0\.0\.1:\d+)/.exec(r.stdout())![1]!, '/api/revisions')).leads,
          ),
        ),
      (l) => l.filter(Boolean).length === 1,
      20_000,
    )
    expect(survivorLeads.filter(Boolean)).toHaveLength(1)

    // Every target applied once: one create of each stack, one step of each target.
    const { creates, events } = await inFleetStore(sim, async (opened) => ({
      creates: await (await simDatabase(opened.db))
        .selectFrom('sim_stack_events')
        .select(['stack'])
        .where('resource_type', '=', 'AWS::CloudFormation::Stack')
        .where('status', '=', 'CREATE_IN_PROGRESS')
        .execute(),
      events: await opened.db
        .selectFrom('rollout_events')
        .select(['type', 'target'])
        .where('rollout_id', '=', id)
        .execute(),
    }))
    const perStack = new Map<string, number>()
    for (const e of creates) perStack.set(e.stack, (perStack.get(e.stack) ?? 0) + 1)
    expect([...perStack].filter(([, n]) => n !== 1)).toEqual([])
    expect(perStack.size).toBeGreaterThan(20)
    for (const type of ['target-applying', 'target-succeeded']) {
      const targets = events.filter((e) => e.type === type).map((e) => e.target!)
      expect(targets.length, type).toBe(new Set(targets).size)
    }
    for (const r of survivors) r.child.kill('SIGTERM')
    for (const r of survivors) {
      const end = await within(r.exited, 20_000, 'a replica stopping').catch((error: Error) => {
        throw new Error(`${error.message}\n${r.stdout()}\n${r.stderr().slice(-3000)}`)
      })
      expect(end.code).toBe(0)
    }
  })
})
