/**
 * What the CLI says about trust when it changes the fleet through the store directly (`rollout
 * start`, `apply`): it acts as an operator of that store — no server checks who it is or whether
 * the revision was reviewed — so it says which trusted branch it knows of and whether the revision
 * is on it, once, on stderr.
 */
import type { Fleet } from '../core/model/fleet-model.ts'
import { findTrustedRevision, isReachableFrom } from '../source/trust.ts'

/**
 * The line, e.g. `judged and rolled out as an operator of the local store; trusted branch main at
 * abc1234 (the revision is on it)`. `done` is what was done (`rolled out`, `applied`).
 */
export async function trustNote(repoDir: string, fleet: Fleet, done: string): Promise<string> {
  const branch = fleet.settings.trust.branch
  const start = `judged and ${done} as an operator of the local store`
  const trusted = await findTrustedRevision(repoDir, branch)
  if (!trusted)
    return `${start}; trusted branch ${branch} not found (neither refs/heads/${branch} nor refs/remotes/origin/${branch}), so nothing shows the revision was reviewed and merged`
  const at = `trusted branch ${branch} at ${trusted.commit.slice(0, 7)}`
  if (fleet.source.kind !== 'revision')
    return `${start}; ${at} (the working tree is not on it: it is not a commit)`
  const commit = fleet.source.commit
  const on = await isReachableFrom(repoDir, commit, trusted.commit).catch(() => false)
  return `${start}; ${at} (the revision ${commit.slice(0, 7)} ${on ? 'is' : 'is not'} on it)`
}
