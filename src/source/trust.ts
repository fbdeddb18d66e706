/**
 * The trusted revision: the tip of the branch whose rules judge every change (`fleet.yaml`
 * `trust.branch`, `main` by default). A change is judged by the rules of that revision as well as
 * its own, so it cannot switch off its own guard; and only commits reachable from that branch —
 * reviewed and merged — roll out without an admin.
 */
import { GitError, git } from './git.ts'

/** The trusted revision, as found in a repository. */
export interface TrustedRevision {
  /** The branch, as `fleet.yaml` names it (`main`). */
  readonly branch: string
  /** The ref it was found under (`refs/heads/main`, or `refs/remotes/origin/main` in a clone that has no local branch). */
  readonly ref: string
  readonly commit: string
}

/**
 * Finds the tip of `branch` in `repoDir`: the local branch, else the `origin` remote's (a CI
 * checkout of a pull request often has only that). Undefined when neither exists — the caller
 * says which trust it used instead.
 */
export async function findTrustedRevision(
  repoDir: string,
  branch: string,
): Promise<TrustedRevision | undefined> {
  for (const ref of [`refs/heads/${branch}`, `refs/remotes/origin/${branch}`]) {
    const commit = await verify(repoDir, ref)
    if (commit) return { branch, ref, commit }
  }
  return undefined
}

/** Whether `commit` is `tip` or one of its ancestors: merged into the trusted branch. */
export async function isReachableFrom(repoDir: string, commit: string, tip: string): Promise<boolean> {
  try {
    await git(repoDir, ['merge-base', '--is-ancestor', commit, tip])
    return true
  } catch (error) {
    // Exit 1 is git's "no"; anything else (an unknown commit) is a real failure.
    if (error instanceof GitError && error.code === 1) return false
    throw error
  }
}

async function verify(repoDir: string, ref: string): Promise<string | undefined> {
  try {
    return (await git(repoDir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).toString().trim()
  } catch (error) {
    if (error instanceof GitError) return undefined
    throw error
  }
}
