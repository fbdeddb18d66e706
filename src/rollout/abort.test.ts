/**
 * Stopping a rollout worker cuts a step short: with a provider whose targets never settle, aborting
 * the signal ends `applyTargetPlan` and `runRollout` within a second, and leaves the rollout as a
 * killed process leaves it — still running, the target `applying`, nothing recorded as applied —
 * for the next runner to continue.
 */
import { describe, expect, it } from 'vitest'
import { fixtureSource } from '../../test/support/fixture-fleet.ts'
import { loadFleet } from '../core/load/load-fleet.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import { operatorClock } from '../core/policy/policy-time.ts'
import type { ObservedTarget, Provider, SettleStatus } from '../core/provider/port.ts'
import { ProviderRegistry } from '../core/provider/registry.ts'
import { appliedStates } from '../operations/applied-states.ts'
import { applyTargetPlan } from '../operations/apply-target-plan.ts'
import { testBackends, useTestStore } from '../store/test-store.ts'
import type { EngineDeps } from './engine.ts'
import { runRollout, startRollout } from './engine.ts'
import { loadRollout, loadTargets } from './rollout-store.ts'

const NOW = new Date('2026-11-10T10:00:00Z')

function fixtureFleet(): Fleet {
  const result = loadFleet(fixtureSource())
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return result.fleet
}

/**
 * A provider (named `sim`, as the fixture's targets choose) with nothing deployed, whose applies
 * are accepted at once and whose targets never settle: `settled` answers `in-progress` for ever,
 * or — `hang` — never answers at all (and ignores the signal).
 */
function neverSettling(mode: 'in-progress' | 'hang'): Provider & { applies: number; settles: boolean } {
  const provider = {
    name: 'sim',
    applies: 0,
    /** Set to let the targets settle after all (the next runner's world). */
    settles: false,
    observe: async (targets: readonly { id: string }[]) =>
      new Map<string, ObservedTarget>(
        targets.map((t) => [t.id, { targetId: t.id, stacks: [], manifests: [], busy: [] }]),
      ),
    apply: async () => {
      provider.applies++
      return { operations: [], snapshots: [] }
    },
    settled: (): Promise<SettleStatus> =>
      provider.settles
        ? Promise.resolve({ state: 'settled', items: [] })
        : mode === 'hang'
          ? new Promise<SettleStatus>(() => {})
          : Promise.resolve({
              state: 'in-progress',
              items: [{ address: 'x', status: 'UPDATE_IN_PROGRESS', reason: 'forever' }],
            }),
    health: async () => ({ healthy: true, checks: [] }),
    snapshots: async () => [],
    restore: () => Promise.reject(new Error('no snapshots')),
  }
  return provider
}

/** Resolves (or rejects) with `promise`, and how long it took after `abort` was called. */
async function timeAfterAbort<T>(promise: Promise<T>, abort: () => void, afterMs: number) {
  await new Promise((resolve) => setTimeout(resolve, afterMs))
  const stopped = performance.now()
  abort()
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
  return { ...outcome, ms: performance.now() - stopped }
}

describe.each(testBackends)('stopping the apply path, on %s', (backend) => {
  const test = useTestStore(backend)
  const fleet = fixtureFleet()

  it.each(['in-progress', 'hang'] as const)(
    'ends applyTargetPlan within a second when its target never settles (%s)',
    async (mode) => {
      const provider = neverSettling(mode)
      const target = fleet.targets.find((t) => t.kind === 'account')!
      const controller = new AbortController()
      const work = applyTargetPlan({
        db: test.store.db,
        provider,
        target,
        revision: 'rev-abort',
        decide: () => ({
          desired: { target, stacks: [], manifests: [] },
          plan: undefined,
          approvedDestruction: new Set(),
          fingerprints: { [`${target.id}/global/zone`]: 'abc' },
        }),
        pollMs: 50,
        signal: controller.signal,
      })
      const reason = new Error('worker stopping')
      const ended = await timeAfterAbort(work, () => controller.abort(reason), 300)
      expect(ended).toMatchObject({ error: reason })
      expect(ended.ms).toBeLessThan(1_000)
      expect(provider.applies).toBe(1)
      // Intended, not applied: the next apply of the target finds it and is not drift.
      const record = (await appliedStates(test.store.db, [target.id])).get(target.id)
      expect(record?.fingerprints).toEqual({})
      expect(record?.intended).toEqual({ [`${target.id}/global/zone`]: 'abc' })
    },
  )

  it('ends runRollout within a second mid-settle; the rollout stays running for the next runner', async () => {
    const provider = neverSettling('hang')
    const deps: EngineDeps = {
      db: test.store.db,
      registry: new ProviderRegistry([provider]),
      loadRevision: async () => fleet,
      runGates: async () => [],
      policyClock: operatorClock(NOW),
      retry: { baseMs: 1, maxMs: 5 },
    }
    const { id, state } = await startRollout(deps, {
      commit: 'c0ffee',
      ref: 'HEAD',
      approvals: [],
      actor: 'alice',
    })
    expect(state).toBe('running')
    const controller = new AbortController()
    const run = runRollout(deps, id, { signal: controller.signal })
    const ended = await timeAfterAbort(run, () => controller.abort(new Error('worker stopping')), 500)
    expect(ended).toMatchObject({ value: 'running' })
    expect(ended.ms).toBeLessThan(1_000)
    expect(provider.applies).toBeGreaterThan(0)

    // Not failed, not halted: the target under way is left `applying`, and the lease is let go.
    const rollout = (await loadRollout(test.store.db, id))!
    expect(rollout.state).toBe('running')
    expect(rollout.haltReason).toBeNull()
    const targets = await loadTargets(test.store.db, id)
    expect(targets.some((t) => t.state === 'applying')).toBe(true)
    expect(targets.some((t) => t.state === 'failed')).toBe(false)
    const row = await test.store.db
      .selectFrom('rollouts')
      .select(['runner', 'lease_until'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
    expect(row).toEqual({ runner: null, lease_until: null })

    // The next runner picks the target up where it was left, and goes on.
    provider.settles = true
    const next = await runRollout(deps, id)
    expect(next).not.toBe('running')
    const after = await loadTargets(test.store.db, id)
    expect(after.some((t) => t.state === 'applying' || t.state === 'failed')).toBe(false)
    expect(after.some((t) => t.state === 'succeeded')).toBe(true)
  })
})
