import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { MIGRATION_LOCK_KEY, MigrationError, migrateToLatest } from './migrate.ts'
import { migrations } from './migrations/index.ts'
import { testBackends, useTestStore } from './test-store.ts'

describe.each(testBackends)('migrateToLatest on %s', (backend) => {
  const test = useTestStore(backend, { migrate: false })

  it('applies every migration once, then nothing', async () => {
    const { db } = test.store
    expect(await migrateToLatest(db)).toEqual(Object.keys(migrations))
    expect(await migrateToLatest(db)).toEqual([])
    const tables = await db.introspection.getTables()
    expect(tables.map((table) => table.name).sort()).toEqual(
      expect.arrayContaining([
        'audit_log',
        'locks',
        'plans',
        'revisions',
        'rollout_events',
        'rollouts',
        'snapshots',
      ]),
    )
  })

  it('rolls a failing migration back, reports it and releases its lock', async () => {
    const { db } = test.store
    const failing = {
      ...migrations,
      '9999-broken': {
        async up(migrating: typeof db) {
          await sql`create table half_done (id int)`.execute(migrating)
          await sql`select * from no_such_table`.execute(migrating)
        },
      },
    }
    const error = await migrateToLatest(db, failing).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(MigrationError)
    expect((error as MigrationError).message).toMatch(/^migration 9999-broken failed: .*no_such_table/)
    const tables = await db.introspection.getTables()
    expect(tables.map((table) => table.name)).not.toContain('half_done')
    // pg_locks is the whole server's: another test file migrating its own schema holds the same
    // key for a moment. A lock this migration kept would stay held; wait for a moment with none.
    const held = async () =>
      (
        await sql<{ held: number }>`
          select count(*)::int as held from pg_locks
          where locktype = 'advisory' and ((classid::bigint << 32) | objid::bigint) = ${sql.lit(MIGRATION_LOCK_KEY)}`.execute(
          db,
        )
      ).rows[0]!.held
    const deadline = Date.now() + 30_000
    let count = await held()
    while (count > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      count = await held()
    }
    expect(count).toBe(0)
  })
})

describe.runIf(testBackends.includes('postgres'))('migrateToLatest from two processes at once', () => {
  const test = useTestStore('postgres', { migrate: false })

  it('applies each migration exactly once', async () => {
    const other = await test.openAnother()
    const [first, second] = await Promise.all([migrateToLatest(test.store.db), migrateToLatest(other.db)])
    expect([...first, ...second].sort()).toEqual(Object.keys(migrations))
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
      test.store.db,
    )
    expect(applied.rows.map((row) => row.name)).toEqual(Object.keys(migrations))
  })
})
