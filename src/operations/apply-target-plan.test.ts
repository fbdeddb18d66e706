/**
 * applyTargetPlan with a provider of object literals: each outcome, what is recorded for it, and
 * the wait for busy stacks before deciding.
 */
import { describe, expect, it } from 'vitest'
import { fixtureSource } from '../../test/support/fixture-fleet.ts'
import { loadFleet } from '../core/load/load-fleet.ts'
import type { Target } from '../core/model/fleet-model.ts'
import {
  type ObservedTarget,
  type Provider,
  ProviderError,
  type SettleStatus,
} from '../core/provider/port.ts'
import { testBackends, useTestStore } from '../store/test-store.ts'
import { appliedStates } from './applied-states.ts'
import { type ApplyTargetPlanOptions, applyTargetPlan } from './apply-target-plan.ts'

function accountOfFixture(): Target {
  const result = loadFleet(fixtureSource())
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return result.fleet.targets.find((t) => t.kind === 'account')!
}

/** A provider whose answers the test sets: `busy` stacks for the first observations, then settle answers in order. */
function scripted(options: {
  busyObservations?: number
  settles?: SettleStatus[]
  apply?: () => Promise<void>
}) {
  const calls: string[] = []
  let observations = 0
  const settles = [...(options.settles ?? [])]
  const provider: Provider = {
    name: 'sim',
    observe: async (targets) => {
      calls.push('observe')
      const busy = observations++ < (options.busyObservations ?? 0) ? ['x/busy'] : []
      return new Map<string, ObservedTarget>(
        targets.map((t) => [t.id, { targetId: t.id, stacks: [], manifests: [], busy }]),
      )
    },
    apply: async () => {
      calls.push('apply')
      await options.apply?.()
      return { operations: [], snapshots: [] }
    },
    settled: async () => {
      calls.push('settled')
      return settles.shift() ?? { state: 'settled', items: [] }
    },
    health: async () => ({ healthy: true, checks: [] }),
    snapshots: async () => [],
    restore: () => Promise.reject(new Error('none')),
  }
  return { provider, calls }
}

describe.each(testBackends)('applyTargetPlan on %s', (backend) => {
  const test = useTestStore(backend)
  const target = accountOfFixture()
  const fingerprints = { [`${target.id}/global/zone`]: 'f1' }
  const change = {
    desired: { target, stacks: [], manifests: [] },
    plan: undefined,
    approvedDestruction: new Set<string>(),
    fingerprints,
  }
  const run = (provider: Provider, extra: Partial<ApplyTargetPlanOptions> = {}) =>
    applyTargetPlan({
      db: test.store.db,
      provider,
      target,
      revision: 'rev-1',
      decide: () => change,
      pollMs: 1,
      retry: { sleep: async () => {} },
      ...extra,
    })
  const record = async () => (await appliedStates(test.store.db, [target.id])).get(target.id)

  it('waits for busy stacks before deciding, then applies, settles and records', async () => {
    await test.store.db.deleteFrom('applied_states').execute()
    const { provider, calls } = scripted({ busyObservations: 1 })
    const seen: (readonly string[] | undefined)[] = []
    const result = await run(provider, {
      decide: (observed) => {
        seen.push(observed?.busy)
        return change
      },
    })
    expect(result.outcome).toBe('applied')
    expect(calls).toEqual(['observe', 'settled', 'observe', 'apply', 'settled'])
    expect(seen).toEqual([[]])
    expect(await record()).toMatchObject({ fingerprints, intended: null, revision: 'rev-1' })
  })

  it('refuses as the caller decides, applying and recording nothing', async () => {
    await test.store.db.deleteFrom('applied_states').execute()
    const { provider, calls } = scripted({})
    const result = await run(provider, { decide: () => ({ refused: 'changed since the plan' }) })
    expect(result).toEqual({ outcome: 'refused', reason: 'changed since the plan' })
    expect(calls).toEqual(['observe'])
    expect(await record()).toBeUndefined()
  })

  it('records an unchanged target as applied without applying it; observes nothing when told not to', async () => {
    const { provider, calls } = scripted({})
    const result = await run(provider, { observe: false, decide: () => ({ ...change, unchanged: true }) })
    expect(result).toEqual({ outcome: 'unchanged' })
    expect(calls).toEqual([])
    expect((await record())?.fingerprints).toEqual(fingerprints)
  })

  it('returns what the provider refused, and an unsettled target, with the intent recorded and nothing applied', async () => {
    await test.store.db.deleteFrom('applied_states').execute()
    const refused = new ProviderError('refused', target.id, 'protected stack')
    const failing = scripted({ apply: () => Promise.reject(refused) })
    expect(await run(failing.provider)).toEqual({ outcome: 'failed', during: 'apply', error: refused })
    expect(await record()).toMatchObject({ fingerprints: {}, intended: fingerprints })

    const failed: SettleStatus = {
      state: 'failed',
      items: [{ address: 'a', status: 'ROLLBACK', reason: 'r' }],
    }
    const unsettled = scripted({ settles: [failed] })
    const result = await run(unsettled.provider)
    expect(result).toMatchObject({ outcome: 'unsettled', settle: failed })
    expect((await record())?.fingerprints).toEqual({})
  })

  it('does not record the intent when told not to (a rollback)', async () => {
    await test.store.db.deleteFrom('applied_states').execute()
    const { provider } = scripted({})
    expect((await run(provider, { recordIntended: false })).outcome).toBe('applied')
    expect(await record()).toMatchObject({ fingerprints, intended: null })
  })
})
