import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import type { Plan } from '../../core/model/plan.ts'
import { cachedPlan, KEPT_PLANS, keepPlan } from '../../server/plan-cache-store.ts'
import { migrateToLatest } from '../migrate.ts'
import { testBackends, useTestStore } from '../test-store.ts'
import { migrations } from './index.ts'

/** The migrations before the plan cache. */
const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0012'))

const plan = (n: number) => ({ summary: { targetsChanged: n } }) as unknown as Plan

describe.each(testBackends)('0012-plan-cache on %s', (backend) => {
  const test = useTestStore(backend, { migrate: false })

  it('adds the plan cache to a store of 0011; plans are kept by key and the oldest pruned', async () => {
    const { db } = test.store
    await migrateToLatest(db, before)
    expect((await migrateToLatest(db))[0]).toBe('0012-plan-cache')
    await keepPlan(db, { key: 'k0', head: 'c1', observed: 'v1', plan: plan(0), computedMs: 12.4 })
    // A second server that computed the same key keeps the first one's.
    await keepPlan(db, { key: 'k0', head: 'c1', observed: 'v1', plan: plan(9), computedMs: 1 })
    expect(await cachedPlan(db, 'k0')).toEqual(plan(0))
    expect(await cachedPlan(db, 'nothing')).toBeUndefined()
    for (let i = 1; i <= KEPT_PLANS; i++) {
      await sql`update plan_cache set created_at = created_at - interval '1 minute'`.execute(db)
      await keepPlan(db, { key: `k${i}`, head: 'c1', observed: `v${i}`, plan: plan(i), computedMs: 1 })
    }
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from plan_cache`.execute(db)
    expect(rows[0]!.n).toBe(KEPT_PLANS)
    expect(await cachedPlan(db, 'k0')).toBeUndefined() // the oldest went
    expect(await cachedPlan(db, `k${KEPT_PLANS}`)).toEqual(plan(KEPT_PLANS))
  })

  it('drops the cache down, and adds it again', async () => {
    const { db } = test.store
    await migrations['0012-plan-cache']!.down!(db)
    const exists = async () =>
      (
        await sql<{
          n: number
        }>`select count(*)::int as n from information_schema.tables where table_schema = current_schema() and table_name = 'plan_cache'`.execute(
          db,
        )
      ).rows[0]!.n
    expect(await exists()).toBe(0)
    await migrations['0012-plan-cache']!.up(db)
    expect(await exists()).toBe(1)
  })
})
