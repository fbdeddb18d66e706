/**
 * A rollout's step: the unfinished targets of a wave, each applied through the one
 * {@link applyTargetPlan} (observe, wait for busy stacks, check against the plan, record, apply,
 * settle, record) and then gated; every transition stored before the work it starts.
 */
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import { targetPlanOf } from '../core/plan/plan-fleet.ts'
import { fingerprintsOf } from '../core/provider/fingerprint.ts'
import type { Provider, ProviderEvent } from '../core/provider/port.ts'
import { applyTargetPlan } from '../operations/apply-target-plan.ts'
import { appendRolloutEvents } from '../store/events.ts'
import type { Json } from '../store/tables.ts'
import { CHANGED_SINCE_PLAN, type EngineDeps, recordTarget } from './engine-deps.ts'
import { mayStep, type RolloutRow } from './rollout-store.ts'
import type { ScheduledStage } from './schedule.ts'
import {
  loadPlanned,
  type PlannedTarget,
  type RolloutTargetRow,
  startTargetStep,
} from './target-rows-store.ts'

/**
 * Runs the unfinished targets of a wave, at most `maxParallel` at once, a cluster only after its
 * account when both are in the wave.
 */
export async function runWave(
  deps: EngineDeps,
  fleet: Fleet,
  rollout: RolloutRow,
  stage: ScheduledStage,
  wave: readonly RolloutTargetRow[],
  failedBefore: number,
): Promise<void> {
  const queue = wave.filter((t) => t.state === 'pending' || t.state === 'applying' || t.state === 'verifying')
  // Once more targets failed than the stage tolerates, no further target starts: the rollout
  // halts when the steps under way are done, and the rest of the wave is never touched.
  let failures = failedBefore
  const byId = new Map(fleet.targets.map((t) => [t.id, t]))
  // A cluster's records go into its account's zones: when both are in this wave, the cluster
  // waits for its account's step (accounts come first in every wave, so it has begun).
  // Each step is registered in the same tick its row is taken from the queue, so a cluster taken
  // later always finds its account's step.
  const accountSteps = new Map<string, Promise<unknown>>()
  const worker = async () => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      const target = byId.get(row.target)!
      const account = target.kind === 'cluster' ? accountSteps.get(target.account) : undefined
      const step = (async () => {
        await account
        if (deps.signal?.aborted || failures > stage.failureTolerance) return false
        const failed = await runTarget(deps, fleet, rollout, stage, target, row)
        if (failed === undefined) return false // the rollout no longer runs, or the fleet is stopped
        if (failed) failures++
        return true
      })()
      if (target.kind === 'account')
        accountSteps.set(
          target.id,
          step.catch(() => {}),
        )
      if (!(await step)) return
    }
  }
  // Every step ends before the wave does (an aborted one at once), so nothing of this wave runs on
  // once runRollout has let go of the rollout.
  const ended = await Promise.allSettled(Array.from({ length: Math.max(1, stage.maxParallel) }, worker))
  const failed = ended.find((e) => e.status === 'rejected')
  if (failed) throw failed.reason
}

/**
 * One target step: apply → settle → gates, each transition stored before the work it starts.
 * Resolves to whether the target failed; undefined when the step did not start, because the
 * rollout no longer runs or the fleet-wide stop is pulled.
 */
async function runTarget(
  deps: EngineDeps,
  fleet: Fleet,
  rollout: RolloutRow,
  stage: ScheduledStage,
  target: Target,
  row: RolloutTargetRow,
): Promise<boolean | undefined> {
  const id = rollout.id
  const fail = (reason: string) =>
    recordTarget(
      deps,
      id,
      target.id,
      { state: 'failed', reason },
      { type: 'target-failed', detail: { stage: stage.name, reason } },
    )
  let state = row.state
  let planned: PlannedTarget | undefined
  if (state === 'pending') {
    const event = { type: 'target-applying', detail: { stage: stage.name, wave: row.wave } }
    planned = await startTargetStep(deps.db, id, target.id, row.attempts + 1, event)
    if (!planned) return undefined
    deps.onEvent?.({ ...event, target: target.id })
    state = 'applying'
  } else if (!(await mayStep(deps.db, id))) {
    return undefined
  }
  const provider = deps.registry.forTarget(target)
  if (state === 'applying') {
    const problem = await applyAsPlanned(deps, fleet, target, provider, row, rollout.revision, planned)
    if (problem) {
      await fail(problem)
      return true
    }
    await recordTarget(
      deps,
      id,
      target.id,
      { state: 'verifying' },
      { type: 'target-applied', detail: { stage: stage.name } },
    )
  }
  const gates = await deps.runGates(stage, target, fleet, deps.signal)
  // Gates cut short by a stop said nothing about the target: it stays `verifying`.
  deps.signal?.throwIfAborted()
  const failed = gates.filter((g) => g.state === 'failed')
  if (failed.length > 0) {
    await recordTarget(
      deps,
      id,
      target.id,
      { state: 'failed', reason: failed.map((g) => g.detail).join('; '), gates },
      { type: 'target-failed', detail: { stage: stage.name, gates: gates as unknown as Json } },
    )
    return true
  }
  await recordTarget(
    deps,
    id,
    target.id,
    { state: 'succeeded', reason: null, gates },
    { type: 'target-succeeded', detail: { stage: stage.name, gates: gates as unknown as Json } },
  )
  return false
}

/**
 * Applies exactly what the plan showed: first checks that the target still is what the plan was
 * computed against (each stack or object as observed then, or already as this rollout makes it —
 * a resumed rollout finds its own earlier work), then applies and waits until it settled
 * ({@link applyTargetPlan}). Returns why it could not, or undefined.
 */
async function applyAsPlanned(
  deps: EngineDeps,
  fleet: Fleet,
  target: Target,
  provider: Provider,
  row: RolloutTargetRow,
  revision: string,
  /** What the plan showed for the target, when the caller has read it already. */
  known: PlannedTarget | undefined,
): Promise<string | undefined> {
  const events = providerEvents(deps, row)
  try {
    const result = await applyTargetPlan({
      db: deps.db,
      provider,
      target,
      revision,
      decide: async (seen) => {
        const now = seen ? fingerprintsOf(seen) : {}
        const planned = known ?? (await loadPlanned(deps.db, row.rolloutId, row.target))
        const { observed, desired } = planned
        const changed = [...new Set([...Object.keys(now), ...Object.keys(observed)])].filter(
          (address) => now[address] !== observed[address] && now[address] !== desired[address],
        )
        if (changed.length > 0)
          return {
            refused: `${CHANGED_SINCE_PLAN} (${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ` and ${changed.length - 3} more` : ''}); nothing unreviewed is applied — plan again and start a new rollout`,
          }
        return {
          desired: fleet.desired.get(target.id) ?? { target, stacks: [], manifests: [] },
          plan: targetPlanOf(target, row.stage, planned.changes),
          approvedDestruction: new Set(planned.approved),
          fingerprints: desired,
        }
      },
      onEvent: events.report,
      ...(deps.retry ? { retry: deps.retry } : {}),
      ...(deps.settleTimeoutMs !== undefined ? { settleTimeoutMs: deps.settleTimeoutMs } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
    })
    switch (result.outcome) {
      case 'refused':
        return result.reason
      case 'failed':
        return result.error.message
      case 'unsettled':
        return `${result.settle.state === 'in-progress' ? 'did not settle in time' : 'failed'}: ${result.settle.items
          .slice(0, 3)
          .map((i) => `${i.address} ${i.status} (${i.reason})`)
          .join('; ')}`
      default:
        return undefined
    }
  } finally {
    // The target's next transition comes after what the provider said happened on the way.
    await events.stored()
  }
}

/**
 * What a provider reports while it applies and settles (CloudFormation's stack events, snapshots
 * taken), stored as the rollout's `provider-event`s in the order they came. Storing is chained off
 * the provider's callback, and what came meanwhile is stored together (a provider reports in
 * bursts: one statement for a burst, not a transaction per event); `stored` waits for the chain.
 */
function providerEvents(deps: EngineDeps, row: RolloutTargetRow) {
  let chain = Promise.resolve()
  let waiting: { type: string; target: string; detail: Json }[] = []
  const flush = async () => {
    const batch = waiting
    waiting = []
    if (batch.length === 0) return
    await appendRolloutEvents(deps.db, row.rolloutId, batch)
    for (const event of batch) deps.onEvent?.(event)
  }
  return {
    report: (event: ProviderEvent) => {
      const detail = {
        stage: row.stage,
        address: event.address,
        status: event.status,
        message: event.message,
      }
      waiting.push({ type: 'provider-event', target: row.target, detail })
      // One flush per burst: the first event of a burst chains it, the rest join it.
      if (waiting.length === 1)
        chain = chain
          .then(flush)
          // An event that cannot be stored must not fail the change it describes.
          .catch(() => {})
    },
    stored: () => chain,
  }
}
