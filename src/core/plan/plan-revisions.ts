import type { Fleet, Target } from '../model/fleet-model.ts'
import type { Approval } from '../policy/approvals.ts'
import { policyRegistry } from '../policy/policy-rules.ts'
import { fleetState, type PlanOutcome, planFleet, strictestSettings } from './plan-fleet.ts'

/** What a plan between two loaded revisions takes besides the revisions. */
export interface RevisionPlanOptions {
  /** Approvals given for this plan. @default none */
  readonly approvals?: readonly Approval[]
  /** What policies see as `now`. @default the current time */
  readonly now?: Date
  /** Narrows the plan to some targets (`--target CEL`). @default every target */
  readonly includeTarget?: (target: Target) => boolean
}

/**
 * Plans the change from one loaded revision to another exactly as a pull request check does
 * (`flotilla plan --base REV --head REV`): the stricter limits and protected types of the two
 * sides, the built-in safety rules and the head's policies. Pure. Every caller that plans between
 * revisions (the CLI, the drill, the fuzz test) goes through here, so they cannot drift apart.
 */
export function planRevisions(base: Fleet, head: Fleet, options: RevisionPlanOptions = {}): PlanOutcome {
  return planFleet({
    base: fleetState(base),
    head: fleetState(head),
    ...strictestSettings(base.settings, head.settings),
    rules: policyRegistry(head),
    approvals: options.approvals ?? [],
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.includeTarget === undefined ? {} : { includeTarget: options.includeTarget }),
  })
}
