import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { describeSqlSchema, SQL_SCHEMA_PATH } from './sql-schema.ts'
import { useTestStore } from './test-store.ts'

describe(SQL_SCHEMA_PATH, () => {
  const test = useTestStore('pglite')

  it('matches the migrations (regenerate with `npx tsx scripts/generate-sql-schema.ts`)', async () => {
    const checkedIn = await readFile(new URL(`../../${SQL_SCHEMA_PATH}`, import.meta.url), 'utf8')
    const generated = await describeSqlSchema(test.store.db)
    expect(generated).toContain('## rollout_events')
    expect(checkedIn).toBe(generated)
  })
})
