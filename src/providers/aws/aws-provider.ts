/**
 * The `aws` provider: an account's stacks through AWS CloudFormation, with the official SDK.
 *
 * - Every call runs as the deployment role of the target's own account, verified to be that
 *   account before anything is read or written (`account-sessions.ts`).
 * - A stack is only ever changed through a change set, which is checked against the reviewed
 *   plan before it runs. The cloud may not delete or replace anything the plan did not show as
 *   deleted or replaced, nor a protected resource whose destruction was not approved
 *   (`stack-changes.ts`, `change-sets.ts`).
 * - Every stack it creates gets termination protection and a stack policy that denies replacing
 *   or deleting its protected resources. Only the destructions approved for one change are
 *   allowed, for that change.
 * - Stacks it manages carry the tag `flotilla:address`; other stacks in the account are left
 *   alone (`managed-stacks.ts`).
 * - Before a change or a deletion destroys a hosted zone, every record set of it is copied into a
 *   snapshot (`zone-snapshots.ts`); without the copy, nothing runs.
 * - `settled` reports the stacks' CloudFormation events as they come (`stack-events.ts`) and
 *   judges their states (`stack-states.ts`); `preview` asks CloudFormation what a change would do
 *   (`stack-preview.ts`).
 * - Every call takes an `AbortSignal`: its requests and waits stop, and it rejects with the
 *   signal's reason at once.
 *
 * Not yet: moves (`MovedFrom`) are refused.
 */
import type { Kysely } from 'kysely'
import type { RenderedStack } from '../../core/model/desired-state.ts'
import type { Target } from '../../core/model/fleet-model.ts'
import { stackFingerprint } from '../../core/provider/fingerprint.ts'
import {
  type AppliedOperation,
  type ApplyReport,
  type ApplyRequest,
  type CallOptions,
  type Health,
  type ObservedTarget,
  type Provider,
  ProviderError,
  type ProviderEvent,
  type RestoreReport,
  type SettleStatus,
  type SnapshotInfo,
  type StackPreview,
} from '../../core/provider/port.ts'
import { untilAborted } from '../../lib/abortable.ts'
import { listSnapshots } from '../../store/snapshots.ts'
import type { Database } from '../../store/tables.ts'
import { type AccountSession, AccountSessions } from './account-sessions.ts'
import type { AwsConfig } from './aws-config.ts'
import { isBusy, managedStacks, REVIEW_IN_PROGRESS, renderedStack } from './managed-stacks.ts'
import { changeStack, deleteStack, type StackChangeContext } from './stack-changes.ts'
import { StackEventWatch } from './stack-events.ts'
import { previewStack } from './stack-preview.ts'
import { healthOf, settleStatusOf } from './stack-states.ts'
import { restoreZone } from './zone-snapshots.ts'

/** Accounts observed at once. */
const OBSERVE_CONCURRENCY = 8

/** See the module comment. */
export class AwsProvider implements Provider {
  readonly name = 'aws'
  private readonly sessions: AccountSessions
  private readonly db: Kysely<Database>
  private readonly pollMs: number
  /** Stacks a change was started on whose events are still to be reported. */
  private readonly events = new StackEventWatch()

  constructor(config: AwsConfig, db: Kysely<Database>, options: { pollMs?: number } = {}) {
    this.sessions = new AccountSessions(config)
    this.db = db
    this.pollMs = options.pollMs ?? 2000
  }

  observe(targets: readonly Target[], options: CallOptions = {}): Promise<Map<string, ObservedTarget>> {
    return untilAborted(this.observeAll(targets, options.signal), options.signal)
  }

  apply(request: ApplyRequest): Promise<ApplyReport> {
    return untilAborted(this.applyTarget(request), request.signal)
  }

  settled(
    target: Target,
    onEvent?: (event: ProviderEvent) => void,
    options: CallOptions = {},
  ): Promise<SettleStatus> {
    const { signal } = options
    return untilAborted(
      (async () => {
        if (target.kind !== 'account') return { state: 'settled', items: [] }
        const session = await this.session(target, signal)
        if (onEvent) await this.events.report(session, target, onEvent, signal)
        return settleStatusOf(await managedStacks(session, target, signal))
      })(),
      signal,
    )
  }

  health(target: Target, options: CallOptions = {}): Promise<Health> {
    const { signal } = options
    return untilAborted(
      (async () => {
        if (target.kind !== 'account') return { healthy: true, checks: [] }
        return healthOf(await managedStacks(await this.session(target, signal), target, signal))
      })(),
      signal,
    )
  }

  snapshots(): Promise<SnapshotInfo[]> {
    return listSnapshots(this.db, this.name)
  }

  restore(snapshotId: string): Promise<RestoreReport> {
    return restoreZone(
      this.db,
      async (account, target) => (await this.sessions.forAccount(account, target)).route53,
      snapshotId,
    )
  }

  /**
   * Creates a change set for `desired` as `apply` would, reads what CloudFormation says it does,
   * and deletes it again — and the stack it made, for a stack that did not exist (CloudFormation
   * keeps it `REVIEW_IN_PROGRESS` otherwise). Nothing is executed.
   */
  preview(
    target: Target,
    desired: RenderedStack,
    exists: boolean,
    options: CallOptions = {},
  ): Promise<StackPreview> {
    const { signal } = options
    return untilAborted(
      (async () =>
        previewStack(await this.session(target, signal), target, desired, exists, {
          pollMs: this.pollMs,
          signal,
        }))(),
      signal,
    )
  }

  private async observeAll(targets: readonly Target[], signal: AbortSignal | undefined) {
    const out = new Map<string, ObservedTarget>()
    // Accounts are read a few at a time: each is its own role, and CloudFormation throttles each
    // account on its own, so 300 accounts need not take 300 times one.
    const queue = [...targets]
    const worker = async () => {
      for (let target = queue.shift(); target; target = queue.shift()) {
        signal?.throwIfAborted()
        out.set(target.id, await this.observeTarget(target, signal))
      }
    }
    await Promise.all(Array.from({ length: OBSERVE_CONCURRENCY }, worker))
    // In the order asked for, whichever account answered first.
    return new Map(targets.map((t) => [t.id, out.get(t.id)!]))
  }

  private async observeTarget(target: Target, signal: AbortSignal | undefined): Promise<ObservedTarget> {
    if (target.kind !== 'account') return { targetId: target.id, stacks: [], manifests: [], busy: [] }
    const session = await this.session(target, signal)
    const managed = await managedStacks(session, target, signal)
    const stacks: RenderedStack[] = []
    for (const m of managed) {
      if (m.stack.StackStatus === REVIEW_IN_PROGRESS) continue // a change set never executed
      stacks.push(await renderedStack(session, target, m, signal))
    }
    return {
      targetId: target.id,
      stacks,
      manifests: [],
      busy: managed.filter(isBusy).map((m) => m.address),
    }
  }

  private async applyTarget(request: ApplyRequest): Promise<ApplyReport> {
    const { target, signal } = request
    if (target.kind !== 'account')
      throw new ProviderError(
        'invalid',
        target.id,
        `the aws provider manages accounts' stacks; cluster ${target.id} needs a Kubernetes provider`,
      )
    const session = await this.session(target, signal)
    const managed = await managedStacks(session, target, signal)
    const busy = managed.find(isBusy)
    if (busy)
      throw new ProviderError(
        'busy',
        target.id,
        `stack ${busy.address} is ${busy.stack.StackStatus}`,
        busy.address,
      )
    const observed = new Map<string, RenderedStack>()
    for (const m of managed)
      if (m.stack.StackStatus !== REVIEW_IN_PROGRESS)
        observed.set(m.address, await renderedStack(session, target, m, signal))
    const operations: AppliedOperation[] = []
    const context: StackChangeContext = {
      db: this.db,
      session,
      target,
      request,
      reviewed: request.plan?.changes ?? [],
      snapshots: [],
      events: this.events,
      pollMs: this.pollMs,
    }

    for (const desired of request.desired.stacks) {
      if (desired.movedFrom !== undefined && !observed.has(desired.address))
        throw new ProviderError(
          'refused',
          target.id,
          `stack ${desired.address} moves from ${desired.movedFrom}: the aws provider does not move stacks yet; nothing was changed`,
          desired.address,
        )
      const current = observed.get(desired.address)
      if (current && stackFingerprint(current) === stackFingerprint(desired)) continue
      signal?.throwIfAborted()
      if (await changeStack(context, desired, current !== undefined))
        operations.push({ address: desired.address, operation: current ? 'update' : 'create' })
    }

    const wanted = new Set(request.desired.stacks.map((s) => s.address))
    for (const m of managed) {
      if (wanted.has(m.address) || m.stack.StackStatus === REVIEW_IN_PROGRESS) continue
      signal?.throwIfAborted()
      await deleteStack(context, m, observed.get(m.address))
      operations.push({ address: m.address, operation: 'delete' })
    }
    return { operations, snapshots: context.snapshots }
  }

  /** The session of the target's account; `signal` stops the wait for it, not the session others share. */
  private session(target: Target, signal: AbortSignal | undefined): Promise<AccountSession> {
    return untilAborted(this.sessions.forAccount(target.account, target.id), signal)
  }
}
