/**
 * Approvals are owned: who may record an approval, and which recorded approvals count when a
 * rollout starts. Both judge ownership against the trusted branch's inventory and the approved
 * revision's (`core/policy/approval-owners.ts`), and a person's teams as the server sees them now —
 * so an approval recorded by someone who has since left the team, or whose pattern now matches
 * another team's addresses, no longer counts. The author of a rollout never counts.
 */

import { effectiveRole, mayApprove, type Principal } from '../app/access/permissions.ts'
import { ForbiddenError } from '../core/errors.ts'
import type { Plan } from '../core/model/plan.ts'
import { needsPlan, type OwnershipContext, ownershipOfApproval } from '../core/policy/approval-owners.ts'
import { type Approval, applyApprovals, parseApproval } from '../core/policy/approvals.ts'
import { enforce } from './api/http-helpers.ts'
import { principalOf } from './request-auth.ts'
import type { ServerDeps } from './server-deps.ts'
import { judgeOf, serverTrust } from './trusted-branch.ts'

/** What judging approvals needs of the server. */
export type ApprovalDeps = Pick<ServerDeps, 'app' | 'db' | 'engine' | 'fleets' | 'followedBranch'>

/** An approval as recorded: what, and by whom. */
export interface GivenApproval {
  readonly approval: string
  readonly givenBy: string
}

/** An approval that does not count, and why. */
export interface DiscountedApproval extends GivenApproval {
  readonly why: string
}

/**
 * The plan approvals of `commit` are judged against: against the observed fleet, with no
 * approvals (they change no address), at the server's policy time. Without addresses (the
 * revision changes nothing) it is an empty plan.
 */
export async function planToJudge(
  deps: ApprovalDeps,
  commit: string,
): Promise<Pick<Plan, 'targets' | 'findings'>> {
  const fleet = await deps.engine.loadRevision(commit)
  const judge = judgeOf(await serverTrust(deps))
  const prepared = await deps.app.prepareRollout(
    fleet,
    commit,
    { ref: commit, approvals: [], ...(judge ? { trusted: judge } : {}) },
    deps.engine,
  )
  return prepared.plan ?? { targets: [], findings: [] }
}

/**
 * Who owns what in `commit`: the targets' teams in the trusted revision and in `commit`, the
 * trusted revision's `trust.owners`. Without a trusted revision (its branch is missing), the
 * revision the server serves stands in for it.
 */
async function ownershipContext(
  deps: ApprovalDeps,
  commit: string,
  plan: Pick<Plan, 'targets' | 'findings'> | undefined,
): Promise<OwnershipContext> {
  const trust = await serverTrust(deps)
  const trusted = 'fleet' in trust ? trust.fleet : (await deps.fleets.snapshot()).fleet
  const head = await deps.engine.loadRevision(commit)
  return { fleets: [trusted, head], ruleOwners: trusted.settings.trust.owners, ...(plan ? { plan } : {}) }
}

/**
 * Refuses (403, naming the teams that own it and what to do) an approval `principal` may not
 * record for `commit`: each must concern only what they own — or they are an admin.
 */
export async function checkMayRecord(
  deps: ApprovalDeps,
  principal: Principal,
  commit: string,
  approvals: readonly string[],
): Promise<void> {
  const parsed = approvals.map((text) => ({ text, approval: parseApproval(text) }))
  if (effectiveRole(principal) === 'admin') return // admins approve anything: no plan to make
  const plan = parsed.some((p) => needsPlan(p.approval)) ? await planToJudge(deps, commit) : undefined
  const context = await ownershipContext(deps, commit, plan)
  for (const { text, approval } of parsed)
    enforce(mayApprove(principal, text, ownershipOfApproval(approval, context)))
}

/**
 * Which of the given approvals count for `plan` of `commit`: those of someone other than `author`
 * (none for the controller's rollouts) who may approve them now.
 */
export async function countApprovals(
  deps: ApprovalDeps,
  commit: string,
  plan: Pick<Plan, 'targets' | 'findings'>,
  given: readonly GivenApproval[],
  author?: string,
): Promise<{ counted: GivenApproval[]; discounted: DiscountedApproval[] }> {
  const context = await ownershipContext(deps, commit, plan)
  const served = (await deps.fleets.snapshot()).fleet
  const principals = new Map<string, Promise<Principal | undefined>>()
  const counted: GivenApproval[] = []
  const discounted: DiscountedApproval[] = []
  for (const entry of given) {
    if (entry.givenBy === author) {
      discounted.push({
        ...entry,
        why: `${author} starts the rollout, and the author's approvals never count`,
      })
      continue
    }
    if (!principals.has(entry.givenBy))
      principals.set(entry.givenBy, principalOf(deps.db, served, entry.givenBy))
    const principal = await principals.get(entry.givenBy)
    if (!principal) {
      discounted.push({ ...entry, why: `${entry.givenBy} is not a user any more` })
      continue
    }
    const decision = mayApprove(
      principal,
      entry.approval,
      ownershipOfApproval(parseApproval(entry.approval), context),
    )
    if (decision.allowed) counted.push(entry)
    else discounted.push({ ...entry, why: decision.reason })
  }
  return { counted, discounted }
}

/**
 * Refuses (403) a start whose plan would be approved only by approvals that do not count — the
 * author's own, or someone's who does not own what they approved — naming what is missing and
 * why. A plan that lacks approvals nobody gave is left to the engine (422, approvals missing).
 */
function checkApprovalsCount(
  plan: Pick<Plan, 'findings'>,
  counted: readonly GivenApproval[],
  discounted: readonly DiscountedApproval[],
  author: string,
): void {
  const unmet = (approvals: readonly GivenApproval[]) =>
    applyApprovals(
      plan.findings,
      approvals.map((a): Approval => parseApproval(a.approval)),
    ).unmet
  const missing = unmet(counted)
  if (missing.length === 0) return
  const stillMissing = new Set(unmet([...counted, ...discounted]))
  const needOthers = missing.filter((m) => !stillMissing.has(m))
  if (needOthers.length === 0) return
  const reasons = discounted.slice(0, 3).map((d) => `"${d.approval}" by ${d.givenBy}: ${d.why}`)
  if (discounted.length > 3) reasons.push(`and ${discounted.length - 3} more`)
  throw new ForbiddenError(
    `needs an approval by someone other than ${author}, who starts the rollout: ${needOthers.join(', ')}; not counted: ${reasons.join('; ')}. Ask a teammate who owns the targets (or an admin) to approve them (POST /api/approvals, or the plan page)`,
  )
}

/** Which of `approvals` (as a plan of `commit` lists them) `principal` may give. */
export async function approvableBy(
  deps: ApprovalDeps,
  principal: Principal,
  commit: string,
  plan: Pick<Plan, 'targets' | 'findings'>,
  approvals: readonly string[],
): Promise<Set<string>> {
  const context = await ownershipContext(deps, commit, plan)
  return new Set(
    approvals.filter((a) => mayApprove(principal, a, ownershipOfApproval(parseApproval(a), context)).allowed),
  )
}

/**
 * The approvals a rollout of `commit` started by `author` keeps: of those `given` (recorded, and
 * sent with the start), the ones that count. `authorize` sees the plan first, so that whose targets
 * it touches is refused before what approves them. Refuses (403) a start that only approvals that
 * do not count would let through; without approvals there is nothing to judge (the engine says
 * what is missing).
 */
export async function approvalsForStart(
  deps: ApprovalDeps,
  author: string,
  commit: string,
  given: readonly GivenApproval[],
  authorize: (plan: Pick<Plan, 'targets'>) => void,
): Promise<GivenApproval[]> {
  if (given.length === 0) return []
  const plan = await planToJudge(deps, commit)
  authorize(plan)
  const { counted, discounted } = await countApprovals(deps, commit, plan, given, author)
  checkApprovalsCount(plan, counted, discounted, author)
  return counted
}
