import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll } from 'vitest'
import { openDatabase, type Store, type StoreConfig } from './database.ts'
import { migrateToLatest } from './migrate.ts'
import { simSchemaName } from './sim-schema.ts'

/** The backends the store tests run on: PGlite always, PostgreSQL when `TEST_DATABASE_URL` is set. */
export type TestBackend = 'pglite' | 'postgres'

/** PGlite, plus PostgreSQL when `TEST_DATABASE_URL` is set (CI sets it). */
export const testBackends: readonly TestBackend[] = process.env.TEST_DATABASE_URL
  ? ['pglite', 'postgres']
  : ['pglite']

/** A database of one test suite; valid from `beforeAll` on. */
export interface TestStore {
  /** The store opened for the suite (migrated unless asked otherwise). */
  readonly store: Store
  /** Opens another store on the same database (PostgreSQL only: an in-memory PGlite is private). */
  openAnother(): Promise<Store>
}

/**
 * Gives the calling `describe` block a database of its own: an in-memory PGlite, or on
 * PostgreSQL a fresh schema `flotilla_test_<random>` (through `search_path`) that is dropped
 * after the suite with the simulated fleet's schema beside it, so parallel runs and reruns never see each other's rows.
 */
export function useTestStore(backend: TestBackend, options: { migrate?: boolean } = {}): TestStore {
  let store: Store | undefined
  let config: StoreConfig | undefined
  let dropSchema: (() => Promise<void>) | undefined
  const opened: Store[] = []

  beforeAll(async () => {
    if (backend === 'pglite') {
      config = { kind: 'pglite' }
    } else {
      const url = process.env.TEST_DATABASE_URL
      if (!url) throw new Error('TEST_DATABASE_URL is not set')
      const schema = `flotilla_test_${randomBytes(6).toString('hex')}`
      await withClient(url, (client) => client.query(`create schema ${schema}`))
      dropSchema = async () => {
        // The simulated fleet's schema beside it too (see store/sim-schema.ts).
        await withClient(url, (client) =>
          client.query(
            `drop schema ${schema} cascade; drop schema if exists ${simSchemaName(schema)} cascade`,
          ),
        )
      }
      const scoped = new URL(url)
      scoped.searchParams.set('options', `-c search_path=${schema}`)
      config = { kind: 'postgres', url: scoped.toString() }
    }
    store = await openDatabase(config)
    opened.push(store)
    if (options.migrate !== false) await migrateToLatest(store.db)
  })

  afterAll(async () => {
    await Promise.all(opened.map((each) => each.close()))
    await dropSchema?.()
  })

  return {
    get store() {
      if (!store) throw new Error('the test store is opened in beforeAll')
      return store
    },
    async openAnother() {
      if (config?.kind !== 'postgres') throw new Error('only a PostgreSQL test database can be opened twice')
      const another = await openDatabase(config)
      opened.push(another)
      return another
    },
  }
}

/** Runs `use` with a fresh client of `url`, always closed after. */
export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}
