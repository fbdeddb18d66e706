/**
 * `flotilla apply --target ID`: one target, straight through the same gates as everything else —
 * the fleet-wide stop and the rollouts' locks (`fleet-gate.ts`: the target is held for
 * the apply's duration), plan against the observed state at the clock's time, the built-in safety
 * rules and the policies, the approvals — then the provider applies exactly what the plan showed,
 * with retries where they are safe, and the result is recorded (for drift) and audited with the
 * time the policies saw. Fleet-wide changes go through rollouts.
 */
import type { Kysely } from 'kysely'
import { InputError } from '../core/errors.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import type { Finding, Plan } from '../core/model/plan.ts'
import type { TrustedFleet } from '../core/plan/judgement.ts'
import type { Approval } from '../core/policy/approvals.ts'
import { type PolicyClock, systemClock } from '../core/policy/policy-time.ts'
import { fingerprintsOf } from '../core/provider/fingerprint.ts'
import type { ApplyReport, Health, ProviderEvent, SettleStatus } from '../core/provider/port.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import { appendAuditEntry } from '../store/audit.ts'
import type { Database } from '../store/tables.ts'
import { applyTargetPlan } from './apply-target-plan.ts'
import { whileHolding } from './fleet-gate.ts'
import { planAgainstObserved } from './observed-fleet.ts'
import type { RetryOptions } from './retry.ts'
import { DEFAULT_SETTLE_TIMEOUT_MS } from './settle.ts'

/** What {@link applyTarget} needs. */
export interface ApplyTargetOptions {
  readonly head: Fleet
  /** The trusted revision, whose rules judge the apply too (strictest wins). @default the head's alone */
  readonly trusted?: TrustedFleet
  readonly target: Target
  readonly registry: ProviderRegistry
  readonly db: Kysely<Database>
  /** The revision `head` was loaded from (commit, or a description of the working tree). */
  readonly revision: string
  readonly approvals?: readonly Approval[]
  /** The time policies see. @default the real clock */
  readonly clock?: PolicyClock
  /** Who applies, for the audit log. */
  readonly actor: string
  /** Where the apply comes from, for the audit log. @default `cli` */
  readonly source?: string
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
  /** Ends the apply at once (it rejects with the signal's reason; nothing is recorded as applied). */
  readonly signal?: AbortSignal
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

/**
 * Plans, checks and applies one target. See the module comment. Refused (ConflictError) while the
 * fleet-wide stop is pulled or a rollout holds the target.
 */
export async function applyTarget(options: ApplyTargetOptions): Promise<ApplyTargetResult> {
  const source = options.source ?? 'cli'
  return whileHolding(
    options.db,
    [options.target.id],
    { kind: 'apply', actor: options.actor, source, describe: `apply of ${options.target.id}` },
    () => applyHeld(options, source),
  )
}

async function applyHeld(options: ApplyTargetOptions, source: string): Promise<ApplyTargetResult> {
  const { head, target, registry, db } = options
  const include = (t: Target) => t.id === target.id
  const provider = registry.forTarget(target)
  const planNow = () => {
    const time = (options.clock ?? systemClock)()
    return planAgainstObserved(head, registry, db, {
      include,
      ...(options.approvals ? { approvals: options.approvals } : {}),
      ...(options.trusted ? { trusted: options.trusted } : {}),
      now: new Date(time.at),
      nowSource: time.source,
    })
  }
  // Seeing the target is planning against it: when an earlier apply still changes it, the plan is
  // made again against what it ends up as.
  let planned: Awaited<ReturnType<typeof planNow>> | undefined
  let plan: Plan | undefined
  const audit = (action: string, detail: Record<string, unknown>) =>
    appendAuditEntry(db, {
      actor: options.actor,
      action,
      subject: target.id,
      source,
      detail: {
        revision: options.revision,
        verdict: plan!.verdict,
        ...(plan!.policyTime ? { policyTime: plan!.policyTime } : {}),
        ...detail,
      } as never,
    })
  const result = await applyTargetPlan({
    db,
    provider,
    target,
    revision: options.revision,
    observe: async () => {
      planned = await planNow()
      return planned.observed.observed.get(target.id)
    },
    decide: async (seen) => {
      const { outcome } = planned!
      if (!outcome.ok) throw new InputError(`the change to ${target.id} is invalid`, outcome.errors)
      plan = outcome.plan
      options.onPlan?.(plan)
      if (plan.verdict === 'denied' || plan.verdict === 'requires-approval') {
        const reason =
          plan.verdict === 'denied'
            ? `denied: ${plan.findings
                .filter((f) => f.effect === 'deny')
                .map((f) => f.message)
                .join('; ')}`
            : `needs approvals not given: ${(plan.approvals?.unmet ?? plan.approvalsRequired).join(', ')}`
        await audit('apply-blocked', { reason })
        return { refused: reason }
      }
      const desired = head.desired.get(target.id) ?? { target, stacks: [], manifests: [] }
      return {
        desired,
        plan: plan.targets.find((t) => t.id === target.id),
        approvedDestruction: approvedAddresses(plan.findings, plan.approvals?.unmet ?? []),
        fingerprints: fingerprintsOf(desired),
        unchanged: plan.verdict === 'no-changes' && (seen?.busy.length ?? 0) === 0,
      }
    },
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    retry: {
      ...options.retry,
      onRetry: (error, attempt, waitMs) =>
        options.onRetry?.(`attempt ${attempt} failed (${error.message}); retrying in ${waitMs} ms`, waitMs),
    },
    ...(options.timeoutMs !== undefined ? { settleTimeoutMs: options.timeoutMs } : {}),
    pollMs: options.pollMs ?? 250,
    ...(options.signal ? { signal: options.signal } : {}),
  })
  const decided = plan!
  switch (result.outcome) {
    case 'refused':
      return { outcome: 'blocked', plan: decided, reason: result.reason }
    case 'unchanged':
      return { outcome: 'no-changes', plan: decided }
    case 'failed':
      // A provider failing while the target settles is not a refused apply: it surfaces as such.
      if (result.during === 'settle') throw result.error
      await audit('apply-failed', { reason: result.error.message })
      return { outcome: 'failed', plan: decided, reason: result.error.message }
    case 'unsettled': {
      const { settle, report } = result
      const reason =
        settle.state === 'in-progress'
          ? `did not settle within ${Math.round((options.timeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS) / 1000)} s: ${describeItems(settle)}`
          : `the provider reports a failure: ${describeItems(settle)}`
      await audit('apply-failed', { reason, operations: report.operations.length })
      return { outcome: 'failed', plan: decided, report, settle, reason }
    }
    case 'applied': {
      const { report, settle } = result
      const health = await provider.health(target, options.signal ? { signal: options.signal } : {})
      await audit('apply', {
        operations: report.operations.length,
        snapshots: report.snapshots.map((s) => s.id),
        healthy: health.healthy,
      })
      return { outcome: 'applied', plan: decided, report, settle, health }
    }
  }
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
