import { compareDiagnostics, type Diagnostic } from '../diagnostics.ts'
import type { RenderedStack } from '../model/desired-state.ts'
import type { FleetSettings } from '../model/fleet.ts'
import type { Fleet, Target } from '../model/fleet-model.ts'
import type {
  Change,
  Finding,
  Plan,
  PolicyTimeSource,
  StageMove,
  TargetPlan,
  Verdict,
} from '../model/plan.ts'
import { type Approval, applyApprovals } from '../policy/approvals.ts'
import { builtinRules } from '../policy/builtin/index.ts'
import {
  type FleetState,
  type Governance,
  type PlanContext,
  type PlanLimits,
  rolloutStages,
  type TrustedView,
} from '../policy/plan-context.ts'
import type { RuleRegistry } from '../policy/rules.ts'
import { diffManifests } from './diff-manifests.ts'
import { diffNodes } from './diff-nodes.ts'
import { diffStacks } from './diff-stacks.ts'
import { cascadeErrors } from './kubernetes-cascades.ts'
import { checkMovedFrom } from './moved-from.ts'
import { protectedTypes } from './protected.ts'
import { summarisePlan } from './summary.ts'

/** What a plan compares, and under which limits. */
export interface PlanInput {
  readonly base: FleetState
  readonly head: FleetState
  readonly limits: PlanLimits
  /** Extra protected types (`fleet.yaml` `protect` of the head revision). */
  readonly protect: readonly string[]
  /** Narrows the plan to some targets (`--target CEL`); rules then see only those. */
  readonly includeTarget?: (target: Target) => boolean
  /** The rules to apply (`policyRegistry(head)` adds the policy files'). @default the built-in safety rules */
  readonly rules?: RuleRegistry
  /** Approvals given for this plan (`--approve`, `--approvals FILE`). @default none */
  readonly approvals?: readonly Approval[]
  /** What policies see as `now`. @default the current time */
  readonly now?: Date
  /** The trusted revision's view of the targets, when it is neither side (policies judge it too). */
  readonly trusted?: TrustedView
  /** What the head edits of the trusted rules, and who owns them (`governance-change`). */
  readonly governance?: Governance
  /** Which revisions' rules judged the plan, for people to read (`main 1a2b3c4d5e6f (trusted)`). */
  readonly judgedBy?: readonly string[]
  /**
   * Who set `now`, recorded with the plan. @default `what-if` when `now` is given (a time chosen
   * by the reader), `clock` when it is not
   */
  readonly nowSource?: PolicyTimeSource
}

/** A plan, or the validation errors that make planning impossible (`invalid`). */
export type PlanOutcome =
  | { readonly ok: true; readonly plan: Plan }
  | { readonly ok: false; readonly errors: readonly Diagnostic[] }

/** Lifecycle states after which a target may leave the inventory. */
const REMOVABLE = new Set(['decommission-requested', 'decommissioned'])

/**
 * The limits and protected types a plan is held to: the strictest of every revision that judges
 * it (base and head, and the trusted revision), so that a change cannot loosen the checks of the
 * very plan that reviews it (raising maxDeletes or dropping a protected type takes effect from the
 * next plan on).
 */
export function strictestSettings(...sides: readonly Pick<FleetSettings, 'limits' | 'protect'>[]): {
  limits: PlanLimits
  protect: string[]
} {
  return {
    limits: {
      maxDeletes: Math.min(...sides.map((s) => s.limits.maxDeletes)),
      maxShrinkPercent: Math.min(...sides.map((s) => s.limits.maxShrinkPercent)),
    },
    protect: [...new Set(sides.flatMap((s) => s.protect))].sort(),
  }
}

/** The side of a plan that a loaded revision (or directory) gives. */
export function fleetState(fleet: Fleet): FleetState {
  return {
    side: fleet.source,
    targets: new Map(fleet.targets.map((t) => [t.id, t])),
    desired: fleet.desired,
    stageOf: fleet.stageOf,
    stages: rolloutStages(fleet.rollout),
  }
}

/**
 * Plans the change from `base` to `head`: a pure function of the two sides. Every target's
 * desired state is diffed (stacks for accounts, manifests for clusters), the rules turn the
 * changes into findings, and the findings into a verdict. A target whose rollout stage changes is
 * planned even when nothing it renders does: where a change is rolled out, and behind which
 * approvals, is part of the change. A target that left the inventory
 * without `lifecycle: decommission-requested` makes the plan invalid (`inventory-removal`):
 * nothing is deleted by omission. So do objects still rendered into a Namespace the change
 * deletes, or of a kind whose CustomResourceDefinition it deletes (`namespace-removal`,
 * `definition-removal`): Kubernetes would delete them with it, whatever the head says.
 */
export function planFleet(input: PlanInput): PlanOutcome {
  const errors = [
    ...inventoryRemovals(input.base, input.head),
    ...cascadeErrors(input.base, input.head).sort(compareDiagnostics),
  ]
  if (errors.length > 0) return { ok: false, errors }

  const include = input.includeTarget ?? (() => true)
  const base = narrow(input.base, include)
  const head = narrow(input.head, include)
  const moveErrors = checkMovedFrom(stacksOf(base), stacksOf(head), base.side.kind === 'observed')
  if (moveErrors.length > 0) return { ok: false, errors: moveErrors }
  const isProtected = protectedTypes(input.protect)
  const ids = [...new Set([...base.targets.keys(), ...head.targets.keys()])].sort(byTargetOrder(base, head))
  const targets: TargetPlan[] = []
  for (const id of ids) {
    const target = (head.targets.get(id) ?? base.targets.get(id))!
    const before = base.desired.get(id)
    const after = head.desired.get(id)
    const changes =
      target.kind === 'account'
        ? diffStacks(before?.stacks ?? [], after?.stacks ?? [], isProtected)
        : [
            ...diffNodes(id, before?.nodes, after?.nodes),
            ...diffManifests(before?.manifests ?? [], after?.manifests ?? [], isProtected),
          ]
    const stageMove = stageMoveOf(id, base, head)
    if (changes.length === 0 && !stageMove) continue
    targets.push(
      targetPlanOf(target, head.stageOf.get(id) ?? base.stageOf.get(id) ?? null, changes, stageMove),
    )
  }

  const allTargets = new Set([...base.targets.keys(), ...head.targets.keys()]).size
  const summary = summarisePlan(
    targets,
    allTargets,
    head.stages.map((s) => s.name),
  )
  const context: Omit<PlanContext, 'findings'> = {
    base,
    head,
    limits: input.limits,
    targets,
    summary,
    now: input.now ?? new Date(),
    ...(input.trusted ? { trusted: input.trusted } : {}),
    ...(input.governance ? { governance: input.governance } : {}),
  }
  const policyTime = {
    at: context.now.toISOString(),
    source: input.nowSource ?? (input.now ? 'what-if' : 'clock'),
  } as const
  const ruleFindings = (input.rules ?? builtinRules()).evaluate(context)
  const approvals = applyApprovals(ruleFindings, input.approvals ?? [])
  const findings = [...ruleFindings, ...approvals.findings]
  return {
    ok: true,
    plan: {
      version: 1,
      base: input.base.side,
      head: input.head.side,
      verdict: verdictOf(targets.length > 0, findings, approvals.unmet),
      summary,
      findings,
      approvalsRequired: approvalsOf(findings),
      ...(approvals.given.length > 0
        ? { approvals: { given: approvals.given, unmet: approvals.unmet } }
        : {}),
      targets,
      ...(input.judgedBy ? { judgedBy: input.judgedBy } : {}),
      policyTime,
    },
  }
}

/**
 * The stage move of a target in both sides whose stage differs between them: a new target has no
 * stage to move from, and a decommissioned one receives nothing wherever it is.
 */
export function stageMoveOf(id: string, base: FleetState, head: FleetState): StageMove | undefined {
  if (!base.targets.has(id) || !head.targets.has(id)) return undefined
  const from = base.stageOf.get(id)
  const to = head.stageOf.get(id)
  return from !== undefined && to !== undefined && from !== to ? { from, to } : undefined
}

/** The plan of one target: who it is (for grouping and the blast radius), its stage and its changes. */
export function targetPlanOf(
  target: Target,
  stage: string | null,
  changes: readonly Change[],
  stageMove?: StageMove,
): TargetPlan {
  return {
    id: target.id,
    kind: target.kind,
    name: target.name,
    team: target.team,
    environment: target.environment,
    criticality: target.criticality,
    group: target.group,
    stage,
    ...(stageMove ? { stageMove } : {}),
    changes,
  }
}

function inventoryRemovals(base: FleetState, head: FleetState): Diagnostic[] {
  const errors: Diagnostic[] = []
  for (const [id, target] of base.targets) {
    if (head.targets.has(id) || REMOVABLE.has(target.lifecycle)) continue
    errors.push({
      ...target.at,
      severity: 'error',
      rule: 'inventory-removal',
      message: `${target.kind} "${id}" (${target.name}) was removed from the inventory without going through lifecycle: decommission-requested (it is "${target.lifecycle}" in the base); removing it would delete everything it has. Put it back, set lifecycle: decommission-requested, and remove it after that change has rolled out`,
    })
  }
  return errors
}

function stacksOf(state: FleetState): Map<string, readonly RenderedStack[]> {
  return new Map([...state.desired].map(([id, desired]) => [id, desired.stacks]))
}

function narrow(state: FleetState, include: (target: Target) => boolean): FleetState {
  const targets = new Map([...state.targets].filter(([, t]) => include(t)))
  if (targets.size === state.targets.size) return state
  return { ...state, targets, desired: new Map([...state.desired].filter(([id]) => targets.has(id))) }
}

/** Accounts before clusters, each by id: the order of the inventory listings. */
function byTargetOrder(base: FleetState, head: FleetState): (a: string, b: string) => number {
  const kind = (id: string) => (head.targets.get(id) ?? base.targets.get(id))!.kind
  return (a, b) => (kind(a) === kind(b) ? (a < b ? -1 : a > b ? 1 : 0) : kind(a) === 'account' ? -1 : 1)
}

/** Denied if anything denies; requires approval while any required approval is missing; else allowed. */
export function verdictOf(changed: boolean, findings: readonly Finding[], unmet: readonly string[]): Verdict {
  if (findings.some((f) => f.effect === 'deny')) return 'denied'
  if (unmet.length > 0) return 'requires-approval'
  return changed ? 'allowed' : 'no-changes'
}

/** Exact addresses, and `glob (expected N)` for approvals by pattern; each once, sorted. */
function approvalsOf(findings: readonly Finding[]): string[] {
  const out = new Set<string>()
  for (const finding of findings) {
    if (finding.effect !== 'require-approval') continue
    if (finding.pattern) out.add(`${finding.pattern.glob} (expected ${finding.pattern.expectedCount})`)
    else for (const address of finding.addresses) out.add(address)
  }
  return [...out].sort()
}
