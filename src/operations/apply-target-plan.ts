/**
 * Applying one target safely, the one way every path does it — `flotilla apply`, the bootstrap of
 * a whole fleet, a rollout's step and its rollback:
 *
 * 1. observe the target, and when an earlier apply (a killed process's, another one's) still
 *    changes some of its stacks, wait until they settled and observe again;
 * 2. decide, from what was observed, what to apply — or refuse (the caller's check: the plan's
 *    verdict, a target changed since the plan) — or find nothing to change;
 * 3. record what the apply brings the target to (`intended`: a killed apply is not drift);
 * 4. apply through the provider, retrying where it is safe;
 * 5. wait until the target settled;
 * 6. record what was applied (for drift).
 *
 * What a provider says went wrong is an outcome, not a throw; what the caller must know to word it
 * is in the outcome. An aborted `signal` ends any step at once, rejecting with `signal.reason`:
 * nothing is recorded as applied, so the target is where a killed process would have left it and
 * whoever applies it next finds its busy stacks and waits for them.
 */
import type { Kysely } from 'kysely'
import { isProviderError } from '../core/errors.ts'
import type { DesiredState } from '../core/model/desired-state.ts'
import type { Target } from '../core/model/fleet-model.ts'
import type { TargetPlan } from '../core/model/plan.ts'
import type {
  ApplyReport,
  ObservedTarget,
  Provider,
  ProviderError,
  ProviderEvent,
  SettleStatus,
} from '../core/provider/port.ts'
import { untilAborted } from '../lib/abortable.ts'
import type { Database } from '../store/tables.ts'
import { recordApplied, recordIntended } from './applied-states.ts'
import { type RetryOptions, withRetries } from './retry.ts'
import { waitUntilSettled } from './settle.ts'

/** What to apply to the target, as the caller decided from what was observed. */
export interface TargetChange {
  /** Everything the target should have afterwards. */
  readonly desired: DesiredState
  /** The reviewed changes of the target, as the provider checks the apply against them. */
  readonly plan: TargetPlan | undefined
  /** Addresses whose destruction is approved. */
  readonly approvedDestruction: ReadonlySet<string>
  /** The fingerprints of `desired`, by address: recorded as intended, then as applied. */
  readonly fingerprints: Readonly<Record<string, string>>
  /** Nothing to change: no apply and no wait, only `fingerprints` recorded as applied. @default false */
  readonly unchanged?: boolean
}

/** What the caller decides once the target was observed: a change, or why nothing may be applied. */
export type TargetDecision = TargetChange | { readonly refused: string }

/** What {@link applyTargetPlan} needs. */
export interface ApplyTargetPlanOptions {
  readonly db: Kysely<Database>
  readonly provider: Provider
  readonly target: Target
  /** What the apply is recorded as coming from: a commit, a working tree, `rollback of r-…`. */
  readonly revision: string
  /**
   * Sees the target: @default the provider's `observe`. `false`: the target is not observed (nor
   * waited for) — the caller already planned against the observed fleet.
   */
  readonly observe?: false | ((signal: AbortSignal | undefined) => Promise<ObservedTarget | undefined>)
  /**
   * Waits for the stacks an earlier apply left changing before deciding. @default true. A rollback
   * does not wait (it applies what the target had, retrying while a stack is busy).
   */
  readonly waitForBusy?: boolean
  /** Decides what to apply from the target as observed (undefined when not observed). */
  readonly decide: (observed: ObservedTarget | undefined) => TargetDecision | Promise<TargetDecision>
  /** Records the intended fingerprints before applying. @default true */
  readonly recordIntended?: boolean
  /** Receives what the provider reports while applying and settling (not while waiting for busy stacks). */
  readonly onEvent?: (event: ProviderEvent) => void
  readonly retry?: RetryOptions
  /** How long to wait for the target to settle. @default 30 minutes ({@link waitUntilSettled}) */
  readonly settleTimeoutMs?: number
  /** How often to ask whether it settled. @default 200 ms */
  readonly pollMs?: number
  /** Ends the work at once (see the module comment). */
  readonly signal?: AbortSignal
}

/**
 * How it ended:
 * - `refused`: the caller's `decide` refused (`reason`): nothing was applied;
 * - `unchanged`: nothing to change, the fingerprints are recorded as applied;
 * - `applied`: applied, settled, recorded;
 * - `failed`: the provider failed with `error` while applying or while settling: not recorded;
 * - `unsettled`: applied, but the target did not settle in time or settled in a failed state.
 */
export type ApplyTargetPlanResult =
  | { readonly outcome: 'refused'; readonly reason: string }
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'applied'; readonly report: ApplyReport; readonly settle: SettleStatus }
  | {
      readonly outcome: 'failed'
      readonly during: 'apply' | 'settle'
      readonly error: ProviderError
      readonly report?: ApplyReport
    }
  | { readonly outcome: 'unsettled'; readonly report: ApplyReport; readonly settle: SettleStatus }

/** Applies one target safely: see the module comment. */
export async function applyTargetPlan(options: ApplyTargetPlanOptions): Promise<ApplyTargetPlanResult> {
  const { db, provider, target, signal } = options
  const call = signal ? { signal } : {}
  const settleOptions = {
    ...(options.settleTimeoutMs !== undefined ? { timeoutMs: options.settleTimeoutMs } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...call,
  }
  let seen: ObservedTarget | undefined
  if (options.observe !== false) {
    const observe =
      options.observe ??
      (async (s: AbortSignal | undefined) =>
        (await untilAborted(provider.observe([target], s ? { signal: s } : {}), s)).get(target.id))
    seen = await observe(signal)
    if (options.waitForBusy !== false && (seen?.busy.length ?? 0) > 0) {
      // An apply of a process that was killed (or another's) is still under way: let it finish and
      // decide on what it ends up as, instead of failing on its busy stacks after a few retries.
      await waitUntilSettled(provider, target, settleOptions)
      seen = await observe(signal)
    }
  }
  const decision = await options.decide(seen)
  if ('refused' in decision) return { outcome: 'refused', reason: decision.refused }
  const record = () =>
    recordApplied(db, {
      target: target.id,
      provider: provider.name,
      revision: options.revision,
      fingerprints: decision.fingerprints,
    })
  if (decision.unchanged) {
    await record()
    return { outcome: 'unchanged' }
  }
  signal?.throwIfAborted()
  if (options.recordIntended !== false)
    await recordIntended(db, target.id, provider.name, options.revision, decision.fingerprints)
  let report: ApplyReport
  try {
    report = await withRetries(
      () =>
        untilAborted(
          provider.apply({
            target,
            desired: decision.desired,
            plan: decision.plan,
            approvedDestruction: decision.approvedDestruction,
            revision: options.revision,
            ...(options.onEvent ? { onEvent: options.onEvent } : {}),
            ...call,
          }),
          signal,
        ),
      { ...options.retry, ...call },
    )
  } catch (error) {
    if (isProviderError(error) && !signal?.aborted) return { outcome: 'failed', during: 'apply', error }
    throw error
  }
  let settle: SettleStatus
  try {
    settle = await waitUntilSettled(provider, target, {
      ...settleOptions,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    })
  } catch (error) {
    if (isProviderError(error) && !signal?.aborted)
      return { outcome: 'failed', during: 'settle', error, report }
    throw error
  }
  if (settle.state !== 'settled') return { outcome: 'unsettled', report, settle }
  await record()
  return { outcome: 'applied', report, settle }
}
