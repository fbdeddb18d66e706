import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { openDatabase } from './database.ts'
import { migrateToLatest } from './migrate.ts'
import { ensureTemplate, seedFromTemplate, templateArchive } from './pglite-template.ts'

describe('new embedded stores start as a copy of an empty database', () => {
  const work = mkdtempSync(join(tmpdir(), 'flotilla-template-'))
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  test('a new data directory is filled from the template and opens as a working, migratable store', async () => {
    const template = await ensureTemplate()
    expect(readdirSync(template)).toContain('PG_VERSION')
    const dataDir = join(work, 'store')
    expect(await seedFromTemplate(dataDir)).toBe(true)
    expect(readdirSync(dataDir).sort()).toEqual(readdirSync(template).sort())
    const store = await openDatabase({ kind: 'pglite', dataDir })
    try {
      await migrateToLatest(store.db)
      await store.db
        .insertInto('audit_log')
        .values({ actor: 't', action: 'x', subject: 's', detail: '{}', source: 'test' })
        .execute()
      expect(await store.db.selectFrom('audit_log').select('actor').execute()).toEqual([{ actor: 't' }])
    } finally {
      await store.close()
    }
    // The template itself stays empty: a second store from it has none of the first's rows.
    const second = await openDatabase({ kind: 'pglite', dataDir: join(work, 'second') })
    try {
      const tables = await second.db.introspection.getTables()
      expect(tables.map((t) => t.name)).not.toContain('audit_log')
    } finally {
      await second.close()
    }
  })

  test('an in-memory store loads the empty database from its archive, and works', async () => {
    expect(await templateArchive()).toBeInstanceOf(Blob)
    const store = await openDatabase({ kind: 'pglite' })
    try {
      expect(await store.db.introspection.getTables()).toEqual([])
      await migrateToLatest(store.db)
      expect((await store.db.introspection.getTables()).map((t) => t.name)).toContain('audit_log')
    } finally {
      await store.close()
    }
  })

  test('a directory with anything in it is never filled from the template', async () => {
    const damaged = join(work, 'damaged')
    mkdirSync(damaged)
    writeFileSync(join(damaged, 'postgresql.conf'), '# a store that lost its PG_VERSION\n')
    expect(await seedFromTemplate(damaged)).toBe(false)
    expect(readdirSync(damaged)).toEqual(['postgresql.conf'])
  })
})
