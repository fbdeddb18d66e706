// A rollout of the example fleet, bootstrapped from empty, through the rollout engine on the
// simulated fleet (zero latency, zero bake, no gates): its wall time, and the engine's own
// overhead per target step — the wall time minus the time spent in the provider, per target,
// measured with one target at a time so the two can be told apart.

import { loadFleet } from '../src/core/load/load-fleet.ts'
import type { Fleet } from '../src/core/model/fleet-model.ts'
import { memorySource } from '../src/core/model/source.ts'
import { operatorClock } from '../src/core/policy/policy-time.ts'
import type { Provider } from '../src/core/provider/port.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { generateExampleFleet } from '../src/example/generate-example.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { runRollout, startRollout } from '../src/rollout/engine.ts'
import { storedPlanBytes } from '../src/rollout/plans-store.ts'
import { loadRollout } from '../src/rollout/rollout-store.ts'
import { openDatabase, type StoreConfig } from '../src/store/database.ts'
import { migrateToLatest } from '../src/store/migrate.ts'

/** The example fleet with a rollout.yaml fit for measuring: no bake, no gates, no approval. */
export function benchFleet(accounts: number, clusters: number, maxParallel: number | undefined): Fleet {
  const files = generateExampleFleet({ accounts, clusters, seed: '1' })
  let rollout = files
    .get('rollout.yaml')!
    .replace(/bake: \w+/g, 'bake: 0s')
    .replace(/gates: \[[^\]]*\]/g, 'gates: []')
    .replace(/approval: required/g, 'approval: none')
  if (maxParallel !== undefined) rollout = rollout.replace(/maxParallel: \d+/g, `maxParallel: ${maxParallel}`)
  files.set('rollout.yaml', rollout)
  const loaded = loadFleet(memorySource(files))
  if (!loaded.ok) throw new Error(`the bench fleet does not load: ${loaded.errors[0]?.message}`)
  return loaded.fleet
}

/** Measures time spent inside a provider. */
function timed(provider: Provider): { provider: Provider; spentMs: () => number } {
  let spent = 0
  const wrap =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = performance.now()
      try {
        return await call(...args)
      } finally {
        spent += performance.now() - start
      }
    }
  return {
    provider: {
      name: provider.name,
      observe: wrap(provider.observe.bind(provider)),
      apply: wrap(provider.apply.bind(provider)),
      settled: wrap(provider.settled.bind(provider)),
      health: wrap(provider.health.bind(provider)),
      snapshots: wrap(provider.snapshots.bind(provider)),
      restore: wrap(provider.restore.bind(provider)),
    },
    spentMs: () => spent,
  }
}

/** What one rollout took. */
export interface RolloutBench {
  readonly targets: number
  readonly wallMs: number
  /** Of which starting it: planning against the observed fleet, schedule, locks. */
  readonly startMs: number
  /** Time inside the provider while running (after the start). */
  readonly providerMs: number
  readonly state: string
  /** What its plan takes in the store (document and the targets' planned changes), in bytes. */
  readonly planBytes: number
}

/** Seeds an empty simulated fleet and rolls `fleet` out to all of it. */
export async function benchRollout(fleet: Fleet, config: StoreConfig): Promise<RolloutBench> {
  const store = await openDatabase(config)
  try {
    await migrateToLatest(store.db)
    const sim = new SimProvider({ db: store.db })
    await sim.updateSettings({ latencyScale: 0 })
    await sim.seed(fleet.targets)
    const measured = timed(sim)
    const deps = {
      db: store.db,
      registry: new ProviderRegistry([measured.provider]),
      loadRevision: async () => fleet,
      runGates: async () => [],
      // An ordinary weekday: the example's weekend and freeze rules would make timings differ by day.
      policyClock: operatorClock(new Date('2026-11-10T10:00:00Z')),
    }
    const start = performance.now()
    const { id, plan } = await startRollout(deps, {
      commit: 'bench',
      ref: 'bench',
      approvals: [],
      actor: 'bench',
    })
    const started = performance.now()
    const beforeRun = measured.spentMs()
    const state = await runRollout(deps, id)
    const wallMs = performance.now() - start
    const { planId } = (await loadRollout(store.db, id))!
    return {
      targets: plan.targets.length,
      wallMs,
      startMs: started - start,
      providerMs: measured.spentMs() - beforeRun,
      state,
      planBytes: await storedPlanBytes(store.db, planId, id),
    }
  } finally {
    await store.close()
  }
}
