/**
 * The rollout engine on the simulated example fleet, on PGlite and (with `TEST_DATABASE_URL`) on
 * PostgreSQL: `startRollout` and `runRollout` called directly, with the gates and the DNS server
 * of `runner.ts`. The tests of one backend share a store and a repository and build on each
 * other in order: the first bootstraps the empty fleet, the later ones change it.
 */
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
  stageNamed,
} from '../../test/support/rollout-fleet.ts'
import { NOW } from '../../test/support/sim-cli.ts'
import { ConflictError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import { fleetState, planFleet, strictestSettings } from '../core/plan/plan-fleet.ts'
import { policyRegistry } from '../core/policy/policy-rules.ts'
import { git } from '../core/source/git.ts'
import { observeFleet } from '../operations/observed-fleet.ts'
import { listRolloutEvents } from '../store/events.ts'
import { testBackends, useTestStore } from '../store/test-store.ts'
import {
  abortRollout,
  approveStage,
  pauseRollout,
  resumeRollout,
  retryTarget,
  skipTarget,
  stopFleet,
  unstopFleet,
} from './controls.ts'
import { rolloutStatus } from './engine.ts'
import { loadRollout, loadTargets } from './rollout-store.ts'

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

  test('bootstraps the empty fleet through every stage; a second person approves production', async () => {
    const fleet = await fleetAt(base)
    const id = await engine.start(base, 'alice')
    expect(await engine.run(id)).toBe('waiting-approval')

    const waiting = await rolloutStatus(db(), id)
    expect(waiting.stages.map((s) => [s.name, s.state])).toEqual([
      ['dev', 'succeeded'],
      ['ops', 'succeeded'],
      ['alpha', 'succeeded'],
      ['beta', 'succeeded'],
      ['stable', 'waiting-approval'],
    ])
    const stable = waiting.stages.at(-1)!
    expect(stable.waves.flatMap((w) => w.targets).every((t) => t.state === 'pending')).toBe(true)

    await expect(approveStage(db(), id, alice)).rejects.toThrow(
      'alice started rollout',
    )
    await expect(approveStage(db(), id, alice)).rejects.toBeInstanceOf(ConflictError)
    expect(await approveStage(db(), id, bob)).toBe('stable')
    expect(await engine.run(id)).toBe('succeeded')

    const status = await rolloutStatus(db(), id)
    expect(status).toMatchObject({ id, revision: base, state: 'succeeded', createdBy: 'alice', haltReason: null })
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
    expect(types.filter((t) => t === 'stage-approved')).toHaveLength(1)
    expect(types.indexOf('stage-approved')).toBeLessThan(
      events.findIndex((e) => e.type === 'target-applying' && stageOfEvent(e, fleet) === 'stable'),
    )
    // onEvent reports every stored event, in the order stored.
    expect(engine.events.map((e) => e.type)).toEqual(types.filter((t) => t !== 'stage-approved'))
    // Locks are released once it succeeded.
    expect(await db().selectFrom('locks').selectAll().execute()).toEqual([])
  })
})

function stageOfEvent(event: { target: string | null }, fleet: Fleet): string | undefined {
  return event.target ? fleet.stageOf.get(event.target) : undefined
}

void [
  abortRollout,
  pauseRollout,
  resumeRollout,
  retryTarget,
  skipTarget,
  stopFleet,
  unstopFleet,
  loadRollout,
  loadTargets,
  closedPort,
  editClusterConfig,
  stageNamed,
  git,
]
