/**
 * The rollout engine on the simulated example fleet, on PGlite and (with `TEST_DATABASE_URL`) on
 * PostgreSQL: `startRollout` and `runRollout` called directly, with the gates and the DNS server
 * of `runner.ts`. The tests of one backend share a store and a repository and build on each
 * other in order: the first bootstraps the empty fleet, the later ones change it.
 */
import { spawnSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  closedPort,
  commitAll,
  type EngineHarness,
  editClusterConfig,
  editRollout,
  exampleRepo,
  openEngine,
  quickStages,
  setLogExpiry,
  stageNamed,
} from '../../test/support/rollout-fleet.ts'
import { NOW, pollUntil, within } from '../../test/support/sim-cli.ts'
import { ConflictError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import { fleetState, planFleet, strictestSettings } from '../core/plan/plan-fleet.ts'
import { policyRegistry } from '../core/policy/policy-rules.ts'
import { ProviderRegistry } from '../core/provider/registry.ts'
import { git } from '../core/source/git.ts'
import { observeFleet } from '../operations/observed-fleet.ts'
import type { SimProvider } from '../providers/sim/sim-provider.ts'
import { listRolloutEvents } from '../store/events.ts'
import { testBackends, useTestStore } from '../store/test-store.ts'
import {
  abortRollout,
  approveStage,
  resumeRollout,
  retryTarget,
  skipTarget,
  stopFleet,
  unstopFleet,
} from './controls.ts'
import { type EngineDeps, rolloutStatus, runRollout } from './engine.ts'
import { loadRollout, loadTargets, setFleetStop, updateRollout } from './rollout-store.ts'

const alice = { actor: 'alice', source: 'test' }
const bob = { actor: 'bob', source: 'test' }

describe.each(testBackends)('the rollout engine on the simulated example fleet, on %s', (backend) => {
  const testStore = useTestStore(backend)
  let repo: string
  let dispose = () => {}
  let engine: EngineHarness
  let base: string

  beforeAll(async () => {
    ;({ repo, dispose } = await exampleRepo())
    editRollout(repo, quickStages)
    base = await commitAll(repo, 'Rollouts without bakes and without the Prometheus gate')
    engine = await openEngine(repo, testStore.store.db, { seedCommit: base })
  })
  afterAll(async () => {
    await engine?.close()
    dispose()
  })

  const db = () => testStore.store.db
  const fleetAt = (commit: string): Promise<Fleet> => engine.deps.loadRevision(commit)
  /** The plan of `commit` against the fleet as it is now. */
  const planNow = async (commit: string) => {
    const fleet = await fleetAt(commit)
    const observed = await observeFleet(fleet, engine.deps.registry, db())
    const outcome = planFleet({
      base: observed.state,
      head: fleetState(fleet),
      ...strictestSettings(fleet.settings, fleet.settings),
      rules: policyRegistry(fleet),
      approvals: [],
      now: new Date(NOW),
    })
    if (!outcome.ok) throw new Error(outcome.errors.map((e) => e.message).join('\n'))
    return outcome.plan
  }
  const eventsOf = async (id: string) => listRolloutEvents(db(), id)
  /** rollout.yaml as the suite started, for a test to change (the next commit has it). */
  const resetRollout = () => git(repo, ['checkout', base, '--', 'rollout.yaml'])
  /** The stacks of an account in the simulated fleet, as stored. */
  const stacksOf = (target: string) =>
    db().selectFrom('sim_stacks').selectAll().where('target', '=', target).orderBy('address').execute()
  const stackEventCount = async (target: string) =>
    (await db().selectFrom('sim_stack_events').select('id').where('target', '=', target).execute()).length

  test('bootstraps the empty fleet through every stage; a second person approves production', async () => {
    const fleet = await fleetAt(base)
    const id = await engine.start(base, 'alice')
    expect(await engine.run(id)).toBe('waiting-approval')

    const waiting = await rolloutStatus(db(), id)
    expect(waiting.stages.map((s) => [s.name, s.state])).toEqual([
      ['dev', 'succeeded'],
      ['alpha', 'succeeded'],
      ['ops', 'succeeded'],
      ['beta', 'succeeded'],
      ['stable', 'waiting-approval'],
    ])
    const stable = waiting.stages.at(-1)!
    expect(stable.waves.flatMap((w) => w.targets).every((t) => t.state === 'pending')).toBe(true)

    await expect(approveStage(db(), id, alice)).rejects.toThrow('alice started rollout')
    await expect(approveStage(db(), id, alice)).rejects.toBeInstanceOf(ConflictError)
    expect(await approveStage(db(), id, bob)).toBe('stable')
    expect(await engine.run(id)).toBe('succeeded')

    const status = await rolloutStatus(db(), id)
    expect(status).toMatchObject({
      id,
      revision: base,
      state: 'succeeded',
      createdBy: 'alice',
      haltReason: null,
    })
    // Every target that has something to run, each in the stage rollout.yaml puts it in, once.
    const scheduled = status.stages.flatMap((s) => s.waves.flatMap((w) => w.targets.map((t) => t.id)))
    const wanted = fleet.targets.filter((t) => {
      const desired = fleet.desired.get(t.id)
      return (desired?.stacks.length ?? 0) + (desired?.manifests.length ?? 0) > 0
    })
    expect(wanted.length).toBeGreaterThan(30)
    expect([...scheduled].sort()).toEqual(wanted.map((t) => t.id).sort())
    for (const stage of status.stages) {
      expect(Object.keys(stage).sort()).toEqual(['approval', 'approvedBy', 'gates', 'name', 'state', 'waves'])
      expect(stage.state).toBe('succeeded')
      for (const wave of stage.waves) {
        expect(wave.state).toBe('succeeded')
        for (const target of wave.targets) {
          expect(target).toEqual({ id: target.id, state: 'succeeded', attempts: 1, reason: null })
          expect(fleet.stageOf.get(target.id)).toBe(stage.name)
        }
      }
      expect(stage.gates.length).toBeGreaterThan(0)
      for (const gate of stage.gates) expect(gate).toMatchObject({ state: 'passed' })
    }
    expect(status.stages.find((s) => s.name === 'stable')).toMatchObject({
      approval: 'required',
      approvedBy: 'bob',
    })
    // The stable stage's waves are [1, 10%, 50%, 100%] of its targets.
    expect(stable.waves.map((w) => w.targets.length)).toEqual([1, 1, 3, 5])

    // ops targets change in their own stage: never in a wave with anything else.
    const group = new Map(fleet.targets.map((t) => [t.id, t.group]))
    for (const stage of status.stages) {
      for (const wave of stage.waves) {
        const groups = new Set(wave.targets.map((t) => group.get(t.id) === 'ops'))
        expect(groups.size, `wave ${wave.index} of ${stage.name}`).toBe(1)
      }
      const ops = stage.waves.flatMap((w) => w.targets).filter((t) => group.get(t.id) === 'ops')
      expect(ops.length > 0).toBe(stage.name === 'ops')
    }

    // The fleet is now what the revision says, and the events tell the story in order.
    expect((await planNow(base)).verdict).toBe('no-changes')
    await expect(engine.start(base, 'alice')).rejects.toThrow('changes nothing')
    const events = await eventsOf(id)
    const types = events.map((e) => e.type)
    expect(types[0]).toBe('rollout-started')
    expect(types.at(-1)).toBe('succeeded')
    for (const target of wanted) {
      const mine = events.filter((e) => e.target === target.id).map((e) => e.type)
      expect(mine, target.id).toEqual(['target-applying', 'target-applied', 'target-succeeded'])
    }
    // A cluster in a wave with its account starts only after the account's step ended (its DNS
    // records go into the account's zones); accounts come first in every wave.
    const waveOf = new Map(
      status.stages.flatMap((s) =>
        s.waves.flatMap((w) => w.targets.map((t) => [t.id, `${s.name}/${w.index}`])),
      ),
    )
    const byTarget = new Map(fleet.targets.map((t) => [t.id, t]))
    let together = 0
    for (const cluster of wanted.filter((t) => t.kind === 'cluster')) {
      if (waveOf.get(cluster.id) !== waveOf.get(cluster.account)) continue
      together++
      const ended = events.find((e) => e.target === cluster.account && e.type === 'target-succeeded')!.id
      const began = events.find((e) => e.target === cluster.id && e.type === 'target-applying')!.id
      expect(began, cluster.id).toBeGreaterThan(ended)
    }
    expect(together).toBeGreaterThan(0)
    for (const wave of status.stages.flatMap((s) => s.waves)) {
      const kinds = wave.targets.map((t) => byTarget.get(t.id)!.kind)
      expect(kinds).toEqual([...kinds].sort()) // 'account' < 'cluster'
    }
    expect(types.filter((t) => t === 'stage-approved')).toHaveLength(1)
    expect(types.indexOf('stage-approved')).toBeLessThan(
      events.findIndex((e) => e.type === 'target-applying' && stageOfEvent(e, fleet) === 'stable'),
    )
    // onEvent reports every event the engine stored (the approval was stored by the control).
    const reported = engine.events.map((e) => `${e.type} ${e.target ?? ''}`)
    const stored = events.filter((e) => e.type !== 'stage-approved').map((e) => `${e.type} ${e.target ?? ''}`)
    expect(reported.sort()).toEqual(stored.sort())
    // Locks are released once it succeeded.
    expect(await db().selectFrom('locks').selectAll().execute()).toEqual([])
  })

  test('the fleet-wide stop pauses two running rollouts at once; after unstop both finish', async () => {
    const fleet = await fleetAt(base)
    // Two changes of disjoint targets, each on a branch of its own from the bootstrapped commit.
    const first = clustersOf(fleet, 'alpha', 'beta').slice(0, 4)
    const second = clustersOf(fleet, 'dev', 'ops').slice(0, 3)
    expect(first.length).toBe(4)
    expect(second.length).toBe(3)
    for (const id of first) editClusterConfig(repo, id, { ingress_replicas: 7 })
    const commitA = await commitAll(repo, 'More ingress replicas in alpha and beta')
    await git(repo, ['branch', 'ingress-alpha-beta'])
    await git(repo, ['reset', '-q', '--hard', base])
    for (const id of second) editClusterConfig(repo, id, { ingress_replicas: 7 })
    const commitB = await commitAll(repo, 'More ingress replicas in dev and ops')
    const a = await engine.start(commitA)
    const b = await engine.start(commitB)

    await engine.sim.updateSettings({ latencyScale: 1 }) // a Deployment takes 2 s to be ready
    let stoppedAt = 0
    try {
      const runs = Promise.all([engine.run(a), engine.run(b)])
      const underWay = await pollUntil(
        async () =>
          Promise.all(
            [a, b].map(async (id) =>
              (await loadTargets(db(), id)).some((t) => t.state === 'applying' || t.state === 'verifying'),
            ),
          ),
        (both) => both.every(Boolean),
        20_000,
      )
      expect(underWay).toEqual([true, true])
      expect((await stopFleet(db(), 'an incident', bob)).sort()).toEqual([a, b].sort())
      stoppedAt = (await eventsOf(a)).at(-1)!.id
      expect(await within(runs, 20_000, 'both rollouts to pause')).toEqual(['paused', 'paused'])
    } finally {
      await engine.sim.updateSettings({ latencyScale: 0 })
    }
    for (const id of [a, b]) {
      const status = await rolloutStatus(db(), id)
      expect(status).toMatchObject({ state: 'paused', haltReason: 'fleet-wide stop: an incident' })
      const targets = status.stages.flatMap((s) => s.waves.flatMap((w) => w.targets))
      // Stopped mid-way: what was under way finished, nothing new started.
      expect(targets.some((t) => t.state === 'succeeded')).toBe(true)
      expect(targets.some((t) => t.state === 'pending')).toBe(true)
      expect(targets.every((t) => t.state === 'succeeded' || t.state === 'pending')).toBe(true)
      const later = (await eventsOf(id)).filter((e) => e.id > stoppedAt && e.type === 'target-applying')
      expect(later).toEqual([])
    }
    // While the stop is on, nothing resumes and running does nothing.
    await expect(resumeRollout(db(), a, alice)).rejects.toThrow(
      'the fleet-wide stop is on (an incident, by bob)',
    )
    expect(await engine.run(a)).toBe('paused')

    expect((await unstopFleet(db(), bob)).sort()).toEqual([a, b].sort())
    expect(await Promise.all([engine.run(a), engine.run(b)])).toEqual(['succeeded', 'succeeded'])
    for (const [id, targets] of [
      [a, first],
      [b, second],
    ] as const) {
      const succeeded = (await eventsOf(id)).filter((e) => e.type === 'target-succeeded').map((e) => e.target)
      expect(succeeded.sort(), id).toEqual([...targets].sort())
    }
    // Both changes are in the fleet: with the first merged, the repository plans no changes.
    for (const id of first) editClusterConfig(repo, id, { ingress_replicas: 7 })
    const merged = await commitAll(repo, 'Merge the ingress replicas of alpha and beta')
    expect((await planNow(merged)).verdict).toBe('no-changes')
  })

  test('a stop noticed between two targets of a wave leaves the rest of the wave for after unstop', async () => {
    const fleet = await fleetAt(base)
    const [first, second] = clustersOf(fleet, 'ops') as [string, string]
    await resetRollout()
    for (const id of [first, second]) editClusterConfig(repo, id, { ingress_replicas: 13 })
    const id = await engine.start(await commitAll(repo, 'More ingress replicas in ops'))
    // ops runs one target at a time. The stop is pulled while the first one's gates run, and
    // the rollout is not paused yet (as between the two steps of `stopFleet`).
    const stopping: EngineDeps = {
      ...engine.deps,
      runGates: async (stage, target, at) => {
        const outcomes = await engine.deps.runGates(stage, target, at)
        if (target.id === first) await setFleetStop(db(), { reason: 'halfway', by: 'bob' })
        return outcomes
      },
    }
    expect(await runRollout(stopping, id)).toBe('paused')
    expect(Object.fromEntries((await loadTargets(db(), id)).map((t) => [t.target, t.state]))).toEqual({
      [first]: 'succeeded',
      [second]: 'pending',
    })
    expect((await eventsOf(id)).map((e) => e.type)).not.toContain('wave-succeeded')
    expect(await unstopFleet(db(), bob)).toEqual([id])
    expect(await engine.run(id)).toBe('succeeded')
    expect((await loadTargets(db(), id)).map((t) => t.state)).toEqual(['succeeded', 'succeeded'])
  })

  test("a stage whose gate's data source is down halts, fail closed; retry, abort and skip", async () => {
    const fleet = await fleetAt(base)
    const devCluster = fleet.targets.find(
      (t) => t.kind === 'cluster' && fleet.stageOf.get(t.id) === 'dev',
    )!.id
    const stableCluster = fleet.targets.find(
      (t) => t.kind === 'cluster' && fleet.stageOf.get(t.id) === 'stable',
    )!.id
    const port = await closedPort()
    await resetRollout()
    editRollout(repo, (rollout) => {
      rollout.gates.errors!.url = `http://127.0.0.1:${port}`
      Object.assign(stageNamed(rollout, 'dev'), { gates: ['healthy', 'errors'], onFailure: 'halt' })
    })
    editClusterConfig(repo, devCluster, { ingress_replicas: 8 })
    editClusterConfig(repo, stableCluster, { ingress_replicas: 8 })
    const commit = await commitAll(repo, 'More ingress replicas; the errors gate in dev, its Prometheus down')

    const id = await engine.start(commit)
    expect(await engine.run(id)).toBe('halted')
    const halted = await rolloutStatus(db(), id)
    expect(halted.stages.map((s) => [s.name, s.state])).toEqual([
      ['dev', 'failed'],
      ['stable', 'pending'],
    ])
    const [dev, stable] = halted.stages
    expect(dev!.waves[0]!.targets).toEqual([
      {
        id: devCluster,
        state: 'failed',
        attempts: 1,
        reason: expect.stringContaining('prometheus gate "errors" failed'),
      },
    ])
    expect(dev!.waves[0]!.targets[0]!.reason).toContain(`127.0.0.1:${port}`)
    expect(dev!.gates.find((g) => g.name === 'errors')).toMatchObject({ state: 'failed' })
    expect(dev!.gates.find((g) => g.name === 'healthy')).toMatchObject({ state: 'passed' })
    expect(halted.haltReason).toMatch(
      new RegExp(`^1 target failed in stage dev \\(tolerance 0\\): ${devCluster}: `),
    )
    expect(stable!.waves.flatMap((w) => w.targets).map((t) => t.state)).toEqual(['pending'])

    // Halted, it keeps its targets: another rollout of them queues behind it, and does not leave
    // the queue while the halted one holds them; a newer rollout supersedes the queued one.
    const queued = await engine.start(commit)
    expect(await loadRollout(db(), queued)).toMatchObject({
      state: 'queued',
      phase: 'queue',
      haltReason: `queued behind ${id}: it plans again and starts when that rollout lets go of its targets`,
    })
    expect(await engine.run(queued)).toBe('queued')
    // Planned against the fleet as it is: the dev cluster already has what the commit says.
    expect((await rolloutStatus(db(), queued)).stages.map((s) => [s.name, s.state])).toEqual([
      ['stable', 'pending'],
    ])
    const newer = await engine.start(commit)
    expect(await loadRollout(db(), queued)).toMatchObject({
      state: 'aborted',
      haltReason: `superseded by ${newer}`,
    })
    expect((await eventsOf(queued)).map((e) => e.type)).toEqual(['rollout-started', 'superseded'])
    expect(await db().selectFrom('locks').select('rollout_id').distinct().execute()).toEqual([
      { rollout_id: id },
    ])
    // A retry runs the target again; the data source is still down, so it halts again.
    await expect(retryTarget(db(), id, stableCluster, bob)).rejects.toThrow(
      `target ${stableCluster} of rollout ${id} is pending; only a failed target can be retried or skipped`,
    )
    await expect(retryTarget(db(), id, 'no-such-target', bob)).rejects.toThrow(
      `rollout ${id} has no target no-such-target`,
    )
    await retryTarget(db(), id, devCluster, bob)
    expect((await loadRollout(db(), id))!.state).toBe('running')
    expect(await engine.run(id)).toBe('halted')
    expect((await loadTargets(db(), id)).find((t) => t.target === devCluster)).toMatchObject({
      state: 'failed',
      attempts: 2,
    })
    await abortRollout(db(), id, alice)
    expect(await loadRollout(db(), id)).toMatchObject({ state: 'aborted', haltReason: 'aborted by alice' })
    expect(await db().selectFrom('locks').selectAll().where('rollout_id', '=', id).execute()).toEqual([])
    await expect(abortRollout(db(), id, alice)).rejects.toThrow(`rollout ${id} is already aborted`)

    // Skipped, the failed target stays as it is and the rollout goes on without it. (The rollout
    // still queued from above is superseded by it.)
    editClusterConfig(repo, devCluster, { ingress_replicas: 9 })
    const again = await engine.start(await commitAll(repo, 'Even more ingress replicas in dev'))
    expect(await loadRollout(db(), newer)).toMatchObject({
      state: 'aborted',
      haltReason: `superseded by ${again}`,
    })
    expect(await engine.run(again)).toBe('halted')
    await skipTarget(db(), again, devCluster, bob)
    expect(await engine.run(again)).toBe('waiting-approval')
    await approveStage(db(), again, bob)
    expect(await engine.run(again)).toBe('succeeded')
    const skipped = await rolloutStatus(db(), again)
    expect(skipped.stages[0]!.waves[0]).toMatchObject({
      state: 'succeeded',
      targets: [{ id: devCluster, state: 'skipped', attempts: 1, reason: 'skipped by bob' }],
    })
    expect(skipped.stages[1]!.waves.flatMap((w) => w.targets)).toEqual([
      { id: stableCluster, state: 'succeeded', attempts: 1, reason: null },
    ])
    const events = (await eventsOf(again)).map((e) => e.type)
    expect(events).toContain('target-skipped')
    expect(events.filter((t) => t === 'target-succeeded')).toHaveLength(1)
  })

  test('a target changed since the plan fails with nothing applied to it; the rollback leaves it alone', async () => {
    const fleet = await fleetAt(base)
    const alpha = accountsOf(fleet, 'alpha')
    const beta = accountsOf(fleet, 'beta')[0]!
    expect(alpha.length).toBeGreaterThan(2)
    await resetRollout()
    setLogExpiry(repo, Object.fromEntries([...alpha, beta].map((id) => [id, 31])))
    const commit = await commitAll(repo, 'Test and staging logs for a month')
    const id = await engine.start(commit)

    // Someone edits a stack of a pending target in the console, after the plan.
    const drifted = alpha[1]!
    const target = fleet.targets.find((t) => t.id === drifted)!
    const { drifted: address } = await engine.sim.addFault(
      { scope: { kind: 'target', id: drifted }, kind: 'drift' },
      [target],
    )
    const stacksBefore = await stacksOf(drifted)
    const eventsBefore = await stackEventCount(drifted)

    expect(await engine.run(id)).toBe('rolled-back')
    const status = await rolloutStatus(db(), id)
    const alphaTargets = status.stages.find((s) => s.name === 'alpha')!.waves.flatMap((w) => w.targets)
    expect(alphaTargets.find((t) => t.id === drifted)).toEqual({
      id: drifted,
      state: 'failed',
      attempts: 1,
      reason: `changed since the plan (${address}); nothing unreviewed is applied — plan again and start a new rollout`,
    })
    for (const other of alphaTargets.filter((t) => t.id !== drifted))
      expect(other, other.id).toMatchObject({ state: 'rolled-back', attempts: 1 })
    expect(status.haltReason).toContain(`${drifted}: changed since the plan`)
    // Nothing applied to it, not even by the rollback: its stacks are as the console left them.
    expect(await stacksOf(drifted)).toEqual(stacksBefore)
    expect(await stackEventCount(drifted)).toBe(eventsBefore)
    // The next stage was not touched.
    expect(status.stages.find((s) => s.name === 'beta')!.waves.flatMap((w) => w.targets)).toEqual([
      { id: beta, state: 'pending', attempts: 0, reason: null },
    ])
    expect((await eventsOf(id)).filter((e) => e.target === beta)).toEqual([])
    // The others are back where they were: the plan still has their change.
    const again = new Set((await planNow(commit)).targets.map((t) => t.id))
    for (const each of [...alpha, beta]) expect(again.has(each), each).toBe(true)
  })

  test('a process that dies while rolling back finishes the rollback when the rollout runs again', async () => {
    const fleet = await fleetAt(base)
    const devAccount = accountsOf(fleet, 'dev')[0]!
    const devCluster = clustersOf(fleet, 'dev')[0]!
    // Clusters fail this gate, accounts (which go first) pass it: the stage fails with two targets
    // it changed to undo, the one that succeeded and the one that failed.
    await resetRollout()
    editRollout(repo, (rollout) => {
      rollout.gates['not-clusters'] = { type: 'command', run: 'test {{ target.kind }} != cluster' }
      stageNamed(rollout, 'dev').gates = ['healthy', 'not-clusters']
    })
    setLogExpiry(repo, { [devAccount]: 33 })
    editClusterConfig(repo, devCluster, { ingress_replicas: 10 })
    const commit = await commitAll(repo, 'Dev changes, and a gate dev accounts fail')
    const id = await engine.start(commit)

    const killed = { killed: 'as by kill -9' } // not an Error: nothing in the engine takes it for a failure
    let rolledBack = 0
    const dying: EngineDeps = {
      ...engine.deps,
      onEvent: (event) => {
        if (event.type === 'target-rolled-back' && ++rolledBack === 1) throw killed
      },
    }
    await expect(runRollout(dying, id)).rejects.toBe(killed)
    const devRows = async () =>
      Object.fromEntries(
        (await loadTargets(db(), id)).filter((t) => t.stage === 'dev').map((t) => [t.target, t.state]),
      )
    // One of the two was rolled back when the process died; the other is as the stage left it.
    const halfway = Object.entries(await devRows()).sort(([a], [b]) => (a < b ? -1 : 1))
    expect(halfway.filter(([, state]) => state === 'rolled-back')).toHaveLength(1)
    expect(
      halfway.filter(([, state]) => state !== 'rolled-back').map(([target, state]) => [target, state])[0],
    ).toEqual(
      halfway.some(([target, state]) => target === devAccount && state === 'rolled-back')
        ? [devCluster, 'failed']
        : [devAccount, 'succeeded'],
    )
    expect(await loadRollout(db(), id)).toMatchObject({ state: 'running', phase: 'rollback' })

    // `rollout resume` of the dead process's rollout keeps why it is rolling back.
    await resumeRollout(db(), id, bob)
    expect(await engine.run(id)).toBe('rolled-back')
    expect((await loadRollout(db(), id))!.haltReason).toMatch(
      new RegExp(
        `^1 target failed in stage dev \\(tolerance 0\\): ${devCluster}: command gate "not-clusters" failed`,
      ),
    )
    expect(await devRows()).toEqual({ [devAccount]: 'rolled-back', [devCluster]: 'rolled-back' })
    const others = (await loadTargets(db(), id)).filter((t) => t.stage !== 'dev')
    expect(others.every((t) => t.state === 'pending')).toBe(true)
    const applying = (await eventsOf(id)).filter((e) => e.type === 'target-applying').map((e) => e.target)
    expect(applying.sort()).toEqual([devAccount, devCluster].sort())
    const planned = new Set((await planNow(commit)).targets.map((t) => t.id))
    expect(planned.has(devAccount) && planned.has(devCluster)).toBe(true)
  })

  test('a target whose process died mid-apply is finished when the rollout runs again, not applied twice', async () => {
    const fleet = await fleetAt(base)
    const account = accountsOf(fleet, 'dev')[0]!
    await resetRollout()
    setLogExpiry(repo, { [account]: 36 })
    const id = await engine.start(await commitAll(repo, 'Dev logs for 36 days'))
    const stackEvents = () =>
      db()
        .selectFrom('sim_stack_events')
        .select(['stack', 'status'])
        .where('target', '=', account)
        .where('resource_type', '=', 'AWS::CloudFormation::Stack')
        .orderBy('id')
        .execute()
    const eventsBefore = (await stackEvents()).length
    // The provider takes the apply, then the process dies before it hears back.
    const killed = { killed: 'as by kill -9' }
    const dying: EngineDeps = {
      ...engine.deps,
      registry: new ProviderRegistry([
        Object.assign(Object.create(engine.sim) as SimProvider, {
          apply: async (request: Parameters<SimProvider['apply']>[0]) => {
            await engine.sim.apply(request)
            throw killed
          },
        }),
      ]),
    }
    await engine.sim.updateSettings({ latencyScale: 1 }) // the logging stack's update takes 1.5 s
    try {
      await expect(runRollout(dying, id)).rejects.toBe(killed)
    } finally {
      await engine.sim.updateSettings({ latencyScale: 0 })
    }
    expect((await loadTargets(db(), id))[0]).toMatchObject({ target: account, state: 'applying' })
    // Run again at once, while the stack is still being updated; retries of a busy stack would not last.
    const impatient: EngineDeps = { ...engine.deps, retry: { attempts: 2, baseMs: 10, maxMs: 10 } }
    expect(await runRollout(impatient, id)).toBe('succeeded')
    const updates = (await stackEvents()).slice(eventsBefore)
    expect(updates.map((e) => e.status)).toEqual(['UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE'])
    expect(updates[0]!.stack).toMatch(/\/logging$/)
    expect((await loadTargets(db(), id))[0]).toMatchObject({ state: 'succeeded', attempts: 1 })
  })

  test('a rollback that cannot finish halts and says why; the rollout then can only be aborted', async () => {
    const fleet = await fleetAt(base)
    const devCluster = clustersOf(fleet, 'dev')[0]!
    await resetRollout()
    editRollout(repo, (rollout) => {
      rollout.gates.fails = { type: 'command', run: 'false' }
      stageNamed(rollout, 'dev').gates = ['healthy', 'fails']
    })
    editClusterConfig(repo, devCluster, { ingress_replicas: 12 })
    const commit = await commitAll(repo, 'Dev change, and a gate that fails')
    const id = await engine.start(commit)
    // Killed as the rollback begins; meanwhile the cluster's API fails every call.
    const killed = { killed: 'as by kill -9' }
    const dying: EngineDeps = {
      ...engine.deps,
      onEvent: (event) => {
        if (event.type === 'rolling-back') throw killed
      },
    }
    await expect(runRollout(dying, id)).rejects.toBe(killed)
    const { fault } = await engine.sim.addFault({
      scope: { kind: 'target', id: devCluster },
      kind: 'api-errors',
    })
    try {
      expect(await engine.run(id)).toBe('halted')
    } finally {
      await engine.sim.clearFaults({ id: fault!.id })
    }
    const rollout = (await loadRollout(db(), id))!
    expect(rollout.haltReason).toMatch(
      new RegExp(
        `; rollback incomplete: ${devCluster}: InternalFailure: the service failed \\(simulated fault`,
      ),
    )
    expect(await db().selectFrom('locks').selectAll().where('rollout_id', '=', id).execute()).toEqual([])
    // It let go of its targets: running a target again would change them without a lock.
    for (const control of [retryTarget, skipTarget])
      await expect(control(db(), id, devCluster, bob)).rejects.toThrow(
        new RegExp(
          `^rollout ${id} stopped while rolling back \\(\\d+ targets? failed in stage dev .*: abort it$`,
        ),
      )
    await abortRollout(db(), id, bob)
    expect((await loadRollout(db(), id))!.state).toBe('aborted')
  })

  test('one process runs a rollout: a live lease elsewhere holds it, a killed process of this host does not', async () => {
    const fleet = await fleetAt(base)
    await resetRollout()
    editClusterConfig(repo, clustersOf(fleet, 'alpha')[0]!, { ingress_replicas: 11 })
    const id = await engine.start(await commitAll(repo, 'More ingress replicas in alpha'))
    const lease = (runner: string) =>
      db()
        .updateTable('rollouts')
        .set({ runner, lease_until: new Date(Date.now() + 60_000) })
        .where('id', '=', id)
        .execute()

    await lease('elsewhere.example:4242')
    expect(await engine.run(id)).toBe('running')
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['rollout-started'])

    const gone = spawnSync(process.execPath, ['-e', '']).pid
    await lease(`${hostname()}:${gone}`)
    // Two calls in this process at once: one runs the rollout, the other returns at once.
    const states = await Promise.all([engine.run(id), engine.run(id)])
    expect(states.sort()).toEqual(['running', 'succeeded'])
    const events = await eventsOf(id)
    const applying = events.filter((e) => e.type === 'target-applying').map((e) => e.target)
    expect(applying.length).toBeGreaterThan(0)
    expect(new Set(applying).size).toBe(applying.length)
    expect(
      await db().selectFrom('rollouts').select(['runner', 'lease_until']).where('id', '=', id).execute(),
    ).toEqual([{ runner: null, lease_until: null }])
  })

  test('retry and skip: a target retried while its stage goes on runs again; one of a stage left behind cannot be', async () => {
    const fleet = await fleetAt(base)
    const alpha = accountsOf(fleet, 'alpha')
    const [first, second] = alpha as [string, string]
    const third = accountsOf(fleet, 'beta')[0]!
    const flag = (target: string) => join(repo, '..', `fail-${target}`)
    await resetRollout()
    editRollout(repo, (rollout) => {
      // An absolute path: a command gate runs in a checkout of the revision, not in the repository.
      rollout.gates.flag = { type: 'command', run: `test ! -e ${join(repo, '..')}/fail-{{ target.id }}` }
      Object.assign(stageNamed(rollout, 'alpha'), {
        waves: [1, '100%'],
        maxParallel: 1,
        failureTolerance: 2,
        gates: ['healthy', 'flag'],
      })
      Object.assign(stageNamed(rollout, 'beta'), { gates: ['healthy', 'flag'], onFailure: 'halt' })
    })
    setLogExpiry(repo, Object.fromEntries([...alpha, third].map((id) => [id, 34])))
    const id = await engine.start(
      await commitAll(repo, 'Logs for 34 days; a gate that fails flagged targets'),
    )
    const schedule = await rolloutStatus(db(), id)
    expect(
      schedule.stages.find((s) => s.name === 'alpha')!.waves.map((w) => w.targets.map((t) => t.id)),
    ).toEqual([[first], alpha.slice(1)])

    for (const target of [first, second, third]) writeFileSync(flag(target), '')
    let retried: Promise<void> | undefined
    const operator: EngineDeps = {
      ...engine.deps,
      onEvent: (event) => {
        // The operator fixes what failed and retries it while the stage goes on (it tolerates two failures).
        if (event.type !== 'target-failed' || event.target !== first || retried) return
        rmSync(flag(first))
        retried = retryTarget(db(), id, first, bob)
      },
    }
    expect(await runRollout(operator, id)).toBe('halted')
    await retried
    const states = async () => new Map((await loadTargets(db(), id)).map((t) => [t.target, t]))
    const halted = await states()
    expect(halted.get(first)).toMatchObject({ state: 'succeeded', attempts: 2 })
    expect(halted.get(second)).toMatchObject({ state: 'failed', attempts: 1 })
    expect(halted.get(third)).toMatchObject({ state: 'failed', attempts: 1 })
    const mine = (await eventsOf(id)).filter((e) => e.target === first).map((e) => e.type)
    expect(mine).toEqual([
      'target-applying',
      'target-applied',
      'target-failed',
      'target-retry',
      'target-applying',
      'target-applied',
      'target-succeeded',
    ])

    // Halted in beta: a failure alpha tolerated is not the rollout's to retry any more.
    for (const control of [retryTarget, skipTarget])
      await expect(control(db(), id, second, bob)).rejects.toThrow(
        `target ${second} failed in stage alpha, which rollout ${id} has left; start a new rollout to change it`,
      )
    rmSync(flag(third))
    await retryTarget(db(), id, third, bob)
    expect(await engine.run(id)).toBe('succeeded')
    expect((await states()).get(third)).toMatchObject({ state: 'succeeded', attempts: 2 })
    rmSync(flag(second))
  })

  test('queued behind a running rollout, a rollout plans again when it leaves the queue; the same change twice ends with nothing left to change', async () => {
    const fleet = await fleetAt(base)
    const [devAccount] = accountsOf(fleet, 'dev') as [string]
    const [alphaAccount] = accountsOf(fleet, 'alpha') as [string]
    await resetRollout()
    setLogExpiry(repo, { [devAccount]: 40 })
    const first = await commitAll(repo, 'Logs for 40 days in a dev account')
    setLogExpiry(repo, { [devAccount]: 40, [alphaAccount]: 40 })
    const second = await commitAll(repo, 'Logs for 40 days in an alpha account too')

    // Two rollouts started at the same moment: the lock-taking is serialized, so one runs and the
    // other queues behind it — never two rollouts on one target, and no error for the second.
    const [a, b] = await Promise.all([engine.start(first), engine.start(first)])
    const states = [(await loadRollout(db(), a))!.state, (await loadRollout(db(), b))!.state].sort()
    expect(states).toEqual(['queued', 'running'])
    const [running, waiting] = (await loadRollout(db(), a))!.state === 'running' ? [a, b] : [b, a]
    // A newer commit supersedes the queued one and queues in its place.
    const newer = await engine.start(second)
    expect(await loadRollout(db(), waiting)).toMatchObject({
      state: 'aborted',
      haltReason: `superseded by ${newer}`,
    })
    expect(await loadRollout(db(), newer)).toMatchObject({ state: 'queued' })
    expect(await engine.run(newer)).toBe('queued')

    expect(await engine.run(running)).toBe('succeeded')
    // It left the queue, planned against the fleet the first rollout left: only the alpha account is left.
    expect(await engine.run(newer)).toBe('succeeded')
    const status = await rolloutStatus(db(), newer)
    expect(status.stages.map((s) => [s.name, s.waves.flatMap((w) => w.targets.map((t) => t.id))])).toEqual([
      ['alpha', [alphaAccount]],
    ])
    const types = (await eventsOf(newer)).map((e) => e.type)
    expect(types.slice(0, 3)).toEqual(['rollout-started', 'left-queue', 'stage-started'])
    expect(types.at(-1)).toBe('succeeded')

    // Queued behind a rollout of the same commit, a rollout finds nothing left to change.
    setLogExpiry(repo, { [devAccount]: 41 })
    const third = await commitAll(repo, 'Logs for 41 days in a dev account')
    const ahead = await engine.start(third)
    const behind = await engine.start(third)
    expect(await engine.run(ahead)).toBe('succeeded')
    expect(await engine.run(behind)).toBe('succeeded')
    expect((await eventsOf(behind)).map((e) => e.type)).toEqual(['rollout-started', 'nothing-left-to-change'])
    expect((await rolloutStatus(db(), behind)).stages).toEqual([])
    expect(await db().selectFrom('locks').selectAll().execute()).toEqual([])
  })

  test('an abort while the engine works stops it after the target under way; its transitions are compare-and-set', async () => {
    const fleet = await fleetAt(base)
    const [devAccount] = accountsOf(fleet, 'dev') as [string]
    await resetRollout()
    setLogExpiry(repo, { [devAccount]: 42 })
    const id = await engine.start(await commitAll(repo, 'Logs for 42 days in a dev account'))
    let aborted: Promise<void> | undefined
    const operator: EngineDeps = {
      ...engine.deps,
      onEvent: (event) => {
        if (event.type === 'target-applying' && !aborted) aborted = abortRollout(db(), id, alice)
      },
    }
    expect(await runRollout(operator, id)).toBe('aborted')
    await aborted
    const types = (await eventsOf(id)).map((e) => e.type)
    expect(types).toContain('aborted')
    // After the abort, the engine finished the target under way but moved the rollout no further.
    expect(types.slice(types.indexOf('aborted'))).not.toContain('wave-succeeded')
    expect(types).not.toContain('succeeded')
    expect(await loadRollout(db(), id)).toMatchObject({ state: 'aborted', haltReason: 'aborted by alice' })
    // The engine's transitions hold only while the rollout runs: one that lost a race changes nothing.
    const late = await updateRollout(
      db(),
      id,
      { state: 'succeeded' },
      { type: 'succeeded' },
      { from: ['running'] },
    )
    expect(late).toBe(false)
    expect(await loadRollout(db(), id)).toMatchObject({ state: 'aborted' })
    expect((await eventsOf(id)).map((e) => e.type)).not.toContain('succeeded')
  })
})

/** The accounts of a stage that have stacks. */
function accountsOf(fleet: Fleet, stage: string): string[] {
  return fleet.targets
    .filter((t) => t.kind === 'account' && fleet.stageOf.get(t.id) === stage)
    .filter((t) => (fleet.desired.get(t.id)?.stacks.length ?? 0) > 0)
    .map((t) => t.id)
}

/** The clusters of a stage that have objects. */
function clustersOf(fleet: Fleet, ...stages: string[]): string[] {
  return fleet.targets
    .filter((t) => t.kind === 'cluster' && stages.includes(fleet.stageOf.get(t.id) ?? ''))
    .filter((t) => (fleet.desired.get(t.id)?.manifests.length ?? 0) > 0)
    .map((t) => t.id)
}

function stageOfEvent(event: { target: string | null }, fleet: Fleet): string | undefined {
  return event.target ? fleet.stageOf.get(event.target) : undefined
}
