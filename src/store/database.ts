import { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { PGliteDialect } from './pglite-dialect.ts'
import type { Database } from './tables.ts'

/**
 * Where the store lives:
 * - `pglite`: embedded PostgreSQL (PGlite) in this process, its files in `dataDir`, or in
 *   memory when there is none. One process at a time may open a data directory.
 * - `postgres`: a PostgreSQL server, e.g. from `FLOTILLA_DATABASE_URL`
 *   (`postgres://user:password@host:5432/flotilla`).
 */
export type StoreConfig = { kind: 'pglite'; dataDir?: string } | { kind: 'postgres'; url: string }

/** An open store: the typed query builder and the way to close it. */
export interface Store {
  db: Kysely<Database>
  /** Closes the query builder and the database (PGlite) or its connection pool (PostgreSQL). */
  close(): Promise<void>
}

/** The environment variable that selects a PostgreSQL server instead of the embedded store. */
export const DATABASE_URL_VARIABLE = 'FLOTILLA_DATABASE_URL'

/**
 * Chooses the store from the environment: PostgreSQL when `FLOTILLA_DATABASE_URL` is set,
 * otherwise PGlite in `dataDir`.
 */
export function storeConfigFromEnvironment(env: NodeJS.ProcessEnv, dataDir: string): StoreConfig {
  const url = env[DATABASE_URL_VARIABLE]
  return url ? { kind: 'postgres', url } : { kind: 'pglite', dataDir }
}

// `bigint` / `bigserial` (OID 20): numbers, like PGlite returns them, instead of `pg`'s strings.
// Identifiers and counts stay far below 2^53.
const INT8_OID = 20

/**
 * Opens the store. It does not migrate: call `migrateToLatest(store.db)` next.
 *
 * @example
 * ```ts
 * const store = await openDatabase({ kind: 'pglite', dataDir: '.flotilla' })
 * await migrateToLatest(store.db)
 * ```
 */
export async function openDatabase(config: StoreConfig): Promise<Store> {
  if (config.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: config.url,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID && format !== 'binary'
            ? Number
            : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
      },
    })
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    // Kysely's `destroy` ends the pool.
    return { db, close: () => db.destroy() }
  }
  const pglite = await PGlite.create(config.dataDir === undefined ? {} : { dataDir: config.dataDir })
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) })
  return {
    db,
    async close() {
      await db.destroy()
      await pglite.close()
    },
  }
}
