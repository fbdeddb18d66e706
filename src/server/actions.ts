/**
 * What the API and the portal's forms both do, with the same access checks and audit entries:
 * start a rollout, operate one, pull and release the stop.
 */

import { type Decision, mayChange, mayUnstop, type Principal } from '../app/access/permissions.ts'
import type { RolloutAction } from '../app/rollouts.ts'
import { ConflictError, NotFoundError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import type { Plan } from '../core/model/plan.ts'
import { parseApproval } from '../core/policy/approvals.ts'
import { loadRollout, loadTargets } from '../rollout/rollout-store.ts'
import { resolveCommit } from '../source/git.ts'
import { appendAuditEntry } from '../store/audit.ts'
import { enforce } from './api/http-helpers.ts'
import { approvalsForStart, checkMayRecord, countApprovals } from './approval-rights.ts'
import { approvalsOfCommit } from './approvals-store.ts'
import type { ServerDeps } from './server-deps.ts'
import { auditedTrust, serverTrust, trustForStart } from './trusted-branch.ts'

export type { RolloutAction } from '../app/rollouts.ts'

/** The teams of the targets a plan changes. */
function teamsOfPlan(fleet: Fleet, plan: Pick<Plan, 'targets'>): string[] {
  const byId = new Map(fleet.targets.map((t) => [t.id, t]))
  return plan.targets.map((t) => byId.get(t.id)?.team ?? '?')
}

/** Whether an admin's rights come from an emergency elevation, for the audit log. */
const elevated = (principal: Principal) => principal.elevation !== null

/** The approvals recorded for a commit, with who gave them. */
export function approvalsOf(deps: ServerDeps, commit: string) {
  return approvalsOfCommit(deps.db, commit)
}

/**
 * The approvals recorded for `commit` that would count if `principal` started its rollout, as
 * the start judges them (owners only, never the starter's own): what a preview is judged with.
 */
export async function approvalsCountingFor(
  deps: ServerDeps,
  principal: Principal,
  commit: string,
  plan: Pick<Plan, 'targets' | 'findings'>,
): Promise<string[]> {
  const judged = await countApprovals(deps, commit, plan, await approvalsOf(deps, commit), principal.name)
  return judged.counted.map((a) => a.approval)
}

/**
 * Records approvals of a commit's plan by `principal`. Each is checked for its form now, so a typo
 * is a 400 and not a silent miss at the start of the rollout; and for its owner: only a member of
 * every team it concerns, or an admin, may give it (a 403 names the teams). See `approval-rights.ts`.
 */
export async function approveFor(
  deps: ServerDeps,
  principal: Principal,
  source: string,
  rev: string,
  approvals: readonly string[],
): Promise<string> {
  enforce(mayChange(principal, [], 'approve changes'))
  const commit = await resolveCommit(deps.fleets.repoDir, rev)
  for (const approval of approvals) parseApproval(approval)
  await checkMayRecord(deps, principal, commit, approvals)
  await deps.db
    .insertInto('approvals')
    .values(approvals.map((approval) => ({ commit, approval, given_by: principal.name })))
    .execute()
  await appendAuditEntry(deps.db, {
    actor: principal.name,
    action: 'approve',
    subject: commit,
    source,
    detail: { approvals: [...approvals], revision: commit, elevated: elevated(principal) },
  })
  return commit
}

/**
 * Starts a rollout for `principal`: refused (403) when it would touch another team's targets, when
 * the revision is not on the trusted branch (unless an admin starts it: then it is marked and
 * audited as untrusted), or when only approvals that do not count would let it through — the
 * author's own (given with the start or recorded), or those of people who do not own what they
 * approved. The approvals that count are the ones the rollout keeps.
 */
export async function startFor(
  deps: ServerDeps,
  principal: Principal,
  source: string,
  request: {
    rev?: string | undefined
    approvals: readonly string[]
    /** The commit the starter was shown (the portal's confirmation): refused when `rev` has moved since. */
    confirmedCommit?: string | undefined
  },
) {
  enforce(mayChange(principal, [], 'start a rollout'))
  const ref = request.rev ?? deps.fleets.ref
  const commit = await resolveCommit(deps.fleets.repoDir, ref)
  if (request.confirmedCommit !== undefined && request.confirmedCommit !== commit)
    throw new ConflictError(
      `${ref} moved since you confirmed it (from ${request.confirmedCommit.slice(0, 12)} to ${commit.slice(0, 12)}): nothing was started; look at what the new revision does and confirm again`,
    )
  for (const approval of request.approvals) parseApproval(approval)
  const trust = await trustForStart(deps, principal, commit)
  const fleet = await deps.engine.loadRevision(commit)
  const authorize = (plan: Pick<Plan, 'targets'>) =>
    enforce(mayChange(principal, teamsOfPlan(fleet, plan), `roll out ${commit.slice(0, 12)}`))
  const counted = await approvalsForStart(
    deps,
    principal.name,
    commit,
    [
      ...request.approvals.map((approval) => ({ approval, givenBy: principal.name })),
      ...(await approvalsOf(deps, commit)),
    ],
    authorize,
  )
  const started = await deps.app.startRollout(
    {
      commit,
      ref,
      approvals: [...new Set(counted.map((c) => c.approval))].map(parseApproval),
      actor: principal.name,
      trust: {
        ...(trust.untrusted ? { untrusted: trust.untrusted } : {}),
        ...(trust.judge ? { judge: trust.judge } : {}),
      },
      authorize,
    },
    deps.engine,
  )
  await appendAuditEntry(deps.db, {
    actor: principal.name,
    action: 'rollout-start',
    subject: started.id,
    source,
    detail: {
      revision: commit,
      approvals: [...request.approvals],
      counted: counted.map((c) => ({ ...c })),
      state: started.state,
      ...auditedTrust(trust),
      elevated: elevated(principal),
      ...(started.plan.policyTime ? { policyTime: { ...started.plan.policyTime } } : {}),
    },
  })
  deps.kick()
  return started
}

/** Whether `principal` may operate rollout `id` (every target of it is theirs, or they are an admin). */
export async function mayOperate(
  deps: ServerDeps,
  principal: Principal,
  id: string,
  what: string,
): Promise<Decision> {
  const rollout = await loadRollout(deps.db, id)
  if (!rollout) throw new NotFoundError(`no rollout ${id}`)
  const fleet = await deps.engine.loadRevision(rollout.revision)
  const teams = new Map(fleet.targets.map((t) => [t.id, t.team]))
  const targets = await loadTargets(deps.db, id)
  return mayChange(
    principal,
    targets.map((t) => teams.get(t.target) ?? '?'),
    `${what} rollout ${id}`,
  )
}

/**
 * Whether `principal` may approve the stage rollout `id` waits for: not its author, and a member of
 * the team of every target of that stage (in the rollout's revision and on the trusted branch), or
 * an admin.
 */
export async function mayApproveStage(deps: ServerDeps, principal: Principal, id: string): Promise<Decision> {
  const rollout = await loadRollout(deps.db, id)
  if (!rollout) throw new NotFoundError(`no rollout ${id}`)
  const stage = rollout.schedule.stages[rollout.stageIndex]?.name ?? 'stage'
  if (principal.name === rollout.createdBy)
    return {
      allowed: false,
      reason: `${principal.name} started rollout ${id} and cannot also approve its stage ${stage}: someone else who owns its targets (or an admin) must`,
    }
  const trust = await serverTrust(deps)
  const fleets = [
    await deps.engine.loadRevision(rollout.revision),
    ...('fleet' in trust ? [trust.fleet] : []),
  ]
  const targets = new Set(
    (await loadTargets(deps.db, id)).filter((t) => t.stageIndex === rollout.stageIndex).map((t) => t.target),
  )
  const teams = fleets.flatMap((fleet) => fleet.targets.filter((t) => targets.has(t.id)).map((t) => t.team))
  return mayChange(principal, teams, `approve stage ${stage} of rollout ${id}`)
}

/** Runs an operator control for `principal` (403 when not theirs); `target` for retry and skip. */
export async function operate(
  deps: ServerDeps,
  principal: Principal,
  source: string,
  id: string,
  action: RolloutAction,
  target?: string,
): Promise<void> {
  enforce(
    action === 'approve'
      ? await mayApproveStage(deps, principal, id)
      : await mayOperate(deps, principal, id, action),
  )
  const who = { actor: principal.name, source, ...(elevated(principal) ? { elevated: true } : {}) }
  if ((action === 'retry' || action === 'skip') && !target)
    throw new NotFoundError(`${action} needs the target to ${action}`)
  await deps.app.controlRollout({ action, id, target }, who)
  deps.kick()
}

/** Pulls the stop: open to everyone signed in. */
export async function stopFor(deps: ServerDeps, principal: Principal, source: string, reason: string) {
  return deps.app.stopFleet(reason, { actor: principal.name, source })
}

/** Releases the stop: admins only. */
export async function unstopFor(deps: ServerDeps, principal: Principal, source: string) {
  enforce(mayUnstop(principal))
  const resumed = await deps.app.unstopFleet({ actor: principal.name, source })
  deps.kick()
  return resumed
}
