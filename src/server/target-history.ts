/** What happened to a target and what is about to: its rollouts, the revision applied, the pending plan. */
import type { Change, Verdict } from '../core/model/plan.ts'
import { planRevision } from './api/rollouts.ts'
import type { ServerDeps } from './server-deps.ts'

/** The revision last applied to a target, and when; null when nothing was. */
export async function appliedRevision(
  deps: ServerDeps,
  target: string,
): Promise<{ revision: string; at: Date } | null> {
  const row = await deps.db
    .selectFrom('applied_states')
    .select(['revision', 'applied_at'])
    .where('target', '=', target)
    .executeTakeFirst()
  return row ? { revision: row.revision, at: row.applied_at } : null
}

/** What the branch the server follows would change in one target: the pending plan. */
export async function pendingChanges(
  deps: ServerDeps,
  target: string,
): Promise<{ revision: string; verdict: Verdict; changes: readonly Change[] }> {
  const { plan, commit } = await planRevision(deps, deps.fleets.ref, [], undefined, target)
  return {
    revision: commit,
    verdict: plan.verdict,
    changes: plan.targets.find((t) => t.id === target)?.changes ?? [],
  }
}

/** The last rollouts that had a target in their schedule. */
export async function targetRollouts(deps: ServerDeps, target: string) {
  const rows = await deps.db
    .selectFrom('rollout_targets')
    .innerJoin('rollouts', 'rollouts.id', 'rollout_targets.rollout_id')
    .select([
      'rollouts.id',
      'rollouts.state as rolloutState',
      'rollouts.revision',
      'rollouts.created_at',
      'rollout_targets.state',
    ])
    .where('rollout_targets.target', '=', target)
    .orderBy('rollouts.created_at', 'desc')
    .limit(10)
    .execute()
  return rows.map((r) => ({
    id: r.id,
    state: r.rolloutState,
    revision: r.revision,
    createdAt: r.created_at.toISOString(),
    targetState: r.state,
  }))
}
