/**
 * The provider port: the one interface through which Flotilla reads and changes the real world.
 * Every provider (the simulated fleet `sim`, later `aws` and `kubernetes`) implements it; the
 * planner, `flotilla apply` and rollouts only ever talk to this interface, so the same code paths
 * run against the simulator and against real clouds.
 *
 * Methods take whole targets, not ids: a provider needs the account id, regions and config the
 * inventory gives. Everything that can fail for reasons outside Flotilla throws a
 * {@link ProviderError}, which says whether retrying is safe.
 */
import type { Target } from '../model/fleet-model.ts'
import type { CloudResourceView, TargetPlan } from '../plan/plan-model.ts'
import type { ClusterNodes, DesiredState, RenderedManifest, RenderedStack } from '../render/desired-state.ts'

/** What a target has, as the provider reports it: the same shapes as a rendered desired state. */
export interface ObservedTarget {
  readonly targetId: string
  /** Stacks as last deployed (template in CloudFormation's long form, parameters as strings). */
  readonly stacks: readonly RenderedStack[]
  /** Kubernetes objects as last applied. */
  readonly manifests: readonly RenderedManifest[]
  /** Addresses of stacks or objects that are still changing (not settled). */
  readonly busy: readonly string[]
  /** A cluster's control plane version and node pools with their nodes (when the provider manages nodes). */
  readonly nodes?: ClusterNodes
}

/** What `apply` is asked to do for one target. */
export interface ApplyRequest {
  readonly target: Target
  /** Everything the target should have afterwards. Applying it again changes nothing. */
  readonly desired: DesiredState
  /** The reviewed changes of this target, from the plan that allowed the apply. */
  readonly plan: TargetPlan | undefined
  /**
   * Addresses whose destruction the plan's approvals cover. A provider refuses to delete or
   * replace a protected resource (or a termination-protected stack) that is not in this set.
   */
  readonly approvedDestruction: ReadonlySet<string>
  /** The revision being applied (recorded with the change, shown in events). */
  readonly revision: string
  /** Receives progress as it happens (stack events, snapshots taken). */
  readonly onEvent?: (event: ProviderEvent) => void
}

/** Something a provider did or saw while applying. */
export interface ProviderEvent {
  readonly target: string
  readonly address: string
  /** `CREATE_IN_PROGRESS`, `snapshot-taken`, … */
  readonly status: string
  readonly message: string
}

/** What one operation of an apply started. */
export interface AppliedOperation {
  readonly address: string
  readonly operation: 'create' | 'update' | 'delete' | 'move'
}

/** A snapshot of a protected stateful resource, taken before it was destroyed. */
export interface SnapshotInfo {
  readonly id: string
  readonly provider: string
  readonly target: string
  readonly address: string
  readonly type: string
  readonly createdAt: Date
  /** One line: what it holds (`zone shop.example.org. with 14 record sets`). */
  readonly description: string
}

/** What `apply` started; the provider finishes it in the background (see `settled`). */
export interface ApplyReport {
  readonly operations: readonly AppliedOperation[]
  readonly snapshots: readonly SnapshotInfo[]
}

/** One stack or object that is not (yet) in a good, final state. */
export interface UnsettledItem {
  readonly address: string
  /** `UPDATE_IN_PROGRESS`, `UPDATE_ROLLBACK_COMPLETE`, `Progressing`, … */
  readonly status: string
  readonly reason: string
}

/**
 * Whether a target has finished changing:
 * - `settled`: everything is in a final, successful state;
 * - `in-progress`: something is still changing (poll again);
 * - `failed`: something reached a final state that is not what was asked (a rolled-back update).
 */
export interface SettleStatus {
  readonly state: 'settled' | 'in-progress' | 'failed'
  readonly items: readonly UnsettledItem[]
}

/** One health check of a target: a stack, a zone, a service resolving its name. */
export interface HealthCheck {
  readonly name: string
  readonly healthy: boolean
  readonly detail: string
}

/** A target's health in the provider's own view (the `health` gate). */
export interface Health {
  readonly healthy: boolean
  readonly checks: readonly HealthCheck[]
}

/** What `restore` brought back. */
export interface RestoreReport {
  readonly snapshot: SnapshotInfo
  /** One line: what was recreated. */
  readonly description: string
}

/** One resource change of a cloud's preview of a stack change. */
export interface PreviewedChange extends CloudResourceView {
  /** `<stack address>/<LogicalId>`. */
  readonly address: string
  readonly type: string
}

/** What the cloud says a stack's change would do, computed and then thrown away. */
export interface StackPreview {
  /** The stack's address. */
  readonly address: string
  /**
   * - `previewed`: the cloud computed the change (`changes`);
   * - `no-changes`: the cloud sees nothing to change;
   * - `refused`: the cloud would not accept the change (`reason`): the rollout would fail there.
   */
  readonly outcome: 'previewed' | 'no-changes' | 'refused'
  readonly reason?: string
  readonly changes: readonly PreviewedChange[]
}

/** The interface every provider implements. */
export interface Provider {
  /** The name targets choose it by (`fleet.yaml` / inventory `provider`). */
  readonly name: string
  /** The observed state of each target, by target id (targets the provider knows nothing of are empty). */
  observe(targets: readonly Target[]): Promise<Map<string, ObservedTarget>>
  /**
   * Starts bringing a target to its desired state: creates, updates, moves and deletes stacks
   * (or objects) so that a following `observe` equals `desired`. Idempotent. Takes a snapshot
   * before it destroys a protected stateful resource. Returns once every change is accepted;
   * `settled` says when they are done.
   */
  apply(request: ApplyRequest): Promise<ApplyReport>
  /**
   * Whether the target's last changes have finished, and how. `onEvent` receives what happened
   * since the last look (CloudFormation's stack events), for a provider that can tell.
   */
  settled(target: Target, onEvent?: (event: ProviderEvent) => void): Promise<SettleStatus>
  /** The target's health: stacks or objects in good states, names resolving, services up. */
  health(target: Target): Promise<Health>
  /** Snapshots this provider took, newest first. */
  snapshots(): Promise<SnapshotInfo[]>
  /** Recreates a destroyed resource from a snapshot, with all it held. */
  restore(snapshotId: string): Promise<RestoreReport>
  /**
   * Asks the cloud what deploying `stack` would do (a change set created, read and deleted),
   * changing nothing. Only providers with a cloud that can say so have it.
   * @param exists whether the stack exists in the cloud (an update) or not (a creation)
   */
  preview?(target: Target, stack: RenderedStack, exists: boolean): Promise<StackPreview>
}

/** Why a provider call failed, as far as the caller needs to know to react. */
export type ProviderErrorCode =
  /** Too many requests: retry later. */
  | 'throttled'
  /** The API failed or is unreachable (an outage, a 5xx): retry later. */
  | 'unavailable'
  /** Something is still changing (a stack in progress): retry when it settled. */
  | 'busy'
  /** The provider refuses: an unapproved destruction, a protected stack, a wrong account. Do not retry. */
  | 'refused'
  /** The request is wrong for this provider (an unsupported target kind). Do not retry. */
  | 'invalid'

const RETRYABLE: ReadonlySet<ProviderErrorCode> = new Set(['throttled', 'unavailable', 'busy'])

/** A typed provider failure: says what failed, where, and whether retrying may help. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError'
  readonly code: ProviderErrorCode
  readonly target: string
  /** The stack or object concerned, when there is one. */
  readonly address: string | undefined

  constructor(code: ProviderErrorCode, target: string, message: string, address?: string) {
    super(message)
    this.code = code
    this.target = target
    this.address = address
  }

  /** Whether the same call may succeed later (throttling, an outage, a busy stack). */
  get retryable(): boolean {
    return RETRYABLE.has(this.code)
  }
}
