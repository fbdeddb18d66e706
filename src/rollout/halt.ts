/**
 * A rollout's halt: with `onFailure: halt` it waits for an operator; with `rollback`, every target
 * the stage changed is brought back to what it had before — through the one
 * {@link applyTargetPlan} — and the rollout ends `rolled-back` (or `halted` when one could not be).
 */
import type { Fleet } from '../core/model/fleet-model.ts'
import { diffManifests } from '../core/plan/diff-manifests.ts'
import { diffStacks } from '../core/plan/diff-stacks.ts'
import { targetPlanOf } from '../core/plan/plan-fleet.ts'
import { protectedTypes } from '../core/plan/protected.ts'
import { fingerprintsOf } from '../core/provider/fingerprint.ts'
import { applyTargetPlan } from '../operations/apply-target-plan.ts'
import { releaseLocks } from '../operations/target-locks.ts'
import { snapshotsToRestore } from '../store/snapshots.ts'
import { CHANGED_SINCE_PLAN, type EngineDeps, recordRollout, recordTarget } from './engine-deps.ts'
import type { RolloutRow } from './rollout-store.ts'
import type { ScheduledStage } from './schedule.ts'
import { loadTargetDetail, type RolloutTargetRow } from './target-rows-store.ts'

/**
 * Halts the rollout. With `onFailure: rollback`, every target the stage changed is brought back to
 * what it had before — a destroyed zone restored from its snapshot first — and the rollout ends
 * `rolled-back`; with `halt`, it stays `halted` for an operator.
 */
export async function halt(
  deps: EngineDeps,
  fleet: Fleet,
  rollout: RolloutRow,
  stage: ScheduledStage,
  targets: readonly RolloutTargetRow[],
  reason: string,
): Promise<void> {
  if (stage.onFailure !== 'rollback') {
    await recordRollout(
      deps,
      rollout.id,
      { state: 'halted', haltReason: reason },
      { type: 'halted', detail: { stage: stage.name, reason } },
    )
    return
  }
  // Recorded first: a process killed during the rollback finishes it when the rollout runs again,
  // instead of finding the failed targets rolled back and carrying on with the next wave.
  await recordRollout(
    deps,
    rollout.id,
    { haltReason: reason, phase: 'rollback' },
    { type: 'rolling-back', detail: { stage: stage.name, reason } },
  )
  await rollBack(deps, fleet, rollout, stage, targets, reason)
}

/**
 * Brings every target the stage changed back to what it had before the rollout, releases the
 * locks and ends the rollout `rolled-back` (or `halted` when a target could not be rolled back).
 * Targets already rolled back are left alone, so running it again continues it.
 */
export async function rollBack(
  deps: EngineDeps,
  fleet: Fleet,
  rollout: RolloutRow,
  stage: ScheduledStage,
  targets: readonly RolloutTargetRow[],
  reason: string,
): Promise<void> {
  const { db } = deps
  const byId = new Map(fleet.targets.map((t) => [t.id, t]))
  const isProtected = protectedTypes(fleet.settings.protect)
  const problems: string[] = []
  for (const row of targets) {
    if (row.state === 'pending' || row.state === 'rolled-back' || row.state === 'skipped') continue
    if (row.state === 'failed' && row.reason?.startsWith(CHANGED_SINCE_PLAN)) continue // nothing applied
    const target = byId.get(row.target)!
    const provider = deps.registry.forTarget(target)
    const { previous } = await loadTargetDetail(db, row.rolloutId, row.target)
    const revision = `rollback of ${rollout.id}`
    try {
      // Zones this rollout destroyed come back first, with every record, so the previous stacks adopt them.
      const snapshots = await snapshotsToRestore(db, target.id, rollout.createdAt)
      for (const snapshot of snapshots) await provider.restore(snapshot)
      const result = await applyTargetPlan({
        db,
        provider,
        target,
        revision,
        // What the target had is brought back as it is now: a stack still busy is retried like any.
        waitForBusy: false,
        recordIntended: false,
        decide: (seen) => {
          const changes =
            target.kind === 'account'
              ? diffStacks(seen?.stacks ?? [], previous.stacks, isProtected)
              : diffManifests(seen?.manifests ?? [], previous.manifests, isProtected)
          return {
            desired: { target, stacks: previous.stacks, manifests: previous.manifests },
            plan: targetPlanOf(target, row.stage, changes),
            // The rollback undoes what this rollout did: its destructions are covered by the halt.
            approvedDestruction: new Set(changes.map((c) => c.address)),
            fingerprints: fingerprintsOf(previous),
            unchanged: changes.length === 0,
          }
        },
        ...(deps.retry ? { retry: deps.retry } : {}),
        ...(deps.settleTimeoutMs !== undefined ? { settleTimeoutMs: deps.settleTimeoutMs } : {}),
        ...(deps.signal ? { signal: deps.signal } : {}),
      })
      if (result.outcome === 'failed') throw result.error
      if (result.outcome === 'unsettled')
        throw new Error(`did not settle: ${result.settle.items.map((i) => i.address).join(', ')}`)
      await recordTarget(
        deps,
        rollout.id,
        target.id,
        { state: 'rolled-back' },
        { type: 'target-rolled-back', detail: { stage: stage.name, restored: snapshots } },
      )
    } catch (error) {
      // Stopped: the rollback is left as it stands, for the next runner to continue.
      if (!(error instanceof Error) || deps.signal?.aborted) throw error
      problems.push(`${target.id}: ${error.message}`)
    }
  }
  await releaseLocks(db, rollout.id)
  if (problems.length > 0) {
    await recordRollout(
      deps,
      rollout.id,
      { state: 'halted', haltReason: `${reason}; rollback incomplete: ${problems.join('; ')}` },
      { type: 'halted', detail: { stage: stage.name, reason, rollbackProblems: problems } },
    )
    return
  }
  await recordRollout(
    deps,
    rollout.id,
    { state: 'rolled-back' },
    { type: 'rolled-back', detail: { stage: stage.name, reason } },
  )
}
