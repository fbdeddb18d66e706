/**
 * Applies a whole revision to every target at once, without stages: one plan of the fleet against
 * its observed state, checked like any plan, then each changed target applied through its
 * provider. This is how an empty simulated fleet is bootstrapped (`npm start`, benchmarks); real
 * fleet-wide changes go through rollouts, which add stages, waves, gates and rollback.
 */
import type { Kysely } from 'kysely'
import { InputError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import type { Plan } from '../core/plan/plan-model.ts'
import type { Approval } from '../core/policy/approvals.ts'
import { fingerprintsOf } from '../core/provider/fingerprint.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import { withRetries } from '../core/provider/retry.ts'
import { waitUntilSettled } from '../core/provider/settle.ts'
import type { Database } from '../store/tables.ts'
import { recordApplied, recordIntended } from './applied-states.ts'
import { approvedAddresses } from './apply-target.ts'
import { planAgainstObserved } from './observed-fleet.ts'

/**
 * The time policies see when an empty simulated fleet is built (an ordinary weekday morning):
 * creating a simulation is not a change to a running fleet, and a fleet's freeze windows and
 * weekend rules would otherwise refuse it on some days and not on others.
 */
export const BOOTSTRAP_POLICY_TIME = new Date('2026-11-10T10:00:00Z')

/** What {@link applyFleet} needs. */
export interface ApplyFleetOptions {
  readonly head: Fleet
  readonly registry: ProviderRegistry
  readonly db: Kysely<Database>
  readonly revision: string
  readonly approvals?: readonly Approval[]
  readonly now?: Date
  /** Targets applied at once. @default 4 */
  readonly concurrency?: number
  /** Give up waiting for one target to settle after this long. @default 30 minutes */
  readonly timeoutMs?: number
}

/** The result of {@link applyFleet}: the plan, and the targets that failed with why. */
export interface ApplyFleetResult {
  readonly plan: Plan
  readonly applied: number
  readonly failed: ReadonlyMap<string, string>
  /** Set when the plan was denied or needs approvals: nothing was applied. */
  readonly blocked?: string
}

/** Plans the fleet against its observed state and applies every changed target. */
export async function applyFleet(options: ApplyFleetOptions): Promise<ApplyFleetResult> {
  const { head, registry, db } = options
  const { outcome } = await planAgainstObserved(head, registry, db, {
    ...(options.approvals ? { approvals: options.approvals } : {}),
    ...(options.now ? { now: options.now } : {}),
  })
  if (!outcome.ok) throw new InputError('the fleet cannot be planned', outcome.errors)
  const { plan } = outcome
  if (plan.verdict === 'denied' || plan.verdict === 'requires-approval') {
    return { plan, applied: 0, failed: new Map(), blocked: plan.verdict }
  }
  const approved = approvedAddresses(plan.findings, plan.approvals?.unmet ?? [])
  const byId = new Map(head.targets.map((t) => [t.id, t]))
  const queue = [...plan.targets]
  const failed = new Map<string, string>()
  let applied = 0
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const target = byId.get(next.id)
      if (!target) continue // a target only the observed side has: nothing is deleted by omission
      const provider = registry.forTarget(target)
      const desired = head.desired.get(target.id) ?? { target, stacks: [], manifests: [] }
      const fingerprints = fingerprintsOf(desired)
      try {
        await recordIntended(db, target.id, provider.name, options.revision, fingerprints)
        await withRetries(() =>
          provider.apply({
            target,
            desired,
            plan: next,
            approvedDestruction: approved,
            revision: options.revision,
          }),
        )
        const settle = await waitUntilSettled(
          provider,
          target,
          options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
        )
        if (settle.state !== 'settled') {
          failed.set(
            target.id,
            `${settle.state}: ${settle.items.map((i) => `${i.address} ${i.status}`).join(', ')}`,
          )
          continue
        }
        await recordApplied(db, {
          target: target.id,
          provider: provider.name,
          revision: options.revision,
          fingerprints,
        })
        applied++
      } catch (error) {
        if (!(error instanceof Error) || error.name !== 'ProviderError') throw error
        failed.set(target.id, error.message)
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker))
  return { plan, applied, failed }
}
