/**
 * The drill's own store: an embedded PGlite in the scratch directory, migrated to the latest
 * schema. Like every new store on disk it starts as a copy of an empty database
 * (`store/pglite-template.ts`), so a drill does not pay for `initdb` and its memory; and as a
 * scratch store, thrown away after the drill, it writes nothing to disk at a commit.
 */
import { openDatabase, type Store } from '../store/database.ts'
import { migrateToLatest } from '../store/migrate.ts'

/** Opens a drill's store in `dataDir` (which must not exist yet), migrated to the latest schema. */
export async function openDrillStore(dataDir: string): Promise<Store> {
  const store = await openDatabase({ kind: 'pglite', dataDir, scratch: true })
  try {
    await migrateToLatest(store.db)
    return store
  } catch (error) {
    await store.close()
    throw error
  }
}
