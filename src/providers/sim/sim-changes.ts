/**
 * What changed in the simulated fleet since an earlier look (the port's `changedSince`), without
 * scanning it: statement triggers (migration 0012) keep, per target, the version of its last
 * change in `sim_changes` — any write of its objects, stacks or inventory entry — and indexes on
 * the times things become due (an object ready, a stack operation settling) tell what became due
 * since a moment. What every target depends on (settings, DNS serial and zones, active faults,
 * images) is one digest: when it moves, every target counts as changed.
 *
 * A cursor names the world at one look: the newest change version, the newest ready and settle
 * times that had passed, and the digest. The same world at the same moment gives the same cursor
 * in any process, and it moves only when something changed or became due, so it also serves as
 * the observed state's version (cached plans are keyed by it).
 */
import { createHash } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import type { Target } from '../../core/model/fleet-model.ts'
import type { ProviderChanges } from '../../core/provider/port.ts'
import type { Database } from '../../store/tables.ts'
import { type SimDb, simDatabase, simSchemaOf } from './sim-database.ts'

/** The world at one look (see the module comment). */
interface Look {
  readonly version: number
  /** The newest `ready_at` of an object, and `settles_at` of a stack, at or before the look. */
  readonly ready: string
  readonly settles: string
  readonly global: string
}

function cursorOf(look: Look): string {
  return [look.version, look.ready, look.settles, look.global].join('~')
}

function parseCursor(cursor: string): Look | undefined {
  const [version, ready, settles, global] = cursor.split('~')
  if (global === undefined || !/^\d+$/.test(version ?? '')) return undefined
  return { version: Number(version), ready: ready ?? '', settles: settles ?? '', global }
}

async function lookAt(store: Kysely<Database>, db: SimDb, now: Date): Promise<Look> {
  const changes = sql.id(await simSchemaOf(store), 'sim_changes')
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('sim_meta')
        .select(sql<string>`coalesce(string_agg(key || '=' || value::text, ',' order by key), '')`.as('v'))
        .as('meta'),
      eb
        .selectFrom('sim_faults')
        .select(sql<string>`coalesce(string_agg(id, ',' order by id), '')`.as('v'))
        .where((w) => w.or([w('expires_at', 'is', null), w('expires_at', '>', now)]))
        .as('faults'),
      eb
        .selectFrom('sim_zones')
        .select(sql<string>`count(*) || ':' || coalesce(max(created_at)::text, '')`.as('v'))
        .as('zones'),
      eb.selectFrom('sim_stack_events').select(sql<string>`coalesce(max(id), 0)::text`.as('v')).as('events'),
      eb
        .selectFrom('sim_images')
        .select(sql<string>`count(*) || ':' || coalesce(max(added_at)::text, '')`.as('v'))
        .as('images'),
      // Each of these is an index lookup (migration 0012).
      sql<string>`(select coalesce(max(version), 0)::text from ${changes})`.as('version'),
      eb
        .selectFrom('sim_objects')
        .select(sql<string>`coalesce(max(ready_at)::text, '')`.as('v'))
        .where('ready_at', '<=', now)
        .as('ready'),
      eb
        .selectFrom('sim_stacks')
        .select(sql<string>`coalesce(max(settles_at)::text, '')`.as('v'))
        .where('settles_at', '<=', now)
        .as('settles'),
    ])
    .executeTakeFirstOrThrow()
  const global = createHash('sha256')
    .update([row.meta, row.faults, row.zones, row.images].join('\n'))
    .digest('base64url')
    .slice(0, 16)
  return { version: Number(row.version), ready: row.ready ?? '', settles: row.settles ?? '', global }
}

/** What changed for `targets` since `cursor` at the world's `now` (see the module comment). */
export async function simChangesSince(
  store: Kysely<Database>,
  now: Date,
  targets: readonly Target[],
  cursor: string | undefined,
): Promise<ProviderChanges> {
  const db = await simDatabase(store)
  const look = await lookAt(store, db, now)
  const next = cursorOf(look)
  const before = cursor === undefined ? undefined : parseCursor(cursor)
  if (cursor === next) return { cursor: next, changed: new Set() }
  if (!before || before.global !== look.global || before.version > look.version)
    return { cursor: next, changed: 'all' }
  const ids = new Set<string>()
  if (look.version > before.version) {
    const changes = sql.id(await simSchemaOf(store), 'sim_changes')
    const { rows } = await sql<{
      target: string
    }>`select target from ${changes} where version > ${before.version}`.execute(db)
    for (const row of rows) ids.add(row.target)
  }
  if (look.ready !== before.ready) {
    const due = await db
      .selectFrom('sim_objects')
      .select('cluster')
      .distinct()
      .where('ready_at', '<=', now)
      .$if(before.ready !== '', (q) => q.where('ready_at', '>', sql<Date>`${before.ready}::timestamptz`))
      .execute()
    for (const row of due) ids.add(row.cluster)
  }
  if (look.settles !== before.settles) {
    const due = await db
      .selectFrom('sim_stacks')
      .select('target')
      .distinct()
      .where('settles_at', '<=', now)
      .$if(before.settles !== '', (q) =>
        q.where('settles_at', '>', sql<Date>`${before.settles}::timestamptz`),
      )
      .execute()
    for (const row of due) ids.add(row.target)
  }
  return { cursor: next, changed: new Set(targets.filter((t) => ids.has(t.id)).map((t) => t.id)) }
}
