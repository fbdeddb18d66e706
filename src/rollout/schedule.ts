/**
 * The schedule of a rollout: which targets change in which stage and wave, under which settings.
 * Pure, and fixed when the rollout starts (stored with it), so a resumed rollout follows exactly
 * the plan it started with even if `rollout.yaml` has changed since.
 */
import { durationMs } from '../core/model/common.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import type { Plan } from '../core/plan/plan-model.ts'

/** One stage as the engine runs it. */
export interface ScheduledStage {
  readonly name: string
  readonly maxParallel: number
  readonly failureTolerance: number
  readonly bakeMs: number
  readonly onFailure: 'rollback' | 'halt'
  readonly approval: boolean
  readonly gates: readonly string[]
  /** Target ids per wave, in order; every wave has at least one target. */
  readonly waves: readonly (readonly string[])[]
}

/** Every stage that has something to change, in `rollout.yaml` order. */
export interface Schedule {
  readonly stages: readonly ScheduledStage[]
}

/**
 * Splits `count` targets into cumulative waves: `1` is one target, `"10%"` a tenth of the stage
 * (at least one more than the previous wave); a list that stops short of everything gets a last
 * wave with the rest. Returns the end index of each wave.
 */
export function waveEnds(waves: readonly (number | string)[] | undefined, count: number): number[] {
  const ends: number[] = []
  let previous = 0
  for (const wave of waves ?? ['100%']) {
    const wanted = typeof wave === 'number' ? wave : Math.ceil((Number.parseInt(wave, 10) / 100) * count)
    const end = Math.min(count, Math.max(previous + 1, wanted))
    if (end > previous) ends.push(end)
    previous = end
    if (end >= count) break
  }
  if (previous < count) ends.push(count)
  return ends
}

/** The schedule of a plan: the changed targets of each stage, split into waves. */
export function scheduleRollout(fleet: Fleet, plan: Plan): Schedule {
  const { defaults } = fleet.rollout
  const changed = new Set(plan.targets.map((t) => t.id))
  const stages: ScheduledStage[] = []
  for (const stage of fleet.rollout.stages) {
    // Accounts before clusters (the inventory's order): a cluster's DNS records need its account's zones.
    const targets = fleet.targets
      .filter((t) => changed.has(t.id) && fleet.stageOf.get(t.id) === stage.name)
      .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'account' ? -1 : 1))
    if (targets.length === 0) continue
    const ids = targets.map((t) => t.id)
    let start = 0
    const waves = waveEnds(stage.waves, ids.length).map((end) => {
      const wave = ids.slice(start, end)
      start = end
      return wave
    })
    stages.push({
      name: stage.name,
      maxParallel: stage.maxParallel ?? defaults.maxParallel,
      failureTolerance: stage.failureTolerance ?? defaults.failureTolerance,
      bakeMs: durationMs(stage.bake ?? defaults.bake),
      onFailure: stage.onFailure ?? defaults.onFailure,
      approval: stage.approval === 'required',
      gates: stage.gates ?? [],
      waves,
    })
  }
  return { stages }
}
