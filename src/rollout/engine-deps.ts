/**
 * What the rollout engine works with, and the two ways it records a transition (of the rollout,
 * of one of its targets): stored with its event first, then reported.
 */
import type { Kysely } from 'kysely'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import type { PolicyClock } from '../core/policy/policy-time.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import type { RetryOptions } from '../operations/retry.ts'
import type { Database, Json } from '../store/tables.ts'
import type { GateOutcome } from './rollout-model.ts'
import { updateRollout } from './rollout-store.ts'
import type { ScheduledStage } from './schedule.ts'
import { updateTarget } from './target-rows-store.ts'

/**
 * Runs a stage's gates for one target. `signal` stops the gates under way (the engine then
 * records nothing of them: the target is gated again by the next runner).
 */
export type GateRunner = (
  stage: ScheduledStage,
  target: Target,
  fleet: Fleet,
  signal?: AbortSignal,
) => Promise<readonly GateOutcome[]>

/** What the engine works with. */
export interface EngineDeps {
  readonly db: Kysely<Database>
  readonly registry: ProviderRegistry
  /** Loads the fleet at a commit (the rollout's revision). */
  readonly loadRevision: (commit: string) => Promise<Fleet>
  readonly runGates: GateRunner
  /** @default the current time */
  readonly now?: () => Date
  /**
   * The time policies see when a plan is made (starting, leaving the queue): the server's clock,
   * never a time the one asking chose. @default the real clock
   */
  readonly policyClock?: PolicyClock
  /** How long to wait for one target to settle. @default 30 minutes */
  readonly settleTimeoutMs?: number
  readonly retry?: RetryOptions
  /** Receives every event as it is stored. */
  readonly onEvent?: (event: { type: string; target?: string; detail?: Json }) => void
  /**
   * Asks `runRollout` to let go (a server shutting down, a worker stopped): the step under way is
   * cut short — its provider calls, retries and settle polls end at once — and `runRollout`
   * returns, leaving the rollout as stored (still running, the target being applied still
   * `applying`) for the next process to continue, exactly as a killed process leaves it.
   */
  readonly signal?: AbortSignal
}

/** An event as the engine stores and reports it. */
export type EngineEvent = { type: string; target?: string; detail?: Json }

/** Stores a transition of a rollout with its event, then reports the event (`onEvent`). */
export async function recordRollout(
  deps: EngineDeps,
  id: string,
  changes: Parameters<typeof updateRollout>[2],
  event: EngineEvent,
): Promise<void> {
  // Only while it runs: a pause, abort or stop that came in meanwhile is not overwritten.
  if (await updateRollout(deps.db, id, changes, event, { from: ['running'] })) deps.onEvent?.(event)
}

/** Stores a transition of a target with its event, then reports the event (`onEvent`). */
export async function recordTarget(
  deps: EngineDeps,
  id: string,
  target: string,
  changes: Parameters<typeof updateTarget>[3],
  event: { type: string; detail?: Json },
): Promise<void> {
  await updateTarget(deps.db, id, target, changes, event)
  deps.onEvent?.({ ...event, target })
}

/**
 * How the reason of a target starts when it was found changed since the plan: nothing was
 * applied to it, so a rollback leaves it as it is (bringing back what it had at the plan would
 * overwrite the change someone made, unreviewed).
 */
export const CHANGED_SINCE_PLAN = 'changed since the plan'

/** Target states that still have work to do. */
export const UNFINISHED: ReadonlySet<string> = new Set(['pending', 'applying', 'verifying'])
