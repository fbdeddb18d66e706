/**
 * The trusted revision as a CLI command on a local clone finds it: the tip of the branch that
 * `fleet.yaml` names (`trust.branch`, `main` by default) — read from the base of a plan between
 * revisions, or from the head when the base is the observed fleet. Whoever runs the CLI with the
 * store on their own machine is its operator; the command says which trust it used, so a plan
 * that was judged by the head's rules alone never passes for one judged by the trusted branch.
 */
import { resolve } from 'node:path'
import type { LoadCache } from '../core/load/load-cache.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import type { TrustedFleet } from '../core/plan/judgement.ts'
import { governanceEdits } from '../core/policy/governance.ts'
import { git } from '../source/git.ts'
import { findTrustedRevision } from '../source/trust.ts'
import { loadValidFleet } from './repository.ts'

/** The trusted revision found (or not), and the line that says so when it is news. */
export interface CliTrust {
  readonly trusted?: TrustedFleet
  /**
   * For stderr, when the trust is not simply the base: `judged by the rules of main 1a2b3c4d5e6f
   * (trusted) and of the change`, or that the branch is missing. Empty otherwise.
   */
  readonly note: string
}

/**
 * Finds and loads the trusted revision named by `namedBy`'s `fleet.yaml`. A fleet already loaded
 * at that commit is reused; an invalid trusted revision is an error (its rules cannot judge).
 * `loaded` lists the plan's revisions, the base first when there is one.
 */
export async function cliTrust(
  repo: string | undefined,
  cwd: string,
  namedBy: Fleet,
  loaded: readonly Fleet[],
  cache?: LoadCache,
): Promise<CliTrust> {
  const branch = namedBy.settings.trust.branch
  const dir = resolve(cwd, repo ?? '.')
  const found = await findTrustedRevision(dir, branch).catch(() => undefined)
  if (!found)
    return {
      // A directory that is no git repository has no branches to trust: nothing to say.
      note: (await isGitRepository(dir))
        ? `no branch ${branch} (trust.branch) in this repository: judged by the rules of the revisions planned alone\n`
        : '',
    }
  const label = `${branch} ${found.commit.slice(0, 12)}`
  const same = loaded.find((f) => f.source.kind === 'revision' && f.source.commit === found.commit)
  const fleet =
    same ??
    (await loadValidFleet({ ...(repo ? { repo } : {}), rev: found.commit }, cwd, 'trusted revision', cache))
      .fleet
  // Said when it makes a difference: the head's rules are not the trusted ones (the base of a
  // plan between revisions is usually the trusted branch itself, and says so in the plan).
  const head = loaded.at(-1)
  const differs = head !== undefined && governanceEdits(fleet, head).length > 0
  const isBase = loaded.length > 1 && same !== undefined && same === loaded[0]
  return {
    trusted: { fleet, label },
    note:
      differs && !isBase
        ? `judged by the rules of ${label} (trusted) as well as the change's own, strictest wins: the change edits them\n`
        : '',
  }
}

async function isGitRepository(dir: string): Promise<boolean> {
  try {
    await git(dir, ['rev-parse', '--git-dir'])
    return true
  } catch {
    return false
  }
}
