/**
 * The simulated fleet's `changedSince` (`src/providers/sim/sim-changes.ts`) on a small applied
 * example: looking (health, observe) changes nothing; a change outside Flotilla changes its
 * target only; a fault changes every target; an apply changes its target, and its objects
 * becoming ready later — no write, only the clock moving — changes it again.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Fleet, Target } from '../src/core/model/fleet-model.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { applyFleet } from '../src/operations/apply-fleet.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { loadCommit } from '../src/rollout/runner.ts'
import { resolveCommit } from '../src/source/git.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import { exampleRepo } from './support/rollout-fleet.ts'
import { NOW } from './support/sim-cli.ts'

describe.each(testBackends)('what changed in the simulated fleet, on %s', (backend) => {
  const testStore = useTestStore(backend)
  let dispose: () => void
  let fleet: Fleet
  let sim: SimProvider
  let clock = new Date(NOW).getTime()
  let cursor: string
  /** What changed since the last call, as ids (or `all`). */
  const changed = async (targets: readonly Target[] = fleet.targets) => {
    const changes = await sim.changedSince(targets, cursor)
    cursor = changes.cursor
    return changes.changed === 'all' ? 'all' : [...changes.changed].sort()
  }

  beforeAll(async () => {
    const example = await exampleRepo({ accounts: 10, clusters: 4 })
    dispose = example.dispose
    const commit = await resolveCommit(example.repo, 'HEAD')
    fleet = await loadCommit(example.repo, commit)
    const { db } = testStore.store
    sim = new SimProvider({ db, now: () => new Date(clock) })
    await sim.updateSettings({ latencyScale: 0 })
    await sim.seed(fleet.targets)
    await applyFleet({
      head: fleet,
      registry: new ProviderRegistry([sim]),
      db,
      revision: commit,
      now: new Date(NOW),
    })
  }, 120_000)
  afterAll(() => dispose?.())

  test('a first look names every target; looking again, after health checks and observing, names none', async () => {
    cursor = (await sim.changedSince(fleet.targets, undefined)).cursor
    expect(await sim.changedSince(fleet.targets, undefined)).toMatchObject({ cursor, changed: 'all' })
    for (const target of fleet.targets.filter((t) => t.kind === 'cluster')) await sim.health(target)
    await sim.observe(fleet.targets)
    expect(await changed()).toEqual([])
    expect(await changed()).toEqual([])
  })

  test('a change outside Flotilla changes its target only; a fault changes every target', async () => {
    const cluster = fleet.targets.find((t) => t.kind === 'cluster')!
    const account = fleet.targets.find((t) => t.kind === 'account')!
    await changed()
    await sim.addFault({ kind: 'drift', scope: { kind: 'target', id: cluster.id } }, fleet.targets)
    expect(await changed()).toEqual([cluster.id])
    await sim.addFault({ kind: 'drift', scope: { kind: 'target', id: account.id } }, fleet.targets)
    expect(await changed()).toEqual([account.id])
    await sim.addFault({ kind: 'stuck-stack', scope: { kind: 'fleet' }, expiresAt: new Date(clock + 60_000) })
    expect(await changed()).toBe('all')
    expect(await changed()).toEqual([])
    clock += 120_000 // the fault expires: no write, the clock alone
    expect(await changed()).toBe('all')
  })

  test('an apply changes its target, and its objects becoming ready later change it again', async () => {
    await sim.updateSettings({ latencyScale: 1 })
    await changed()
    const cluster = fleet.targets.find(
      (t) => t.kind === 'cluster' && (fleet.desired.get(t.id)?.manifests.length ?? 0) > 0,
    )!
    const desired = fleet.desired.get(cluster.id)!
    const [first, ...rest] = desired.manifests
    const metadata = (first!.object.metadata ?? {}) as Record<string, unknown>
    const labels = { ...((metadata.labels ?? {}) as Record<string, unknown>), touched: 'yes' }
    await sim.apply({
      target: cluster,
      desired: {
        ...desired,
        manifests: [{ ...first!, object: { ...first!.object, metadata: { ...metadata, labels } } }, ...rest],
      },
      plan: undefined,
      approvedDestruction: new Set(),
      revision: 'touched',
    })
    expect(await changed()).toEqual([cluster.id])
    expect((await sim.settled(cluster)).state).toBe('in-progress')
    expect(await changed()).toEqual([])
    clock += 3_600_000
    expect(await changed()).toEqual([cluster.id])
    expect((await sim.settled(cluster)).state).toBe('settled')
  })
})
