/**
 * The server's plan cache (`src/server/plan-cache.ts`) on the simulated example fleet: a plan is
 * computed once for a head and an observed state, reused by later requests (and by another
 * process through the store), and computed again after a new commit, after an apply and after a
 * change made outside Flotilla, and judged by the trusted revision too (a new tip, a new plan);
 * while it is computed, `peek` says so instead of waiting.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Application } from '../src/app/application.ts'
import type { Plan } from '../src/core/model/plan.ts'
import { parseApproval } from '../src/core/policy/approvals.ts'
import { operatorClock } from '../src/core/policy/policy-time.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { applyFleet } from '../src/operations/apply-fleet.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { loadCommit } from '../src/rollout/runner.ts'
import { PlanCache } from '../src/server/plan-cache.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import { commitAll, editRollout, exampleRepo, quickStages, setLogExpiry } from './support/rollout-fleet.ts'
import { NOW } from './support/sim-cli.ts'

describe.each(testBackends)('the plan cache, on %s', (backend) => {
  const testStore = useTestStore(backend)
  let repo: string
  let dispose: () => void
  let first: string
  let app: Application
  let sim: SimProvider
  const time = operatorClock(new Date(NOW))()
  /**
   * A cache as a server process has it, judged by the trusted revision `judge()` names;
   * `computed` lists the commits it planned.
   */
  const newCache = (judge: () => string | undefined = () => undefined) => {
    const computed: string[] = []
    const cache = new PlanCache({
      db: testStore.store.db,
      registry: app.registry,
      loadRevision: (commit) => loadCommit(repo, commit),
      trusted: async () => {
        const commit = judge()
        return commit === undefined
          ? undefined
          : { commit, fleet: await loadCommit(repo, commit), label: `main ${commit.slice(0, 12)}` }
      },
      compute: async (commit, approvals, at, trusted) => {
        computed.push(commit)
        return (
          await app.planCommit(commit, {
            approvals: approvals.map(parseApproval),
            time: at,
            ...(trusted ? { trusted } : {}),
          })
        ).plan
      },
    })
    return { cache, computed }
  }

  beforeAll(async () => {
    ;({ repo, dispose } = await exampleRepo({ accounts: 10, clusters: 4 }))
    editRollout(repo, quickStages)
    first = await commitAll(repo, 'quick stages')
    const { db } = testStore.store
    sim = new SimProvider({ db })
    await sim.updateSettings({ latencyScale: 0 })
    const registry = new ProviderRegistry([sim])
    const fleet = await loadCommit(repo, first)
    await sim.seed(fleet.targets)
    await applyFleet({ head: fleet, registry, db, revision: first, now: new Date(NOW) })
    app = new Application({ db, registry, repoDir: repo })
  }, 120_000)
  afterAll(async () => {
    await app?.close()
    dispose?.()
  })

  test('a plan is computed once and reused, in this process and from the store in another', async () => {
    const { cache, computed } = newCache()
    const plan = await cache.plan(first, [], time)
    expect(plan.summary.targetsChanged).toBe(0) // the fleet is as the commit has it
    expect(await cache.plan(first, [], time)).toEqual(plan)
    expect(computed).toEqual([first])
    const other = newCache()
    expect(await other.cache.plan(first, [], time)).toEqual(plan)
    expect(other.computed).toEqual([])
  })

  test('a new commit, an apply of it and a change outside Flotilla each make the plan computed again', async () => {
    const { cache, computed } = newCache()
    await cache.plan(first, [], time)
    const fleet = await loadCommit(repo, first)
    const account = fleet.targets.find((t) => t.kind === 'account')!
    setLogExpiry(repo, { [account.id]: 33 })
    const second = await commitAll(repo, 'a longer log expiry for one account')
    const before: Plan = await cache.plan(second, [], time)
    expect(before.summary.targetsChanged).toBe(1)
    expect(computed.slice(-1)).toEqual([second])
    await cache.plan(second, [], time)
    expect(computed.filter((c) => c === second)).toHaveLength(1)

    const head = await loadCommit(repo, second)
    const applied = await applyFleet({
      head,
      registry: app.registry,
      db: testStore.store.db,
      revision: second,
      now: new Date(NOW),
    })
    expect(applied.failed.size).toBe(0)
    const after = await cache.plan(second, [], time)
    expect(computed.filter((c) => c === second)).toHaveLength(2)
    expect(after.summary.targetsChanged).toBe(0)
    await cache.plan(second, [], time)
    expect(computed.filter((c) => c === second)).toHaveLength(2)

    await sim.addFault({ kind: 'drift', scope: { kind: 'target', id: account.id } }, head.targets)
    const drifted = await cache.plan(second, [], time)
    expect(computed.filter((c) => c === second)).toHaveLength(3)
    expect(drifted.summary.targetsChanged).toBe(1)
  })

  test("a plan is judged by the trusted revision's rules too: a change deleting its own guard is held, and a new tip is a new plan", async () => {
    let judge: string | undefined
    const { cache, computed } = newCache(() => judge)
    const fleet = await loadCommit(repo, first)
    const production = fleet.targets.find((t) => t.kind === 'account' && t.environment === 'production')!
    setLogExpiry(repo, { [production.id]: 44 })
    rmSync(join(repo, 'policies', 'freeze.yaml'))
    const unguarded = await commitAll(repo, 'a production change that deletes the freeze policy')
    // Judged by its own rules alone, the deleted policy is not there to hold it.
    const alone = await cache.plan(unguarded, [], time)
    expect(alone.findings.map((f) => f.rule)).not.toContain('governance-change')
    // Judged by the trusted revision too (the server's plans are), the edit of the rules is held.
    judge = first
    const judged = await cache.plan(unguarded, [], time)
    expect(computed.filter((c) => c === unguarded)).toHaveLength(2)
    expect(judged.verdict).toBe('requires-approval')
    expect(judged.findings.map((f) => f.rule)).toContain('governance-change')
    expect(await cache.plan(unguarded, [], time)).toEqual(judged)
    expect(computed.filter((c) => c === unguarded)).toHaveLength(2)
    // A new tip of the trusted branch: a new key, planned again.
    judge = unguarded
    await cache.plan(unguarded, [], time)
    expect(computed.filter((c) => c === unguarded)).toHaveLength(3)
  })

  test('peek starts the computation and says what it computes; the plan is there once it is done', async () => {
    const { cache, computed } = newCache()
    const whatIf = { at: '2026-11-11T10:00:00.000Z', source: 'what-if' as const }
    const peeked = await cache.peek(first, [], whatIf)
    expect(peeked).toEqual({ computing: { targets: expect.any(Number), since: expect.any(Date) } })
    expect('computing' in peeked && peeked.computing.targets).toBe(
      (await loadCommit(repo, first)).targets.length,
    )
    const plan = await cache.plan(first, [], whatIf) // waits for the computation under way
    expect(await cache.peek(first, [], whatIf)).toEqual({ plan })
    expect(computed).toEqual([first])
  })
})
