/**
 * The schedule of a rollout: which targets change in which stage and wave, under which settings.
 * Pure, and fixed when the rollout starts (stored with it), so a resumed rollout follows exactly
 * the plan it started with even if `rollout.yaml` has changed since.
 */
import { durationMs } from '../core/model/common.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import type { Plan } from '../core/model/plan.ts'
import { canonical } from '../core/policy/governance.ts'

/** One stage as the engine runs it. */
export interface ScheduledStage {
  readonly name: string
  readonly maxParallel: number
  readonly failureTolerance: number
  readonly bakeMs: number
  readonly onFailure: 'rollback' | 'halt'
  readonly approval: boolean
  readonly gates: readonly string[]
  /**
   * Gates that come from the trusted revision's `rollout.yaml` and not the rolled-out one (named
   * `<gate>@trusted`), with the commit whose definition (and scripts) they run. @default none
   */
  readonly gateSources?: Readonly<Record<string, string>>
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
export function scheduleRollout(fleet: Fleet, plan: Plan, trusted?: Fleet): Schedule {
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
    const own = requirementsOf(fleet, stage)
    const guarding = trusted ? trustedRequirements(trusted, ids, fleet) : []
    stages.push({ name: stage.name, ...strictest(own, guarding), waves })
  }
  return { stages }
}

/** What a stage requires of its targets. */
type Requirements = Omit<ScheduledStage, 'name' | 'waves'>

function requirementsOf(fleet: Fleet, stage: Fleet['rollout']['stages'][number]): Requirements {
  const { defaults } = fleet.rollout
  return {
    maxParallel: stage.maxParallel ?? defaults.maxParallel,
    failureTolerance: stage.failureTolerance ?? defaults.failureTolerance,
    bakeMs: durationMs(stage.bake ?? defaults.bake),
    onFailure: stage.onFailure ?? defaults.onFailure,
    approval: stage.approval === 'required',
    gates: stage.gates ?? [],
  }
}

/**
 * The requirements the trusted revision's `rollout.yaml` puts on these targets: those of every
 * trusted stage any of them is in there. A gate the rolled-out revision defines the same way keeps
 * its name; one it lacks or defines otherwise runs as the trusted revision defines it.
 */
function trustedRequirements(trusted: Fleet, ids: readonly string[], fleet: Fleet): Requirements[] {
  if (trusted.source.kind !== 'revision') return []
  const commit = trusted.source.commit
  const names = new Set(ids.map((id) => trusted.stageOf.get(id)).filter((n) => n !== undefined))
  return trusted.rollout.stages
    .filter((s) => names.has(s.name))
    .map((stage) => {
      const required = requirementsOf(trusted, stage)
      const gateSources: Record<string, string> = {}
      const gates = required.gates.map((gate) => {
        const mine = fleet.rollout.gates[gate]
        const theirs = trusted.rollout.gates[gate]
        if (mine && theirs && canonical(mine) === canonical(theirs)) return gate
        gateSources[`${gate}@trusted`] = commit
        return `${gate}@trusted`
      })
      return { ...required, gates, gateSources }
    })
}

/** The strictest of the stage's own requirements and the trusted ones: each requirement on its own. */
function strictest(own: Requirements, guarding: readonly Requirements[]): Requirements {
  if (guarding.length === 0) return own
  const all = [own, ...guarding]
  const gateSources = Object.assign({}, ...all.map((r) => r.gateSources ?? {})) as Record<string, string>
  return {
    maxParallel: Math.min(...all.map((r) => r.maxParallel)),
    failureTolerance: Math.min(...all.map((r) => r.failureTolerance)),
    bakeMs: Math.max(...all.map((r) => r.bakeMs)),
    // Putting back what a failing stage changed is the safer of the two.
    onFailure: all.some((r) => r.onFailure === 'rollback') ? 'rollback' : 'halt',
    approval: all.some((r) => r.approval),
    gates: [...new Set(all.flatMap((r) => r.gates))],
    ...(Object.keys(gateSources).length > 0 ? { gateSources } : {}),
  }
}
