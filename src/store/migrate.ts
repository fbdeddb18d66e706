import { type Kysely, type Migration, type MigrationResult, Migrator, sql } from 'kysely'
import { migrations } from './migrations/index.ts'
import type { Database } from './tables.ts'

/**
 * The key of the session-level advisory lock held while migrating ("flotilla" in ASCII).
 * Kysely's migrator takes a lock of its own inside; ours also covers creating its bookkeeping
 * tables, so two processes starting on an empty database never race.
 */
export const MIGRATION_LOCK_KEY = 0x666c6f74696c6c61n

/** Thrown when a migration fails; nothing of the failed migration is applied. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError'
  /** The migrations that ran, with their status. */
  readonly results: readonly MigrationResult[]

  constructor(message: string, results: readonly MigrationResult[], options?: ErrorOptions) {
    super(message, options)
    this.results = results
  }
}

/**
 * Applies every migration not yet applied, in order, each in its own transaction. Safe to call
 * from several processes at once: they wait for each other on a PostgreSQL advisory lock
 * (`pg_advisory_lock`), and each migration is applied once. On PGlite only one process opens
 * a data directory, so the lock is taken but never contended.
 *
 * @param migrationSet the migrations to apply @default every migration of `migrations/`
 * @returns the names of the migrations this call applied (empty when up to date).
 * @throws MigrationError when a migration fails.
 */
export async function migrateToLatest(
  db: Kysely<Database>,
  migrationSet: Record<string, Migration> = migrations,
): Promise<string[]> {
  // A session-level lock lives on one connection: pin one for the lock, the run and the unlock.
  return db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(connection)
    try {
      // Kysely looks for its bookkeeping tables in every schema it can see; pinning them to the
      // current schema keeps two installations (or test suites) in one database apart.
      const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(connection)
      const migrator = new Migrator({
        db: connection,
        provider: { getMigrations: async () => migrationSet },
        migrationTableSchema: rows[0]?.schema ?? 'public',
      })
      const { error, results = [] } = await migrator.migrateToLatest()
      if (error !== undefined) {
        const failed = results.find((result) => result.status === 'Error')?.migrationName
        const reason = error instanceof Error ? error.message : String(error)
        throw new MigrationError(
          failed === undefined ? `migrating failed: ${reason}` : `migration ${failed} failed: ${reason}`,
          results,
          { cause: error },
        )
      }
      return results.map((result) => result.migrationName)
    } finally {
      await sql`select pg_advisory_unlock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(connection)
    }
  })
}
