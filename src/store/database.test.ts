import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
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

describe('a folder that is not a store', () => {
  // Each the way a store folder is lost: files left by a failed copy, a folder of something else,
  // a file where the folder should be. None is built over; an empty folder is a new store.
  it.each([
    ['holds files but no PG_VERSION', { 'base/1/1259': 'x', 'postgresql.conf': '' }],
    ['is a folder of something else', { 'notes.txt': 'mine' }],
  ])('refused when it %s, and left as it is', async (_what, files) => {
    const parent = await mkdtemp(join(tmpdir(), 'flotilla-store-'))
    const dataDir = join(parent, 'pgdata')
    try {
      for (const [file, text] of Object.entries(files)) {
        await mkdir(dirname(join(dataDir, file)), { recursive: true })
        await writeFile(join(dataDir, file), text)
      }
      const before = (await readdir(dataDir, { recursive: true })).sort()
      await expect(openDatabase({ kind: 'pglite', dataDir })).rejects.toThrow(
        `the embedded store in ${dataDir} is damaged or not a Flotilla store: the folder holds files but no PG_VERSION; restore it from a backup, or move it aside to start a new, empty store`,
      )
      expect((await readdir(dataDir, { recursive: true })).sort()).toEqual(before)
    } finally {
      await rm(parent, { recursive: true, force: true })
    }
  })

  it('refused when a file stands where the folder should be; an empty folder is a new store', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'flotilla-store-'))
    try {
      const file = join(parent, 'file')
      await writeFile(file, 'not a store')
      await expect(openDatabase({ kind: 'pglite', dataDir: file })).rejects.toThrow(
        `the embedded store in ${file} is damaged or not a Flotilla store: it is a file, not a folder`,
      )
      const empty = join(parent, 'empty')
      await mkdir(empty)
      const store = await openDatabase({ kind: 'pglite', dataDir: empty })
      await store.close()
    } finally {
      await rm(parent, { recursive: true, force: true })
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
