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

import type { ClusterNodes, DesiredState, RenderedManifest, RenderedStack } from '../model/desired-state.ts'
import type { Target } from '../model/fleet-model.ts'
import type { Change, CloudResourceView } from '../model/plan.ts'

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

/**
 * What a provider needs of a target's plan: the changes that were reviewed, each with its action,
 * whether it is protected and which properties change. Only this part, so that the port (and
 * every provider) depends on the plan's data and never on the code that computes or judges plans.
 */
export interface ReviewedChanges {
  readonly changes: readonly Change[]
}

/** What `apply` is asked to do for one target. */
export interface ApplyRequest {
  readonly target: Target
  /** Everything the target should have afterwards. Applying it again changes nothing. */
  readonly desired: DesiredState
  /**
   * The reviewed changes of this target, from the plan that allowed the apply (a whole
   * `TargetPlan` fits): what a provider checks its own changes against before it makes them.
   */
  readonly plan: ReviewedChanges | undefined
  /**
   * Addresses whose destruction the plan's approvals cover. A provider refuses to delete or
   * replace a protected resource (or a termination-protected stack) that is not in this set.
   */
  readonly approvedDestruction: ReadonlySet<string>
  /** The revision being applied (recorded with the change, shown in events). */
  readonly revision: string
  /** Receives progress as it happens (stack events, snapshots taken). */
  readonly onEvent?: (event: ProviderEvent) => void
  /** Stops the apply's waits and requests; the call then rejects with the signal's reason. */
  readonly signal?: AbortSignal
}

/** What any provider call may be given besides its arguments. */
export interface CallOptions {
  /**
   * Cuts the call short: the provider stops its waits (latency, polls) and requests and rejects
   * with `signal.reason`. Stopping a rollout worker uses it to end a settle within a second.
   */
  readonly signal?: AbortSignal
}

/**
 * Where the gates of a target look: the provider of the target knows. A `dns` gate on an `aws`
 * target asks the resolvers of the machine (or those configured); on a `sim` target, the
 * simulated fleet's DNS server.
 */
export interface GateEndpoints {
  /** DNS servers (`host:port`) a `dns` gate asks; none: the resolvers of the machine. */
  readonly dnsServers?: readonly string[]
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

/**
 * What changed in a provider's world since an earlier look (see {@link Provider.changedSince}):
 * the targets whose observed state or health may differ now, or `all` when the provider cannot
 * say which (the cursor was unknown, or something every target depends on changed).
 */
export interface ProviderChanges {
  /** Give it to the next call: it names the world as it is now. */
  readonly cursor: string
  readonly changed: ReadonlySet<string> | 'all'
}

/** The interface every provider implements. */
export interface Provider {
  /** The name targets choose it by (`fleet.yaml` / inventory `provider`). */
  readonly name: string
  /** The observed state of each target, by target id (targets the provider knows nothing of are empty). */
  observe(targets: readonly Target[], options?: CallOptions): Promise<Map<string, ObservedTarget>>
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
  settled(
    target: Target,
    onEvent?: (event: ProviderEvent) => void,
    options?: CallOptions,
  ): Promise<SettleStatus>
  /** The target's health: stacks or objects in good states, names resolving, services up. */
  health(target: Target, options?: CallOptions): Promise<Health>
  /** Snapshots this provider took, newest first. */
  snapshots(): Promise<SnapshotInfo[]>
  /** Recreates a destroyed resource from a snapshot, with all it held. */
  restore(snapshotId: string): Promise<RestoreReport>
  /**
   * Asks the cloud what deploying `stack` would do (a change set created, read and deleted),
   * changing nothing. Only providers with a cloud that can say so have it.
   * @param exists whether the stack exists in the cloud (an update) or not (a creation)
   */
  preview?(
    target: Target,
    stack: RenderedStack,
    exists: boolean,
    options?: CallOptions,
  ): Promise<StackPreview>
  /**
   * Which of `targets` may observe or check differently than at `cursor` (no cursor: all of
   * them), time included: a change that settles, an object that becomes ready or a fault that
   * expires since then counts as a change. Cheap (one look, no per-target calls), so the
   * server's background work — the health refresh, drift checks, cached plans — asks it often
   * and asks the provider again only about what changed. A provider without it is polled, slowly.
   */
  changedSince?(
    targets: readonly Target[],
    cursor: string | undefined,
    options?: CallOptions,
  ): Promise<ProviderChanges>
  /** Where gates of the target look (see {@link GateEndpoints}); none: the machine's defaults. */
  gateEndpoints?(target: Target): Promise<GateEndpoints>
  /** Releases what the provider holds open (servers, connections); called when the application closes. */
  close?(): Promise<void>
}

// The provider's failures are part of the error taxonomy: each face maps them like every other
// user-facing error (`core/errors.ts`). Re-exported here, where providers have always found them.
export { isProviderError, ProviderError, type ProviderErrorCode } from '../errors.ts'
