/** What happened to a target: the rollouts that had it in their schedule. */
import type { ServerDeps } from './server-deps.ts'

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
