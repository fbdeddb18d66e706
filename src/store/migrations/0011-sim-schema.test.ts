import { type Kysely, sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { simDatabase, simSchemaOf } from '../../providers/sim/sim-database.ts'
import { migrateToLatest } from '../migrate.ts'
import type { Database } from '../tables.ts'
import { testBackends, useTestStore } from '../test-store.ts'
import { migrations } from './index.ts'

/** The migrations of 0.1, before the simulated fleet moved into its own schema. */
const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0011'))
/** Those and this one (later migrations build on the schema it makes). */
const upTo0011 = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0012'))

/** The tables of the connection's own schema (introspection lists every schema's). */
async function controlPlaneTables(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{
    name: string
  }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(
    db,
  )
  return rows.map((row) => row.name)
}

describe.each(testBackends)('0011-sim-schema on %s', (backend) => {
  const test = useTestStore(backend, { migrate: false })

  it('moves the simulated fleet of a store of 0.1 into its own schema, rows and sequence with it', async () => {
    const { db } = test.store
    await migrateToLatest(db, before)
    // A simulated fleet as 0.1 kept it, in the control plane's schema.
    await sql`insert into sim_targets (id, kind, name, account, info) values ('111111111111', 'account', 'shop-prod', '111111111111', '{"regions":["eu-central-1"]}')`.execute(
      db,
    )
    await sql`insert into sim_objects (address, cluster, component, object, ready_at) values ('c/ns/ConfigMap/a', 'c', 'shop', '{}', now())`.execute(
      db,
    )
    await sql`insert into sim_meta (key, value) values ('settings', '{"latencyScale":0}')`.execute(db)
    const { rows: versionBefore } = await sql<{
      v: number
    }>`select resource_version as v from sim_objects`.execute(db)

    expect(await migrateToLatest(db, upTo0011)).toEqual(['0011-sim-schema'])

    expect((await controlPlaneTables(db)).filter((name) => name.startsWith('sim_'))).toEqual([])
    expect(await controlPlaneTables(db)).toContain('snapshots')
    const sim = await simDatabase(db)
    expect(await sim.selectFrom('sim_targets').select(['id', 'name', 'info']).execute()).toEqual([
      { id: '111111111111', name: 'shop-prod', info: { regions: ['eu-central-1'] } },
    ])
    expect(await sim.selectFrom('sim_meta').select(['key', 'value']).execute()).toEqual([
      { key: 'settings', value: { latencyScale: 0 } },
    ])
    // The column default still draws from the (moved) sequence.
    await sim
      .insertInto('sim_objects')
      .values({
        address: 'c/ns/ConfigMap/b',
        cluster: 'c',
        component: 'shop',
        object: '{}',
        ready_at: new Date(),
      })
      .execute()
    const versions = await sim
      .selectFrom('sim_objects')
      .select('resource_version')
      .orderBy('address')
      .execute()
    expect(versions[1]!.resource_version).toBeGreaterThan(versionBefore[0]!.v)
    const schema = await simSchemaOf(db)
    const { rows } = await sql<{
      n: number
    }>`select count(*)::int as n from information_schema.tables where table_schema = ${schema}`.execute(db)
    expect(rows[0]!.n).toBe(11)
  })

  it('moves them back down, and up again', async () => {
    const { db } = test.store
    await migrations['0011-sim-schema']!.down!(db)
    expect((await controlPlaneTables(db)).filter((name) => name.startsWith('sim_')).length).toBe(11)
    await migrations['0011-sim-schema']!.up(db)
    const sim = await simDatabase(db)
    expect((await sim.selectFrom('sim_targets').select('id').execute()).map((r) => r.id)).toEqual([
      '111111111111',
    ])
  })
})
