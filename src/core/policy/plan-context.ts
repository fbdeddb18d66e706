import type { DesiredState } from '../model/desired-state.ts'
import type { LoadedRollout, Target } from '../model/fleet-model.ts'
import type { Change, Finding, PlanSide, PlanSummary, TargetPlan } from '../model/plan.ts'

/**
 * One side of a plan as the planner and the rules see it: which targets exist and what each one
 * should have (base: what a revision rendered, or later what the providers observe).
 */
export interface FleetState {
  readonly side: PlanSide
  readonly targets: ReadonlyMap<string, Target>
  readonly desired: ReadonlyMap<string, DesiredState>
  /** Stage name per target id (the first stage of the side's `rollout.yaml` that selects it). */
  readonly stageOf: ReadonlyMap<string, string>
  /**
   * The stages of the side's `rollout.yaml`, in rollout order, with whether each waits for a
   * person's approval: the `stage-move` rule judges a move by the base's order (a change cannot
   * reorder the stages to make its own move look later). An observed side has no repository of
   * its own and carries the head's.
   */
  readonly stages: readonly RolloutStage[]
  /**
   * For an observed side: per target, what differs from what Flotilla last applied (changed
   * outside Flotilla). The `drift` rule reports it.
   */
  readonly drift?: ReadonlyMap<string, DriftRecord>
}

/** A stage as the planner sees it: its name and whether a person approves it before it starts. */
export interface RolloutStage {
  readonly name: string
  /** `approval: required` in `rollout.yaml`. */
  readonly approvalRequired: boolean
}

/** The stages of a loaded `rollout.yaml` as a plan side carries them, in rollout order. */
export function rolloutStages(rollout: Pick<LoadedRollout, 'stages'>): RolloutStage[] {
  return rollout.stages.map((stage) => ({
    name: stage.name,
    approvalRequired: stage.approval === 'required',
  }))
}

/** What drifted on one target since Flotilla last applied it. */
export interface DriftRecord {
  /** The revision Flotilla last applied. */
  readonly revision: string
  /** Stacks or objects whose observed state differs from what was applied, sorted. */
  readonly addresses: readonly string[]
}

/** The safety limits of the head revision (a base revision cannot weaken them). */
export interface PlanLimits {
  readonly maxDeletes: number
  readonly maxShrinkPercent: number
}

/** Everything a rule may look at: both sides, the limits, and the changes the diff found. */
export interface PlanContext {
  readonly base: FleetState
  readonly head: FleetState
  readonly limits: PlanLimits
  /** Targets with at least one change. */
  readonly targets: readonly TargetPlan[]
  /** The blast radius of the changes. */
  readonly summary: PlanSummary
  /** What the rules evaluated before this one found (plan-scope policies see it as `plan.findings`). */
  readonly findings: readonly Finding[]
  /** The time policies see as `now`: the real time, or `--now` to ask "what would happen on Monday". */
  readonly now: Date
  /** The trusted revision's view of the targets, when it is neither side: policies judge its view too. */
  readonly trusted?: TrustedView
  /** What the head edits of the trusted rules, and who owns them: the `governance-change` rule. */
  readonly governance?: Governance
}

/** One edit of the rules: its approval address and what changed, for the message. */
export interface GovernanceEdit {
  /** `governance/policies/<name>`, `governance/rollout/stages/<name>`, `governance/fleet/limits`, … */
  readonly address: string
  /** `policy cyber-week-freeze removed (policies/freeze.yaml)`. */
  readonly what: string
}

/** The edits of the rules that judge changes, and the teams that own those rules. */
export interface Governance {
  readonly edits: readonly GovernanceEdit[]
  /** `trust.owners` of the trusted revision (never the head's: a change cannot name its own approvers). */
  readonly owners: readonly string[]
}

/** How the trusted revision sees the targets (their fields and stages). */
export interface TrustedView {
  readonly targets: ReadonlyMap<string, Target>
  readonly stageOf: ReadonlyMap<string, string>
}

/** Every change of the plan with the target it belongs to. */
export function* allChanges(context: PlanContext): Generator<{ target: TargetPlan; change: Change }> {
  for (const target of context.targets) for (const change of target.changes) yield { target, change }
}
