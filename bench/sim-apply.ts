// Seeding a simulated fleet from the example inventory and applying the example revision to all
// of it (zero latency), on the embedded store (PGlite in a data directory) and on PostgreSQL.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { Fleet } from '../src/core/model/fleet-model.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { applyFleet } from '../src/operations/apply-fleet.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { openDatabase, type StoreConfig } from '../src/store/database.ts'
import { migrateToLatest } from '../src/store/migrate.ts'

/** What one seed-and-apply run took and did. */
export interface SeedApplyResult {
  readonly seedMs: number
  readonly applyMs: number
  readonly targets: number
  readonly stacks: number
  readonly objects: number
  readonly failed: number
}

/** Seeds and applies `fleet` on a fresh store of `config`; the time excludes opening and migrating. */
export async function seedAndApply(
  fleet: Fleet,
  config: StoreConfig,
  concurrency: number,
): Promise<SeedApplyResult> {
  const store = await openDatabase(config)
  try {
    await migrateToLatest(store.db)
    const sim = new SimProvider({ db: store.db })
    await sim.updateSettings({ latencyScale: 0 })
    const start = performance.now()
    await sim.seed(fleet.targets)
    const seeded = performance.now()
    const result = await applyFleet({
      head: fleet,
      registry: new ProviderRegistry([sim]),
      db: store.db,
      revision: 'bench',
      now: new Date('2026-11-10T10:00:00Z'),
      concurrency,
    })
    const done = performance.now()
    if (result.blocked) throw new Error(`the example plan is ${result.blocked}`)
    const status = await sim.status()
    return {
      seedMs: seeded - start,
      applyMs: done - seeded,
      targets: result.applied,
      stacks: Object.values(status.stacks).reduce((a, b) => a + b, 0),
      objects: status.objects.total,
      failed: result.failed.size,
    }
  } finally {
    await store.close()
  }
}

/** A fresh PGlite data directory. */
export function pgliteConfig(): { config: StoreConfig; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-store-'))
  return {
    config: { kind: 'pglite', dataDir: join(dir, 'pgdata') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** A fresh schema on the PostgreSQL server of `url`, dropped by `cleanup`. */
export async function postgresConfig(
  url: string,
): Promise<{ config: StoreConfig; cleanup: () => Promise<void> }> {
  const schema = `flotilla_bench_${randomBytes(4).toString('hex')}`
  const run = async (text: string) => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await client.query(text)
    } finally {
      await client.end()
    }
  }
  await run(`create schema ${schema}`)
  const scoped = new URL(url)
  scoped.searchParams.set('options', `-c search_path=${schema}`)
  return {
    config: { kind: 'postgres', url: scoped.toString() },
    cleanup: () => run(`drop schema ${schema} cascade`),
  }
}
