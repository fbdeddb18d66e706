/** The `plans` table: the plan document a rollout was started with, and the time its policies saw. */
import { type Kysely, sql } from 'kysely'
import type { Plan } from '../core/model/plan.ts'
import type { PolicyTime, PolicyTimeSource } from '../core/policy/policy-time.ts'
import type { Database } from '../store/tables.ts'
import { plannedBytes, plannedChanges } from './target-rows-store.ts'

/** The time the policies of a plan saw, and who set it; null for a plan made before it was kept. */
export async function planPolicyTime(db: Kysely<Database>, planId: string): Promise<PolicyTime | null> {
  const row = await db
    .selectFrom('plans')
    .select(['policy_time', 'policy_time_source'])
    .where('id', '=', planId)
    .executeTakeFirst()
  if (!row?.policy_time || !row.policy_time_source) return null
  return { at: row.policy_time.toISOString(), source: row.policy_time_source as PolicyTimeSource }
}

/** The columns of `plans` that keep the time its policies saw. */
function policyTimeColumns(time: PolicyTime | undefined) {
  return time ? { policy_time: time.at, policy_time_source: time.source } : {}
}

/**
 * How a rollout's plan is stored: its verdict, summary, findings and approvals, and each target
 * without its changes — those are in the target's row of `rollout_targets` (`planned.changes`),
 * which the engine reads anyway, as the provider checks an apply against them (address, action,
 * type, protection). The property diffs are not kept: they are what `flotilla plan` shows for the
 * revision against the state each target had (its row's `previous`), and for a rollout of
 * thousands of targets from empty they are every property of every resource — tens of megabytes
 * written, as JSON, inside the transaction that starts the rollout. A plan stored before this
 * (`targetChanges` absent) holds every change in the document itself; {@link loadPlan} reads both.
 */
export const TARGET_CHANGES_IN_ROWS = 'rollout_targets.planned'

/** The plan document as stored: the changes of the targets in `rowTargets` left to their rows. */
function storedDocument(plan: Plan, rowTargets: ReadonlySet<string>): string {
  return JSON.stringify({
    ...plan,
    targets: plan.targets.map((target) => (rowTargets.has(target.id) ? { ...target, changes: [] } : target)),
    targetChanges: TARGET_CHANGES_IN_ROWS,
  })
}

/**
 * Stores the plan of a rollout (planned against the observed fleet, up to `head`); the changes of
 * `rowTargets` are stored with their target rows (see {@link TARGET_CHANGES_IN_ROWS}).
 */
export async function insertPlan(
  db: Kysely<Database>,
  id: string,
  head: string,
  plan: Plan,
  rowTargets: ReadonlySet<string>,
): Promise<void> {
  await db
    .insertInto('plans')
    .values({
      id,
      base: 'observed',
      head,
      verdict: plan.verdict,
      document: storedDocument(plan, rowTargets),
      ...policyTimeColumns(plan.policyTime),
    })
    .execute()
}

/** Replaces the plan of a rollout by one made again (a queued rollout leaving the queue). */
export async function replacePlan(
  db: Kysely<Database>,
  id: string,
  plan: Plan,
  rowTargets: ReadonlySet<string>,
): Promise<void> {
  await db
    .updateTable('plans')
    .set({
      verdict: plan.verdict,
      document: storedDocument(plan, rowTargets),
      ...policyTimeColumns(plan.policyTime),
    })
    .where('id', '=', id)
    .execute()
}

/**
 * The plan a rollout was started with, as stored: each target with its changes (without property
 * diffs, for a plan whose changes are in the target rows: see {@link TARGET_CHANGES_IN_ROWS});
 * undefined when there is no such plan.
 */
export async function loadPlan(
  db: Kysely<Database>,
  planId: string,
  rolloutId: string,
): Promise<Plan | undefined> {
  const row = await db.selectFrom('plans').select('document').where('id', '=', planId).executeTakeFirst()
  if (!row) return undefined
  const { targetChanges, ...plan } = row.document as unknown as Plan & { targetChanges?: string }
  if (targetChanges !== TARGET_CHANGES_IN_ROWS) return plan // stored whole, as before
  const changes = await plannedChanges(db, rolloutId)
  return {
    ...plan,
    targets: plan.targets.map((target) => {
      const stored = changes.get(target.id)
      return stored ? { ...target, changes: stored } : target
    }),
  }
}

/** The bytes a rollout's plan takes in the store: its document and its targets' planned changes. */
export async function storedPlanBytes(
  db: Kysely<Database>,
  planId: string,
  rolloutId: string,
): Promise<number> {
  const row = await db
    .selectFrom('plans')
    .select(sql<string>`pg_column_size(document)`.as('bytes'))
    .where('id', '=', planId)
    .executeTakeFirstOrThrow()
  return Number(row.bytes) + (await plannedBytes(db, rolloutId))
}
