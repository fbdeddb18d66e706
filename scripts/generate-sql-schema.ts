// Writes schema/sql.md: the migrations applied to an empty in-memory PGlite, described.
import { writeFile } from 'node:fs/promises'
import { openDatabase } from '../src/store/database.ts'
import { migrateToLatest } from '../src/store/migrate.ts'
import { describeSqlSchema, SQL_SCHEMA_PATH } from '../src/store/sql-schema.ts'

const store = await openDatabase({ kind: 'pglite' })
try {
  await migrateToLatest(store.db)
  await writeFile(new URL(`../${SQL_SCHEMA_PATH}`, import.meta.url), await describeSqlSchema(store.db))
  console.log(`wrote ${SQL_SCHEMA_PATH}`)
} finally {
  await store.close()
}
