import { type Kysely, sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import type { Database } from '../store/tables.ts'
import { useTestStore } from '../store/test-store.ts'
import { checkpointStore } from './store-checkpoint.ts'

/** Every row of the tables the test touches, control plane's and simulated fleet's, as text. */
async function contents(db: Kysely<Database>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const table of ['plans', 'rollouts', 'applied_states', 'sim.sim_meta']) {
    const { rows } = await sql<{
      row: string
    }>`select t::text as row from ${sql.raw(table)} t order by 1`.execute(db)
    out[table] = rows.map((r) => r.row)
  }
  return out
}

// The drill's store is always an embedded PGlite (it never reads FLOTILLA_DATABASE_URL).
describe('a checkpoint of the drill store', () => {
  const test = useTestStore('pglite')

  it('puts back every row of the control plane and the simulated fleet as they were, foreign keys and all', async () => {
    const { db } = test.store
    await db
      .insertInto('plans')
      .values({ id: 'p-1', base: 'observed', head: 'a', verdict: 'allowed', document: '{}' })
      .execute()
    await db
      .insertInto('rollouts')
      .values({ id: 'r-1', plan_id: 'p-1', state: 'running', revision: 'a', created_by: 'alice' })
      .execute()
    await db
      .insertInto('applied_states')
      .values({ target: 'acct-1', provider: 'sim', revision: 'a', fingerprints: '{"x":"1"}' })
      .execute()
    await sql`insert into sim.sim_meta (key, value) values ('drill-test', '1'::jsonb)`.execute(db)
    const before = await contents(db)
    const checkpoint = await checkpointStore(db)

    // A scenario changes everything: a row gone, one changed, new ones (with their foreign keys).
    await db.deleteFrom('applied_states').execute()
    await db.updateTable('rollouts').set({ state: 'rolled-back' }).execute()
    await db
      .insertInto('plans')
      .values({ id: 'p-2', base: 'observed', head: 'b', verdict: 'allowed', document: '{}' })
      .execute()
    await db
      .insertInto('rollouts')
      .values({ id: 'r-2', plan_id: 'p-2', state: 'running', revision: 'b', created_by: 'bob' })
      .execute()
    await sql`update sim.sim_meta set value = '2'::jsonb where key = 'drill-test'`.execute(db)
    expect(await contents(db)).not.toEqual(before)

    await checkpoint.restore()
    expect(await contents(db)).toEqual(before)
    // And again: a checkpoint serves every scenario after it.
    await db.deleteFrom('rollouts').execute()
    await checkpoint.restore()
    expect(await contents(db)).toEqual(before)
  })
})
