/**
 * `flotilla apply --target ID`: one target, straight through the same gates as everything else —
 * plan against the observed state, the built-in safety rules and the policies, the approvals —
 * then the provider applies exactly what the plan showed, with retries where they are safe, and
 * the result is recorded (for drift) and audited. Fleet-wide changes go through rollouts.
 */
import type { Kysely } from 'kysely'
import { InputError } from '../core/errors.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import type { Finding, Plan } from '../core/plan/plan-model.ts'
import type { Approval } from '../core/policy/approvals.ts'
import { fingerprintsOf } from '../core/provider/fingerprint.ts'
import type { ApplyReport, Health, ProviderEvent, SettleStatus } from '../core/provider/port.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import { type RetryOptions, withRetries } from '../core/provider/retry.ts'
import { DEFAULT_SETTLE_TIMEOUT_MS, waitUntilSettled } from '../core/provider/settle.ts'
import { appendAuditEntry } from '../store/audit.ts'
import type { Database } from '../store/tables.ts'
import { recordApplied, recordIntended } from './applied-states.ts'
import { planAgainstObserved } from './observed-fleet.ts'

/** What {@link applyTarget} needs. */
export interface ApplyTargetOptions {
  readonly head: Fleet
  readonly target: Target
  readonly registry: ProviderRegistry
  readonly db: Kysely<Database>
  /** The revision `head` was loaded from (commit, or a description of the working tree). */
  readonly revision: string
  readonly approvals?: readonly Approval[]
  /** What policies see as `now`. @default the current time */
  readonly now?: Date
  /** Who applies, for the audit log. */
  readonly actor: string
  /** Give up waiting for the target to settle after this long. @default 30 minutes */
  readonly timeoutMs?: number
  /** How often to ask whether the target settled. @default 250 ms */
  readonly pollMs?: number
  readonly retry?: RetryOptions
  readonly onEvent?: (event: ProviderEvent) => void
  /** Receives the plan before anything is applied (to show what is about to happen). */
  readonly onPlan?: (plan: Plan) => void
  /** Reports each retry of a provider call. */
  readonly onRetry?: (message: string, waitMs: number) => void
}

/**
 * How an apply ended:
 * - `no-changes`: the target already is what the revision says;
 * - `blocked`: the plan is denied or needs approvals not given — nothing was applied;
 * - `applied`: applied and settled;
 * - `failed`: the provider refused, failed, rolled back or did not settle in time.
 */
export type ApplyOutcome = 'no-changes' | 'blocked' | 'applied' | 'failed'

/** The result of {@link applyTarget}. */
export interface ApplyTargetResult {
  readonly outcome: ApplyOutcome
  readonly plan: Plan
  readonly report?: ApplyReport
  readonly settle?: SettleStatus
  readonly health?: Health
  /** Why it was blocked or failed. */
  readonly reason?: string
}

/** Plans, checks and applies one target. See the module comment. */
export async function applyTarget(options: ApplyTargetOptions): Promise<ApplyTargetResult> {
  const { head, target, registry, db } = options
  const settleOptions = {
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    pollMs: options.pollMs ?? 250,
  }
  const include = (t: Target) => t.id === target.id
  const provider = registry.forTarget(target)
  const planNow = () =>
    planAgainstObserved(head, registry, db, {
      include,
      ...(options.approvals ? { approvals: options.approvals } : {}),
      ...(options.now ? { now: options.now } : {}),
    })
  let { observed, outcome } = await planNow()
  if ((observed.observed.get(target.id)?.busy.length ?? 0) > 0) {
    // An earlier apply (one that was killed, or another process's) is still changing the target:
    // plan against what it ends up as, instead of failing on its busy stacks after a few retries.
    await waitUntilSettled(provider, target, settleOptions)
    ;({ observed, outcome } = await planNow())
  }
  if (!outcome.ok) throw new InputError(`the change to ${target.id} is invalid`, outcome.errors)
  const { plan } = outcome
  options.onPlan?.(plan)
  const audit = (action: string, detail: Record<string, unknown>) =>
    appendAuditEntry(db, {
      actor: options.actor,
      action,
      subject: target.id,
      source: 'cli',
      detail: { revision: options.revision, verdict: plan.verdict, ...detail } as never,
    })

  if (plan.verdict === 'denied' || plan.verdict === 'requires-approval') {
    const reason =
      plan.verdict === 'denied'
        ? `denied: ${plan.findings
            .filter((f) => f.effect === 'deny')
            .map((f) => f.message)
            .join('; ')}`
        : `needs approvals not given: ${(plan.approvals?.unmet ?? plan.approvalsRequired).join(', ')}`
    await audit('apply-blocked', { reason })
    return { outcome: 'blocked', plan, reason }
  }
  const desired = head.desired.get(target.id) ?? { target, stacks: [], manifests: [] }
  const fingerprints = fingerprintsOf(desired)
  if (plan.verdict === 'no-changes' && (observed.observed.get(target.id)?.busy.length ?? 0) === 0) {
    await recordApplied(db, {
      target: target.id,
      provider: provider.name,
      revision: options.revision,
      fingerprints,
    })
    return { outcome: 'no-changes', plan }
  }

  await recordIntended(db, target.id, provider.name, options.revision, fingerprints)
  let report: ApplyReport
  try {
    report = await withRetries(
      () =>
        provider.apply({
          target,
          desired,
          plan: plan.targets.find((t) => t.id === target.id),
          approvedDestruction: approvedAddresses(plan.findings, plan.approvals?.unmet ?? []),
          revision: options.revision,
          ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        }),
      {
        ...options.retry,
        onRetry: (error, attempt, waitMs) =>
          options.onRetry?.(`attempt ${attempt} failed (${error.message}); retrying in ${waitMs} ms`, waitMs),
      },
    )
  } catch (error) {
    if (!(error instanceof Error) || error.name !== 'ProviderError') throw error
    await audit('apply-failed', { reason: error.message })
    return { outcome: 'failed', plan, reason: error.message }
  }

  const settle = await waitUntilSettled(provider, target, {
    ...settleOptions,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  })
  if (settle.state !== 'settled') {
    const reason =
      settle.state === 'in-progress'
        ? `did not settle within ${Math.round((options.timeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS) / 1000)} s: ${describeItems(settle)}`
        : `the provider reports a failure: ${describeItems(settle)}`
    await audit('apply-failed', { reason, operations: report.operations.length })
    return { outcome: 'failed', plan, report, settle, reason }
  }
  await recordApplied(db, {
    target: target.id,
    provider: provider.name,
    revision: options.revision,
    fingerprints,
  })
  const health = await provider.health(target)
  await audit('apply', {
    operations: report.operations.length,
    snapshots: report.snapshots.map((s) => s.id),
    healthy: health.healthy,
  })
  return { outcome: 'applied', plan, report, settle, health }
}

function describeItems(settle: SettleStatus): string {
  const shown = settle.items.slice(0, 5).map((item) => `${item.address} ${item.status} (${item.reason})`)
  const more = settle.items.length > 5 ? ` and ${settle.items.length - 5} more` : ''
  return `${shown.join('; ')}${more}`
}

/**
 * The addresses whose required approvals were all given: a provider may destroy exactly these.
 * An address that one finding's approval covers but another finding still holds is not included.
 */
export function approvedAddresses(findings: readonly Finding[], unmet: readonly string[]): Set<string> {
  const missing = new Set(unmet)
  const covered = new Set<string>()
  const held = new Set<string>()
  for (const finding of findings) {
    if (finding.effect !== 'require-approval') continue
    const pattern = finding.pattern && `${finding.pattern.glob} (expected ${finding.pattern.expectedCount})`
    for (const address of finding.addresses) {
      const satisfied = pattern !== undefined ? !missing.has(pattern) : !missing.has(address)
      ;(satisfied ? covered : held).add(address)
    }
  }
  for (const address of held) covered.delete(address)
  return covered
}
