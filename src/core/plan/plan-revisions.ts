import type { Fleet, Target } from '../model/fleet-model.ts'
import type { Approval } from '../policy/approvals.ts'
import { judge, type TrustedFleet } from './judgement.ts'
import { fleetState, type PlanOutcome, planFleet } from './plan-fleet.ts'

/** What a plan between two loaded revisions takes besides the revisions. */
export interface RevisionPlanOptions {
  /** Approvals given for this plan. @default none */
  readonly approvals?: readonly Approval[]
  /** What policies see as `now`. @default the current time */
  readonly now?: Date
  /** Narrows the plan to some targets (`--target CEL`). @default every target */
  readonly includeTarget?: (target: Target) => boolean
  /** The trusted revision, whose rules judge the change too. @default the base alone */
  readonly trusted?: TrustedFleet
}

/**
 * Plans the change from one loaded revision to another exactly as a pull request check does
 * (`flotilla plan --base REV --head REV`), judged by the rules of the trusted revision, the base
 * and the head, strictest wins (see `judgement.ts`). Pure. Every caller that plans between
 * revisions (the CLI, the drill, the fuzz test) goes through here, so they cannot drift apart.
 */
export function planRevisions(base: Fleet, head: Fleet, options: RevisionPlanOptions = {}): PlanOutcome {
  return planFleet({
    base: fleetState(base),
    head: fleetState(head),
    ...judge(head, { base, ...(options.trusted ? { trusted: options.trusted } : {}) }),
    approvals: options.approvals ?? [],
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.includeTarget === undefined ? {} : { includeTarget: options.includeTarget }),
  })
}
