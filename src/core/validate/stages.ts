import type { DiagnosticSink } from '../diagnostics.ts'
import type { FleetSettings } from '../model/fleet.ts'
import type { LoadedRollout, Target } from '../model/fleet-model.ts'
import { fleetVariable, targetVariable } from '../render/contexts.ts'

/** The group that holds monitoring and ops tooling; it must roll out in a stage of its own. */
export const OPS_GROUP = 'ops'

/**
 * Assigns every target to the first stage that selects it, and reports what rollouts could not
 * do safely: a target no stage selects (it would never be updated, or worse, updated outside any
 * stage), a selector that fails, and a stage that mixes ops tooling with production targets
 * (`ops-segregation`: the tools needed to see and fix an outage must not go down with it).
 * Decommissioned targets receive nothing and need no stage.
 */
export function assignStages(
  rollout: LoadedRollout,
  targets: readonly Target[],
  settings: FleetSettings,
  sink: DiagnosticSink,
): Map<string, string> {
  const fleet = fleetVariable(settings)
  const stageOf = new Map<string, string>()
  const members = new Map<string, Target[]>(rollout.stages.map((s) => [s.name, []]))
  const failures = new Map<string, { message: string; targets: string[] }>()
  for (const target of targets) {
    if (target.lifecycle === 'decommissioned') continue
    const context = { target: targetVariable(target), fleet }
    let stage: string | undefined
    let failed = false
    for (const candidate of rollout.stages) {
      let selected: unknown
      try {
        selected = candidate.selector.expression.evaluate(context)
      } catch (error) {
        const entry = failures.get(candidate.name) ?? { message: (error as Error).message, targets: [] }
        entry.targets.push(target.id)
        failures.set(candidate.name, entry)
        failed = true
        selected = false
      }
      if (selected === true) {
        stage = candidate.name
        break
      }
    }
    if (stage === undefined) {
      // A target whose selector failed is reported with that failure, not as unstaged as well.
      if (!failed) {
        sink.error(
          target.at,
          'unstaged-target',
          `${target.kind} "${target.id}" (${target.name}) is selected by no rollout stage; add a stage in rollout.yaml whose select matches it`,
        )
      }
      continue
    }
    stageOf.set(target.id, stage)
    members.get(stage)!.push(target)
  }
  for (const stage of rollout.stages) {
    const failure = failures.get(stage.name)
    if (failure) {
      sink.error(
        stage.selector.at,
        'render',
        `${failure.message} (for ${failure.targets.length === 1 ? 'target' : `${failure.targets.length} targets:`} ${failure.targets.slice(0, 3).join(', ')}${failure.targets.length > 3 ? ', …' : ''})`,
      )
    }
    const inStage = members.get(stage.name)!
    const ops = inStage.filter((t) => t.group === OPS_GROUP)
    const production = inStage.filter((t) => t.group !== OPS_GROUP && t.environment === 'production')
    if (ops.length > 0 && production.length > 0) {
      sink.error(
        stage.selector.at,
        'ops-segregation',
        `stage "${stage.name}" selects ops targets (${sample(ops)}) together with production targets (${sample(production)}); give group == '${OPS_GROUP}' a stage of its own, so monitoring and ops tooling never change together with production`,
      )
    }
    // An empty stage is news only when there are targets to take: not in a new fleet, and not
    // when an error has already dropped part of the inventory.
    if (inStage.length === 0 && targets.length > 0 && !sink.hasErrors) {
      sink.warn(
        stage.selector.at,
        'empty-stage',
        `stage "${stage.name}" selects no targets (earlier stages may take them all)`,
      )
    }
  }
  return stageOf
}

function sample(targets: readonly Target[]): string {
  const ids = targets.slice(0, 3).map((t) => t.id)
  return `${targets.length}: ${ids.join(', ')}${targets.length > 3 ? ', …' : ''}`
}
