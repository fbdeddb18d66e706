import { PGlite } from '@electric-sql/pglite'
import { Kysely } from 'kysely'
import pg from 'pg'
import { CurrentSchemaPostgresDialect } from './current-schema-introspector.ts'
import { PGliteDialect } from './pglite-dialect.ts'
import { seedFromTemplate, templateArchive } from './pglite-template.ts'
import type { Database } from './tables.ts'

/**
 * Where the store lives:
 * - `pglite`: embedded PostgreSQL (PGlite) in this process, its files in `dataDir`, or in
 *   memory when there is none. One process at a time may open a data directory.
 * - `postgres`: a PostgreSQL server, e.g. from `FLOTILLA_DATABASE_URL`
 *   (`postgres://user:password@host:5432/flotilla`).
 */
export type StoreConfig =
  | {
      kind: 'pglite'
      dataDir?: string
      /**
       * A store thrown away after use (a drill's): a commit writes nothing to disk
       * (`synchronous_commit`, `full_page_writes` off; PGlite never calls fsync anyway), which a
       * crash could cost only a store nobody keeps. ~30 % less time per small transaction. Never
       * for a store whose contents matter.
       */
      scratch?: boolean
    }
  | { kind: 'postgres'; url: string }

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

/**
 * PostgreSQL settings of the embedded store. PGlite runs inside the process, so PostgreSQL's
 * buffer cache is the server's own memory: the default 128 MB of `shared_buffers`, filled by the
 * simulated fleet's tables, made the idle server of the example hold ~135 MB more. PGlite's files
 * are real files, which the operating system caches anyway: 16 MB keeps hot pages close.
 */
const PGLITE_SETTINGS = ['-c', 'shared_buffers=16MB']

/** A scratch store's settings (see `StoreConfig`): nothing written to disk at a commit. */
const SCRATCH_SETTINGS = ['-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']

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
      // A server that does not answer (a firewall dropping packets) fails the query, not hangs it.
      connectionTimeoutMillis: 15_000,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID && format !== 'binary'
            ? Number
            : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
      },
    })
    const db = new Kysely<Database>({ dialect: new CurrentSchemaPostgresDialect({ pool }) })
    // Kysely's `destroy` ends the pool.
    return { db, close: () => db.destroy() }
  }
  // A new store starts as a copy of an empty database instead of running initdb (see there).
  let archive: Blob | undefined
  if (config.dataDir !== undefined) await seedFromTemplate(config.dataDir)
  else archive = await templateArchive()
  const pglite = await PGlite.create({
    ...(config.dataDir === undefined ? {} : { dataDir: config.dataDir }),
    ...(archive ? { loadDataDir: archive } : {}),
    startParams: [
      ...PGlite.defaultStartParams,
      ...PGLITE_SETTINGS,
      ...(config.scratch ? SCRATCH_SETTINGS : []),
    ],
  })
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) })
  return {
    db,
    async close() {
      await db.destroy()
      await pglite.close()
    },
  }
}
