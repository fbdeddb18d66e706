/**
 * The server's trusted branch: the branch it follows (`flotilla serve --follow … --branch X`), else
 * `fleet.yaml` `trust.branch` of the revision it serves (`main` by default). Its tip says who owns
 * what (teams, `trust.owners`), and only revisions reachable from it — reviewed and merged — roll
 * out for members; anything else needs an admin and is marked as such. When the branch cannot be
 * found, nothing can be shown to be merged: only admins start rollouts (fail closed).
 */

import { effectiveRole, type Principal } from '../app/access/permissions.ts'
import { ForbiddenError, InputError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import type { TrustedFleet } from '../core/plan/judgement.ts'
import { GitError } from '../source/git.ts'
import { isReachableFrom, type TrustedRevision } from '../source/trust.ts'
import type { ServerDeps } from './server-deps.ts'

/** The trusted branch as the server found it: its tip and that revision's fleet, or why not. */
export type ServerTrust =
  | { readonly branch: string; readonly revision: TrustedRevision; readonly fleet: Fleet }
  | { readonly branch: string; readonly revision?: TrustedRevision; readonly missing: string }

/** What finding the trusted branch needs of the server. */
export type TrustDeps = Pick<ServerDeps, 'fleets' | 'engine' | 'followedBranch'>

/** Finds the server's trusted branch and loads its tip (see the module comment). */
export async function serverTrust(deps: TrustDeps): Promise<ServerTrust> {
  const branch = deps.followedBranch ?? (await deps.fleets.snapshot()).fleet.settings.trust.branch
  const revision = await deps.fleets.trustedRevision(branch)
  if (!revision)
    return {
      branch,
      missing: `the trusted branch ${branch} is not in the server's repository (neither refs/heads/${branch} nor refs/remotes/origin/${branch})`,
    }
  try {
    return { branch, revision, fleet: await deps.engine.loadRevision(revision.commit) }
  } catch (error) {
    if (!(error instanceof InputError)) throw error
    return {
      branch,
      revision,
      missing: `the tip of the trusted branch ${branch} (${revision.commit.slice(0, 12)}) is not a valid fleet: ${error.message}`,
    }
  }
}

/**
 * The trusted revision as a plan takes it (`TrustedFleet`), with its commit, when the branch was
 * found and loads: the server's plans are judged by its rules too, as its rollouts are.
 */
export function trustedFleetOf(trust: ServerTrust): (TrustedFleet & { readonly commit: string }) | undefined {
  return 'fleet' in trust
    ? {
        commit: trust.revision.commit,
        fleet: trust.fleet,
        label: `${trust.branch} ${trust.revision.commit.slice(0, 12)}`,
      }
    : undefined
}

/** The trusted revision as the engine takes it (`StartOptions.trusted`), when the branch was found and loads. */
export function judgeOf(trust: ServerTrust): { commit: string; label: string } | undefined {
  return 'fleet' in trust
    ? { commit: trust.revision.commit, label: `${trust.branch} ${trust.revision.commit.slice(0, 12)}` }
    : undefined
}

/** How a revision stands with the trusted branch. */
export interface RevisionTrust {
  readonly branch: string
  /** The tip of the trusted branch, when found. */
  readonly tip: string | null
  /** The trusted revision whose rules judge the revision too, when its tip was found and loads. */
  readonly judge?: { readonly commit: string; readonly label: string }
  /** Why the revision is not trusted (an admin may still roll it out); undefined when it is on the branch. */
  readonly untrusted?: string
  /** Why the answer is no for a member, with what to do. */
  readonly refusal?: string
}

/** Whether `commit` is reachable from the tip of the trusted branch, and if not, why and what to do. */
export async function revisionTrust(
  deps: TrustDeps,
  trust: ServerTrust,
  commit: string,
): Promise<RevisionTrust> {
  const tip = trust.revision?.commit ?? null
  if ('missing' in trust)
    return {
      branch: trust.branch,
      tip,
      untrusted: `${trust.missing}, so no revision can be shown to be reviewed and merged`,
      refusal: `${trust.missing}: until it is, only an admin may start a rollout; push ${trust.branch}, or name the trusted branch in fleet.yaml trust.branch`,
    }
  const reachable = await isReachableFrom(deps.fleets.repoDir, commit, trust.revision.commit).catch(
    (error) => {
      // A revision the repository does not have (applied from another clone) is not on the branch either.
      if (error instanceof GitError) return false
      throw error
    },
  )
  const judge = judgeOf(trust)
  if (reachable) return { branch: trust.branch, tip, ...(judge ? { judge } : {}) }
  const why = `revision ${commit.slice(0, 12)} is not on ${trust.branch} (not reviewed and merged)`
  return {
    branch: trust.branch,
    tip,
    ...(judge ? { judge } : {}),
    untrusted: why,
    refusal: `${why}; merge it first, or ask an admin`,
  }
}

/**
 * How `commit` stands with the trusted branch, for a start by `principal`: a member is refused
 * (403, with what to do) a revision that is not on it; an admin is not, and the rollout is marked.
 */
export async function trustForStart(
  deps: TrustDeps,
  principal: Principal,
  commit: string,
): Promise<RevisionTrust> {
  const trust = await revisionTrust(deps, await serverTrust(deps), commit)
  if (trust.refusal && effectiveRole(principal) !== 'admin') throw new ForbiddenError(trust.refusal)
  return trust
}

/** The audit log's record of a start's trust: whether untrusted, the branch, its tip, and why. */
export function auditedTrust(trust: RevisionTrust) {
  return {
    untrusted: trust.untrusted !== undefined,
    trust: { branch: trust.branch, tip: trust.tip, ...(trust.untrusted ? { reason: trust.untrusted } : {}) },
  }
}
