import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { testBackends, useTestStore, withClient } from './test-store.ts'

describe.each(testBackends)('introspection on %s', (backend) => {
  const test = useTestStore(backend)

  it("lists the current schema's tables with their columns, Kysely's own only when asked", async () => {
    const { db } = test.store
    const tables = await db.introspection.getTables()
    const names = tables.map((table) => table.name)
    expect(names).toContain('audit_log')
    expect(names).not.toContain('kysely_migration')
    expect(new Set(tables.map((table) => table.schema)).size).toBe(1)
    const audit = tables.find((table) => table.name === 'audit_log')!
    expect(audit.columns.find((column) => column.name === 'id')).toMatchObject({ isAutoIncrementing: true })
    const withInternal = await db.introspection.getTables({ withInternalKyselyTables: true })
    expect(withInternal.map((table) => table.name)).toContain('kysely_migration')
  })

  it.runIf(backend === 'postgres')(
    'is not disturbed by other schemas being created and dropped meanwhile (another suite, another installation)',
    async () => {
      const { db } = test.store
      const url = process.env.TEST_DATABASE_URL!
      const others = Array.from({ length: 30 }, () => `flotilla_other_${randomBytes(6).toString('hex')}`)
      // Another installation churning schemas with tables in them, while this one introspects.
      const churn = withClient(url, async (client) => {
        for (const schema of others) {
          await client.query(`create schema ${schema}; create table ${schema}.t (id serial, v text)`)
          await client.query(`drop schema ${schema} cascade`)
        }
      })
      const looks: Promise<unknown>[] = []
      for (let round = 0; round < 30; round++) looks.push(db.introspection.getTables())
      await Promise.all([churn, ...looks])
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_namespace where nspname like 'flotilla_other_%'`.execute(db)
      expect(rows[0]!.n).toBe(0)
    },
  )
})
