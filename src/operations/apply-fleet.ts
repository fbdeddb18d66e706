/**
 * Applies a whole revision to every target at once, without stages: a plan of the fleet against
 * its observed state, checked like any plan, then each changed target applied through its
 * provider. This is how an empty simulated fleet is bootstrapped (`npm start`, benchmarks); real
 * fleet-wide changes go through rollouts, which add stages, waves, gates and rollback. Like every
 * path that changes the fleet, it passes the fleet-wide stop and the rollouts' locks
 * (`fleet-gate.ts`) and holds its targets while it works.
 *
 * `npm start` applies in the background while the server answers requests, so it may plan in
 * batches (`batchSize`) — a plan of hundreds of targets is seconds of computation that would
 * hold every request up — and it follows the work through `onProgress`.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { Kysely } from 'kysely'
import { InputError } from '../core/errors.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import type { Plan, TargetPlan } from '../core/model/plan.ts'
import type { Approval } from '../core/policy/approvals.ts'
import { fingerprintsOf } from '../core/provider/fingerprint.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import type { Database } from '../store/tables.ts'
import { approvedAddresses } from './apply-target.ts'
import { applyTargetPlan } from './apply-target-plan.ts'
import { whileHolding } from './fleet-gate.ts'
import { planAgainstObserved } from './observed-fleet.ts'

/**
 * The time policies see when an empty simulated fleet is built (an ordinary weekday morning):
 * creating a simulation is not a change to a running fleet, and a fleet's freeze windows and
 * weekend rules would otherwise refuse it on some days and not on others.
 */
export const BOOTSTRAP_POLICY_TIME = new Date('2026-11-10T10:00:00Z')

/** How far {@link applyFleet} got: every count only grows. */
export interface ApplyFleetProgress {
  /** The targets the apply covers (the head's, or those `include` keeps). */
  readonly total: number
  /** Applied and settled. */
  readonly applied: number
  /** Failed or not settled. */
  readonly failed: number
  /** Planned with nothing to change: done without an apply. */
  readonly unchanged: number
}

/** What {@link applyFleet} needs. */
export interface ApplyFleetOptions {
  readonly head: Fleet
  readonly registry: ProviderRegistry
  readonly db: Kysely<Database>
  readonly revision: string
  readonly approvals?: readonly Approval[]
  /**
   * The time policies see, fixed by whoever bootstraps (an operator's choice, recorded as such with
   * the plan). @default the real clock
   */
  readonly now?: Date
  /** Targets applied at once. @default 4 */
  readonly concurrency?: number
  /** Give up waiting for one target to settle after this long. @default 30 minutes */
  readonly timeoutMs?: number
  /** Ends the work at once (it rejects with the signal's reason). */
  readonly signal?: AbortSignal
  /** Only these targets are planned, held and applied (resuming a bootstrap). @default all */
  readonly include?: (target: Target) => boolean
  /**
   * Plans (and judges) this many targets at a time, applying each batch while the next is
   * planned, instead of one plan of the whole fleet first. Each batch is a plan of its own, so
   * the plan's fleet-wide limits (`maxDeletes`, …) count per batch: for building an empty
   * simulated fleet, where nothing is deleted, not for changing a real one. @default the whole fleet in one plan
   */
  readonly batchSize?: number
  /** Told after every target (and once at the start), for a progress display. */
  readonly onProgress?: (progress: ApplyFleetProgress) => void
}

/** The result of {@link applyFleet}: the plan, and the targets that failed with why. */
export interface ApplyFleetResult {
  /** The plan; with batches, the last one made (the one that was blocked, when one was). */
  readonly plan: Plan
  readonly applied: number
  readonly failed: ReadonlyMap<string, string>
  /**
   * Set when the plan was denied or needs approvals: nothing of it was applied (with batches, the
   * batches before it were).
   */
  readonly blocked?: string
}

/** Plans the fleet against its observed state and applies every changed target. */
export async function applyFleet(options: ApplyFleetOptions): Promise<ApplyFleetResult> {
  const targets = options.include ? options.head.targets.filter(options.include) : options.head.targets
  return whileHolding(
    options.db,
    targets.map((t) => t.id),
    { kind: 'bootstrap', actor: 'bootstrap', source: 'cli', describe: 'applying the whole fleet at once' },
    () => applyHeld(options, targets),
  )
}

async function applyHeld(options: ApplyFleetOptions, targets: readonly Target[]): Promise<ApplyFleetResult> {
  const { head, registry, db, signal } = options
  const byId = new Map(head.targets.map((t) => [t.id, t]))
  const failed = new Map<string, string>()
  let applied = 0
  let unchanged = 0
  const report = () =>
    options.onProgress?.({ total: targets.length, applied, failed: failed.size, unchanged })

  // Targets still to plan, in the head's order; planned targets waiting for a worker.
  const unplanned = [...targets]
  const ready: { target: Target; plan: TargetPlan; approved: ReadonlySet<string> }[] = []
  let lastPlan: Plan | undefined
  let blocked: string | undefined
  let planning: Promise<void> | undefined

  const planNext = async () => {
    const batch = unplanned.splice(0, options.batchSize ?? unplanned.length)
    const inBatch = new Set(batch.map((t) => t.id))
    const { outcome } = await planAgainstObserved(head, registry, db, {
      ...(options.approvals ? { approvals: options.approvals } : {}),
      ...(options.now ? { now: options.now, nowSource: 'operator' as const } : {}),
      ...(options.include || options.batchSize !== undefined
        ? { include: (t: Target) => inBatch.has(t.id) }
        : {}),
    })
    if (!outcome.ok) throw new InputError('the fleet cannot be planned', outcome.errors)
    const { plan } = outcome
    lastPlan = plan
    if (plan.verdict === 'denied' || plan.verdict === 'requires-approval') {
      blocked = plan.verdict
      unplanned.length = 0
      return
    }
    const approved = approvedAddresses(plan.findings, plan.approvals?.unmet ?? [])
    const changed = new Set<string>()
    for (const next of plan.targets) {
      const target = byId.get(next.id)
      if (!target || !inBatch.has(target.id)) continue // a target only the observed side has: nothing is deleted by omission
      changed.add(target.id)
      ready.push({ target, plan: next, approved })
    }
    unchanged += batch.length - changed.size
    report()
  }
  /** The next planned target; plans the next batch when none is left (one planner at a time). */
  const take = async () => {
    for (;;) {
      signal?.throwIfAborted()
      const next = ready.shift()
      if (next || (unplanned.length === 0 && !planning)) return next
      planning ??= planNext().finally(() => {
        planning = undefined
      })
      await planning
    }
  }
  const worker = async () => {
    for (let next = await take(); next; next = await take()) {
      const { target, plan, approved } = next
      const provider = registry.forTarget(target)
      const desired = head.desired.get(target.id) ?? { target, stacks: [], manifests: [] }
      // The fleet was planned against its observed state a moment ago: not observed again.
      const result = await applyTargetPlan({
        db,
        provider,
        target,
        revision: options.revision,
        observe: false,
        decide: () => ({
          desired,
          plan,
          approvedDestruction: approved,
          fingerprints: fingerprintsOf(desired),
        }),
        ...(options.timeoutMs !== undefined ? { settleTimeoutMs: options.timeoutMs } : {}),
        ...(signal ? { signal } : {}),
      })
      if (result.outcome === 'applied') applied++
      else if (result.outcome === 'failed') failed.set(target.id, result.error.message)
      else if (result.outcome === 'unsettled')
        failed.set(
          target.id,
          `${result.settle.state}: ${result.settle.items.map((i) => `${i.address} ${i.status}`).join(', ')}`,
        )
      report()
      // Each apply is many short awaits; a turn of the event loop between targets lets whatever
      // else the process serves (the portal, while `npm start` applies) in between.
      await nextTurn()
    }
  }
  report()
  // Every worker ends before the hold is let go, also when one fails or the signal ends them.
  const ended = await Promise.allSettled(Array.from({ length: options.concurrency ?? 4 }, worker))
  const failure = ended.find((e) => e.status === 'rejected')
  if (failure) throw failure.reason
  if (!lastPlan) await planNext() // an empty selection: still a plan to return
  return { plan: lastPlan!, applied, failed, ...(blocked ? { blocked } : {}) }
}
