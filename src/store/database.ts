import { existsSync, readdirSync, statSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { Kysely } from 'kysely'
import pg from 'pg'
import { ConflictError } from '../core/errors.ts'
import { CurrentSchemaPostgresDialect } from './current-schema-introspector.ts'
import { PGliteDialect } from './pglite-dialect.ts'
import { holdsDatabase, seedFromTemplate, templateArchive } from './pglite-template.ts'
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
  const { dataDir } = config
  // A new store starts as a copy of an empty database instead of running initdb (see there).
  let archive: Blob | undefined
  const existing = dataDir !== undefined && existingStore(dataDir)
  if (dataDir === undefined) archive = await templateArchive()
  else if (!existing) await seedFromTemplate(dataDir)
  const pglite = await PGlite.create({
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(archive ? { loadDataDir: archive } : {}),
    startParams: [
      ...PGlite.defaultStartParams,
      ...PGLITE_SETTINGS,
      ...(config.scratch ? SCRATCH_SETTINGS : []),
    ],
  }).catch((error: unknown) => {
    if (!existing) throw error
    // PostgreSQL stopped on the files of a store that was there (a truncated pg_control aborts it).
    throw new ConflictError(
      `the embedded store in ${dataDir} cannot be opened (${(error as Error).message || String(error)}): its files are damaged; restore the folder from a backup, or move it aside to start a new, empty store`,
      { cause: error },
    )
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

/**
 * Whether `dataDir` holds a store already (false: absent or empty, a new store is made there).
 * A folder with files but no database is refused, never built over: PGlite would quietly make a
 * new, empty database among them — a new admin token, the users, rollouts and audit log gone.
 */
function existingStore(dataDir: string): boolean {
  if (!existsSync(dataDir)) return false
  const refuse = (what: string) =>
    new ConflictError(
      `the embedded store in ${dataDir} is damaged or not a Flotilla store: ${what}; restore it from a backup, or move it aside to start a new, empty store`,
    )
  if (!statSync(dataDir).isDirectory()) throw refuse('it is a file, not a folder')
  if (holdsDatabase(dataDir)) return true
  if (readdirSync(dataDir).length === 0) return false
  throw refuse('the folder holds files but no PG_VERSION')
}
