/** Cached plans as the store keeps them (`plan_cache`, migration 0012); what they mean is `plan-cache.ts`. */
import type { Kysely } from 'kysely'
import type { Plan } from '../core/model/plan.ts'
import type { Database } from '../store/tables.ts'

/** How many cached plans are kept: the newest; older keys are of commits and states gone by. */
export const KEPT_PLANS = 20

/** The cached plan of `key`, if there is one. */
export async function cachedPlan(db: Kysely<Database>, key: string): Promise<Plan | undefined> {
  const row = await db.selectFrom('plan_cache').select('document').where('key', '=', key).executeTakeFirst()
  return row ? (row.document as unknown as Plan) : undefined
}

/** Keeps a computed plan (a second server that computed it too keeps the first) and prunes the oldest. */
export async function keepPlan(
  db: Kysely<Database>,
  entry: { key: string; head: string; observed: string; plan: Plan; computedMs: number },
): Promise<void> {
  await db
    .insertInto('plan_cache')
    .values({
      key: entry.key,
      head: entry.head,
      observed: entry.observed,
      document: JSON.stringify(entry.plan),
      computed_ms: Math.round(entry.computedMs),
    })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute()
  await db
    .deleteFrom('plan_cache')
    .where(
      'key',
      'not in',
      db
        .selectFrom('plan_cache')
        .select('key')
        .orderBy('created_at', 'desc')
        .orderBy('key')
        .limit(KEPT_PLANS),
    )
    .execute()
}
