import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, storeConfigFromEnvironment } from './database.ts'
import { appendRolloutEvent, listRolloutEvents } from './events.ts'
import { migrateToLatest } from './migrate.ts'
import { migrations } from './migrations/index.ts'
import { testBackends, useTestStore } from './test-store.ts'

const plan = (id: string) => ({
  id,
  base: 'aaa',
  head: 'bbb',
  verdict: 'safe',
  document: JSON.stringify({ changes: [{ target: 'acct-1', kind: 'update' }], tags: ['a', 'b'] }),
})

describe.each(testBackends)('the store on %s', (backend) => {
  const test = useTestStore(backend)

  it('round-trips jsonb documents, timestamps and bigserial ids', async () => {
    const { db } = test.store
    await db.insertInto('plans').values(plan('plan-json')).execute()
    const stored = await db
      .selectFrom('plans')
      .selectAll()
      .where('id', '=', 'plan-json')
      .executeTakeFirstOrThrow()
    expect(stored.document).toEqual({ changes: [{ target: 'acct-1', kind: 'update' }], tags: ['a', 'b'] })
    expect(stored.created_at).toBeInstanceOf(Date)
    const entry = await db
      .insertInto('audit_log')
      .values({ actor: 'a', action: 'b', subject: 'c', source: 'test', detail: JSON.stringify([1, 2]) })
      .returning(['id', 'detail'])
      .executeTakeFirstOrThrow()
    expect(typeof entry.id).toBe('number')
    expect(entry.detail).toEqual([1, 2])
  })

  it('commits a transaction and rolls back one that throws', async () => {
    const { db } = test.store
    await db.transaction().execute((trx) => trx.insertInto('plans').values(plan('plan-committed')).execute())
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('plans').values(plan('plan-rolled-back')).execute()
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    const ids = await db
      .selectFrom('plans')
      .select('id')
      .where('id', 'in', ['plan-committed', 'plan-rolled-back'])
      .execute()
    expect(ids.map((row) => row.id)).toEqual(['plan-committed'])
  })

  it('rolls back to a savepoint', async () => {
    const { db } = test.store
    const trx = await db.startTransaction().execute()
    await trx.insertInto('plans').values(plan('plan-before-savepoint')).execute()
    const withSavepoint = await trx.savepoint('before_second').execute()
    await withSavepoint.insertInto('plans').values(plan('plan-after-savepoint')).execute()
    await withSavepoint.rollbackToSavepoint('before_second').execute()
    await trx.commit().execute()
    const ids = await db.selectFrom('plans').select('id').where('id', 'like', 'plan-%-savepoint').execute()
    expect(ids.map((row) => row.id)).toEqual(['plan-before-savepoint'])
  })

  it('never shows another query the uncommitted writes of an open transaction', async () => {
    const { db } = test.store
    let countDuringTransaction: Promise<{ count: number }> | undefined
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('plans').values(plan('plan-uncommitted')).execute()
        // On PGlite this query waits for the transaction's connection; on PostgreSQL it runs
        // on another connection. Either way it must not count the uncommitted row.
        countDuringTransaction = db
          .selectFrom('plans')
          .select(sql<number>`count(*)::int`.as('count'))
          .where('id', '=', 'plan-uncommitted')
          .executeTakeFirstOrThrow()
        await new Promise((resolve) => setTimeout(resolve, 20))
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    expect(await countDuringTransaction).toEqual({ count: 0 })
  })
})

describe('the embedded store in a data directory', () => {
  let dataDir: string
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'flotilla-store-'))
  })
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('keeps its rows and its migrations across close and reopen', async () => {
    const first = await openDatabase({ kind: 'pglite', dataDir })
    expect(await migrateToLatest(first.db)).toEqual(Object.keys(migrations))
    await first.db.insertInto('plans').values(plan('plan-1')).execute()
    await first.db
      .insertInto('rollouts')
      .values({ id: 'ro-1', plan_id: 'plan-1', state: 'running', revision: 'bbb', created_by: 'me' })
      .execute()
    await appendRolloutEvent(first.db, { rolloutId: 'ro-1', type: 'started' })
    await first.close()

    const second = await openDatabase({ kind: 'pglite', dataDir })
    try {
      expect(await migrateToLatest(second.db)).toEqual([])
      expect((await listRolloutEvents(second.db, 'ro-1')).map((event) => event.type)).toEqual(['started'])
    } finally {
      await second.close()
    }
  })
})

describe('a scratch store', () => {
  it('writes nothing at a commit; a store that matters does', async () => {
    const settings = async (scratch: boolean) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'flotilla-store-'))
      const store = await openDatabase({ kind: 'pglite', dataDir, scratch })
      try {
        const { rows } = await sql<{ name: string; setting: string }>`
          select name, setting from pg_settings
          where name in ('synchronous_commit', 'full_page_writes') order by name`.execute(store.db)
        return Object.fromEntries(rows.map((row) => [row.name, row.setting]))
      } finally {
        await store.close()
        await rm(dataDir, { recursive: true, force: true })
      }
    }
    expect(await settings(true)).toEqual({ full_page_writes: 'off', synchronous_commit: 'off' })
    expect(await settings(false)).toEqual({ full_page_writes: 'on', synchronous_commit: 'on' })
  })
})

describe('storeConfigFromEnvironment', () => {
  it('uses PostgreSQL when FLOTILLA_DATABASE_URL is set and the data directory otherwise', () => {
    expect(
      storeConfigFromEnvironment({ FLOTILLA_DATABASE_URL: 'postgres://db/flotilla' }, '.flotilla'),
    ).toEqual({
      kind: 'postgres',
      url: 'postgres://db/flotilla',
    })
    expect(storeConfigFromEnvironment({}, '.flotilla')).toEqual({ kind: 'pglite', dataDir: '.flotilla' })
  })
})
