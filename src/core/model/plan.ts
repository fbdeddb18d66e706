import type { SourceRef } from './source.ts'

/**
 * Who set the time policies saw:
 * - `clock`: the clock of the machine that planned (the server's, or the one running the CLI);
 * - `operator`: the operator of the server fixed it (`flotilla serve --now`, for demos), or the
 *   bootstrap of an empty simulated fleet did;
 * - `what-if`: a read-only preview at a time its reader chose (`flotilla plan --now`,
 *   `flotilla drill --now`, `GET /api/plans?now=`); nothing is ever started from it.
 *
 * The clocks that produce it are in `policy/policy-time.ts`; the value is part of every plan.
 */
export const POLICY_TIME_SOURCES = ['clock', 'operator', 'what-if'] as const
export type PolicyTimeSource = (typeof POLICY_TIME_SOURCES)[number]

/** The time policies saw, in ISO 8601, and who set it. */
export interface PolicyTime {
  readonly at: string
  readonly source: PolicyTimeSource
}

/** The type of the change that stands for a stack itself (its parameters and non-resource sections). */
export const STACK_TYPE = 'AWS::CloudFormation::Stack'
/** The type of a cluster's control plane in plans. */
export const CONTROL_PLANE_TYPE = 'flotilla.dev/v1/ControlPlane'
/** The type of a node pool in plans. */
export const NODE_POOL_TYPE = 'flotilla.dev/v1/NodePool'

/** The parts of a manifest's address: `<cluster>/<namespace|_>/<Kind>/<name>`. */
export function addressParts(address: string): { namespace: string; kind: string; name: string } {
  // From the end: a cluster id has no slash today, but names, kinds and namespaces never have one.
  const parts = address.split('/')
  return {
    namespace: parts[parts.length - 3] ?? '',
    kind: parts[parts.length - 2] ?? '',
    name: parts[parts.length - 1] ?? '',
  }
}

/**
 * What a plan does to one stack, resource or Kubernetes object.
 * - `create`, `delete`: it appears or disappears;
 * - `update`: changed in place;
 * - `replace`: deleted and created again, because an immutable property changed;
 * - `move`: the same thing under a new stack identity (`MovedFrom`), nothing destroyed;
 * - `rotate`: a node pool's nodes are replaced by new ones (a new Kubernetes version, instance
 *   type or profile): surged, cordoned, drained within their PodDisruptionBudgets, removed;
 * - `no-op`: unchanged (kept only where the reader needs it, e.g. inside a moved stack).
 */
export const CHANGE_ACTIONS = ['create', 'update', 'replace', 'delete', 'move', 'rotate', 'no-op'] as const
export type ChangeAction = (typeof CHANGE_ACTIONS)[number]

/**
 * Whether a property change forces the resource to be replaced: `true`/`false` from the
 * resource type's schema; `"conditional"` where the schema says it may (CloudFormation's
 * `Replacement: Conditional`); `"unknown"` for types Flotilla has no schema for.
 */
export type Replacement = boolean | 'conditional' | 'unknown'

/** One changed property: a dotted path inside the resource's properties (or object), before and after. */
export interface PropertyChange {
  readonly path: string
  /** `null` when the property did not exist before. */
  readonly before: unknown
  /** `null` when the property no longer exists. */
  readonly after: unknown
  readonly forcesReplacement: Replacement
  /**
   * The value is known only when CloudFormation applies the stack (`Fn::GetAtt`, a `Ref` to a
   * resource, `Fn::ImportValue`, a dynamic reference): the plan cannot tell whether it changes.
   * Where the property can force replacement, the resource may be replaced.
   */
  readonly unknown?: boolean
  /** For a change caused by replaced resources that this value reads (`Ref`, `Fn::GetAtt`): their logical ids. */
  readonly dependsOn?: readonly string[]
}

/** A change to one addressable thing of a target. */
export interface Change {
  /** `<account>/<region>/<StackName>[/<LogicalId>]` or `<cluster>/<namespace|_>/<Kind>/<name>`. */
  readonly address: string
  readonly action: ChangeAction
  /** `AWS::S3::Bucket`, `AWS::CloudFormation::Stack` for the stack itself, or `<apiVersion>/<Kind>` for Kubernetes. */
  readonly type: string
  /** Whether the type is protected (built-in list plus `fleet.yaml` `protect`). */
  readonly protected: boolean
  /** For a `move`: the address before. */
  readonly movedFrom?: string
  /** An update that may replace the resource (a `conditional` or `unknown` property changed). */
  readonly mayReplace?: boolean
  readonly properties: readonly PropertyChange[]
  /** What the cloud's own preview says of it (`flotilla plan --cloud-preview`). */
  readonly cloud?: CloudView
  /**
   * For a resource created or deleted because its CloudFormation `Condition` changed value: the
   * condition and its value in the head (`false`: the resource is deleted).
   */
  readonly condition?: { readonly name: string; readonly value: boolean }
  /** For a node pool's `rotate` (and a `delete`, which drains every node): which nodes, how many. */
  readonly rotation?: Rotation
}

/** The nodes a node pool change replaces. */
export interface Rotation {
  /** How many nodes are replaced (for a plan between revisions, the pool's `min`: its nodes are not known). */
  readonly count: number
  /** The nodes replaced, by name, when the plan compares with the observed cluster. */
  readonly nodes?: readonly string[]
  /** Whether the count is the pool's `min` rather than observed nodes. */
  readonly estimated?: boolean
  /** StatefulSet pods run on the pool: its rotations count against `nodeRotation.statefulPools`. */
  readonly stateful?: boolean
  /** The pool has used its monthly rotation budget: the rollout skips it and reports it. */
  readonly overBudget?: boolean
}

/** What a CloudFormation change set does to one resource. */
export interface CloudResourceView {
  /** CloudFormation's `Action`. */
  readonly action: 'Add' | 'Modify' | 'Remove' | 'Import' | 'Dynamic'
  /** For `Modify`: whether CloudFormation replaces the resource. */
  readonly replacement?: 'True' | 'False' | 'Conditional'
  /** What becomes of the physical resource: `Delete`, `Retain`, `ReplaceAndDelete`, … */
  readonly policyAction?: string
}

/**
 * What the cloud's preview says of a planned change: CloudFormation's view of the resource, or
 * `None` when its change set does not touch a resource the plan changes.
 */
export type CloudView = CloudResourceView | { readonly action: 'None' }

/** The changes of one target. */
export interface TargetPlan {
  readonly id: string
  readonly kind: 'account' | 'cluster'
  readonly name: string
  readonly team: string
  readonly environment: string
  readonly criticality: string
  readonly group: string
  /**
   * The rollout stage the target will be rolled out in: its stage in the head revision (or the
   * base, for a removed target); `null` when it has none (decommissioned).
   */
  readonly stage: string | null
  /**
   * Present when the target's stage differs between base and head (its channel, environment or
   * group changed, or `rollout.yaml`'s stages did): the target is in the plan for this even when
   * nothing it renders changes.
   */
  readonly stageMove?: StageMove
  /** Empty for a target that only moves to another stage. */
  readonly changes: readonly Change[]
}

/** A target's move from one rollout stage to another. */
export interface StageMove {
  /** Its stage in the base. */
  readonly from: string
  /** Its stage in the head (the same as the target's `stage`). */
  readonly to: string
}

/** How a finding affects the verdict. */
export type FindingEffect = 'deny' | 'require-approval' | 'warn'

/** Something a rule found in the plan. */
export interface Finding {
  /** The rule that fired: a built-in safety rule (`protected-destroy`, …) or a policy's name. */
  readonly rule: string
  readonly effect: FindingEffect
  /** What was found, where, and what to do instead. */
  readonly message: string
  /** The addresses concerned. For require-approval, each must be approved (or a pattern with `expectedCount`). */
  readonly addresses: readonly string[]
  /** For approvals by pattern: the exact number of addresses the pattern must match. */
  readonly pattern?: { readonly glob: string; readonly expectedCount: number }
}

/** `no-changes` · `allowed` · `requires-approval` · `denied` (an invalid repository gives no plan). */
export type Verdict = 'no-changes' | 'allowed' | 'requires-approval' | 'denied'

/** Counts of the plan: its blast radius. */
export interface PlanSummary {
  /** Targets in base or head. */
  readonly targets: number
  /** Targets with at least one change or a stage move. */
  readonly targetsChanged: number
  readonly actions: Readonly<Record<Exclude<ChangeAction, 'no-op'>, number>>
  /** Protected resources deleted or replaced (or that may be replaced). */
  readonly protectedDestroyed: number
  /** Changed targets by environment, criticality and team. */
  readonly byEnvironment: Readonly<Record<string, number>>
  readonly byCriticality: Readonly<Record<string, number>>
  readonly byTeam: Readonly<Record<string, number>>
  /** Changed targets of the `ops` group (monitoring and ops tooling). */
  readonly opsTargetsChanged: number
  /** Changed targets by the stage they will be rolled out in (targets without a stage are left out). */
  readonly byStage: Readonly<Record<string, number>>
  /** Targets that move to another rollout stage. */
  readonly stageMoves: number
}

/** One side of a plan: a revision, a directory (the working tree), or the observed fleet. */
export type PlanSide = SourceRef | { readonly kind: 'observed' }

/** A plan: pure data, the same object behind the text, markdown and JSON renderings. */
export interface Plan {
  readonly version: 1
  readonly base: PlanSide
  readonly head: PlanSide
  readonly verdict: Verdict
  readonly summary: PlanSummary
  readonly findings: readonly Finding[]
  /** Every approval the plan needs: exact addresses, or `glob (expected N)` for patterns. */
  readonly approvalsRequired: readonly string[]
  /** The approvals given with the plan, and the required ones still missing (present when any were given). */
  readonly approvals?: { readonly given: readonly string[]; readonly unmet: readonly string[] }
  /** Targets with at least one change or a stage move, accounts first, each sorted by id. */
  readonly targets: readonly TargetPlan[]
  /** What the cloud's own preview found (`flotilla plan --cloud-preview`). */
  readonly cloudPreview?: CloudPreviewSummary
  /**
   * Whose rules judged the plan, when the trusted revision is neither of its sides: its rules
   * judge as well as the base's and the head's, strictest wins —
   * `["main 1a2b3c4d5e6f (trusted)", "base 0a1b2c3d4e5f", "head 9f8e7d6c5b4a"]`.
   */
  readonly judgedBy?: readonly string[]
  /** The time the policies saw, and who set it (every plan Flotilla makes has it). */
  readonly policyTime?: PolicyTime
}

/** The counts of a cloud preview. */
export interface CloudPreviewSummary {
  /** Stacks the cloud previewed with a change set (each deleted afterwards). */
  readonly stacks: number
  /** Accounts those stacks are in. */
  readonly accounts: number
  /** Resource changes where the cloud and the plan agree. */
  readonly agreed: number
  /** Resource changes (or whole stacks) where they disagree: each is a `cloud-preview` finding. */
  readonly disagreements: number
  /** What was not previewed, and why (a provider without a cloud, a stack deleted whole, a move). */
  readonly skipped: readonly { readonly reason: string; readonly count: number }[]
}
