/**
 * Plans: between two revisions (offline), and of a revision against the fleet as its providers
 * observe it (what `flotilla plan` without `--base`, the API's and the portal's plans show).
 */

import type { Kysely } from 'kysely'
import { InputError } from '../core/errors.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import type { Plan } from '../core/model/plan.ts'
import type { TrustedFleet } from '../core/plan/judgement.ts'
import { fleetState, type PlanOutcome } from '../core/plan/plan-fleet.ts'
import { planRevisions } from '../core/plan/plan-revisions.ts'
import type { Approval } from '../core/policy/approvals.ts'
import type { PolicyTime } from '../core/policy/policy-time.ts'
import { appliedStatesVersion } from '../operations/applied-states.ts'
import { previewInCloud } from '../operations/cloud-preview.ts'
import { planAgainstObserved } from '../operations/observed-fleet.ts'
import type { EngineDeps } from '../rollout/engine.ts'
import type { Database } from '../store/tables.ts'
import type { Application } from './application.ts'

/** What a plan between revisions takes besides them. */
export interface RevisionsPlanRequest {
  readonly approvals?: readonly Approval[]
  /** What policies see as now. @default the current time */
  readonly now?: Date
  /** Only the targets it selects. @default all */
  readonly includeTarget?: (target: Target) => boolean
  /** The trusted revision, whose rules judge the change too. */
  readonly trusted?: TrustedFleet
}

/** What a plan against the observed fleet takes besides the head. */
export interface ObservedPlanRequest extends RevisionsPlanRequest {
  /** Also ask the cloud (change sets, never executed), with this many at once. @default not asked */
  readonly cloudPreview?: { readonly concurrency?: number }
}

/** Plans `base` → `head`, offline. */
export function planBetweenRevisions(base: Fleet, head: Fleet, request: RevisionsPlanRequest): PlanOutcome {
  return planRevisions(base, head, request)
}

/** Plans `head` against the fleet its providers observe, optionally with the cloud's own preview. */
export async function planObserved(
  app: Application,
  head: Fleet,
  request: ObservedPlanRequest,
): Promise<PlanOutcome> {
  const { observed, outcome } = await planAgainstObserved(head, app.registry, app.db, {
    approvals: request.approvals ?? [],
    ...(request.now === undefined ? {} : { now: request.now }),
    ...(request.includeTarget ? { include: request.includeTarget } : {}),
    ...(request.trusted ? { trusted: request.trusted } : {}),
  })
  if (!request.cloudPreview || !outcome.ok) return outcome
  const { concurrency } = request.cloudPreview
  return {
    ok: true,
    plan: await previewInCloud(outcome.plan, fleetState(head), observed.state, app.registry, {
      ...(concurrency === undefined ? {} : { concurrency }),
    }),
  }
}

/** What a plan of a commit against the observed fleet takes (the server's plans). */
export interface CommitPlanRequest {
  readonly approvals: readonly Approval[]
  /** The time policies see and who set it. */
  readonly time: PolicyTime
  /** Only this target. @default all */
  readonly only?: string
  /** The trusted revision, whose rules judge the change too. @default the head's and the fleet's alone */
  readonly trusted?: TrustedFleet
}

/** Plans a commit of the repository against the observed fleet; an invalid plan is an input error. */
export async function planCommit(
  app: Application,
  engine: EngineDeps,
  commit: string,
  request: CommitPlanRequest,
): Promise<{ fleet: Fleet; plan: Plan }> {
  const fleet = await engine.loadRevision(commit)
  const { only } = request
  const { outcome } = await planAgainstObserved(fleet, app.registry, app.db, {
    include: only === undefined ? () => true : (t: { id: string }) => t.id === only,
    approvals: request.approvals,
    now: new Date(request.time.at),
    nowSource: request.time.source,
    ...(request.trusted ? { trusted: request.trusted } : {}),
  })
  if (!outcome.ok) throw new InputError(`revision ${commit.slice(0, 12)} cannot be planned`, outcome.errors)
  return { fleet, plan: outcome.plan }
}

/**
 * A text that changes whenever what Flotilla applied changes (an apply starting or finishing):
 * part of the observed state's version the server's cached plans are keyed by.
 */
export function appliedVersion(db: Kysely<Database>): Promise<string> {
  return appliedStatesVersion(db)
}
