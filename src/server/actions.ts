/**
 * What the API and the portal's forms both do, with the same access checks and audit entries:
 * start a rollout, operate one, pull and release the stop.
 */
import { ForbiddenError, NotFoundError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import type { Plan } from '../core/plan/plan-model.ts'
import { applyApprovals, parseApproval } from '../core/policy/approvals.ts'
import { resolveCommit } from '../core/source/git.ts'
import {
  abortRollout,
  approveStage,
  pauseRollout,
  resumeRollout,
  retryTarget,
  skipTarget,
  stopFleet,
  unstopFleet,
} from '../rollout/controls.ts'
import { startRollout } from '../rollout/engine.ts'
import { loadRollout, loadTargets } from '../rollout/rollout-store.ts'
import { appendAuditEntry } from '../store/audit.ts'
import { type Decision, mayChange, mayUnstop, type Principal } from './access/permissions.ts'
import { enforce } from './api/http-helpers.ts'
import { approvalsOfCommit } from './approvals-store.ts'
import type { ServerDeps } from './server-deps.ts'

/** The operator controls of a rollout. */
export type RolloutAction = 'pause' | 'resume' | 'abort' | 'approve' | 'retry' | 'skip'

/** The teams of the targets a plan changes. */
function teamsOfPlan(fleet: Fleet, plan: Plan): string[] {
  const byId = new Map(fleet.targets.map((t) => [t.id, t]))
  return plan.targets.map((t) => byId.get(t.id)?.team ?? '?')
}

/** The approvals recorded for a commit, with who gave them. */
export function approvalsOf(deps: ServerDeps, commit: string) {
  return approvalsOfCommit(deps.db, commit)
}

/**
 * Records approvals of a commit's plan by `principal` (a viewer may not approve). Each is checked
 * for its form now, so a typo is a 400 and not a silent miss at the start of the rollout.
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
  await deps.db
    .insertInto('approvals')
    .values(approvals.map((approval) => ({ commit, approval, given_by: principal.name })))
    .execute()
  await appendAuditEntry(deps.db, {
    actor: principal.name,
    action: 'approve',
    subject: commit,
    source,
    detail: { approvals: [...approvals] },
  })
  return commit
}

/**
 * A protected destruction needs an approval by someone other than the rollout's author
 * (`plan.md`): the author's own approvals — given with the start, or recorded — do not count for it.
 */
function checkProtectedApprovals(
  plan: Plan,
  author: string,
  recorded: readonly { approval: string; givenBy: string }[],
): void {
  const protectedFindings = plan.findings.filter(
    (f) => f.rule === 'protected-destroy' && f.effect === 'require-approval',
  )
  if (protectedFindings.length === 0) return
  const byOthers = recorded.filter((r) => r.givenBy !== author).map((r) => parseApproval(r.approval))
  const { unmet } = applyApprovals(protectedFindings, byOthers)
  if (unmet.length > 0)
    throw new ForbiddenError(
      `destroying protected resources needs an approval by someone other than ${author}, who starts the rollout: ${unmet.join(', ')}; ask a teammate to approve them (POST /api/approvals, or the plan page)`,
    )
}

/** Starts a rollout for `principal`: refused (403) when it would touch another team's targets. */
export async function startFor(
  deps: ServerDeps,
  principal: Principal,
  source: string,
  request: { rev?: string | undefined; approvals: readonly string[]; now?: Date | undefined },
) {
  const ref = request.rev ?? deps.fleets.ref
  const commit = await resolveCommit(deps.fleets.repoDir, ref)
  const fleet = await deps.engine.loadRevision(commit)
  await deps.sim.seed(fleet.targets, fleet.clusters)
  const recorded = await approvalsOf(deps, commit)
  const started = await startRollout(deps.engine, {
    commit,
    ref,
    approvals: [...request.approvals, ...recorded.map((r) => r.approval)].map(parseApproval),
    actor: principal.name,
    ...((request.now ?? deps.policyNow) ? { policyNow: (request.now ?? deps.policyNow)! } : {}),
    authorize: (plan) => {
      enforce(mayChange(principal, teamsOfPlan(fleet, plan), `roll out ${commit.slice(0, 12)}`))
      checkProtectedApprovals(plan, principal.name, recorded)
    },
  })
  await appendAuditEntry(deps.db, {
    actor: principal.name,
    action: 'rollout-start',
    subject: started.id,
    source,
    detail: { revision: commit, approvals: [...request.approvals], state: started.state },
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

/** Runs an operator control for `principal` (403 when not theirs); `target` for retry and skip. */
export async function operate(
  deps: ServerDeps,
  principal: Principal,
  source: string,
  id: string,
  action: RolloutAction,
  target?: string,
): Promise<void> {
  enforce(await mayOperate(deps, principal, id, action))
  const who = { actor: principal.name, source }
  if (action === 'retry' || action === 'skip') {
    if (!target) throw new NotFoundError(`${action} needs the target to ${action}`)
    await (action === 'retry' ? retryTarget : skipTarget)(deps.db, id, target, who)
  } else {
    await { pause: pauseRollout, resume: resumeRollout, abort: abortRollout, approve: approveStage }[action](
      deps.db,
      id,
      who,
    )
  }
  deps.kick()
}

/** Pulls the stop: open to everyone signed in. */
export async function stopFor(deps: ServerDeps, principal: Principal, source: string, reason: string) {
  return stopFleet(deps.db, reason, { actor: principal.name, source })
}

/** Releases the stop: admins only. */
export async function unstopFor(deps: ServerDeps, principal: Principal, source: string) {
  enforce(mayUnstop(principal))
  const resumed = await unstopFleet(deps.db, { actor: principal.name, source })
  deps.kick()
  return resumed
}
