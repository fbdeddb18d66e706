import type { DiagnosticSink } from '../diagnostics.ts'
import type { FleetSettings } from '../model/fleet.ts'
import type { LoadedAccount, LoadedRollout, Target } from '../model/fleet-model.ts'
import { accountVariable, configVariable, fleetVariable, targetVariable } from '../render/contexts.ts'
import { renderNode } from '../render/evaluate.ts'
import { RenderProblems } from '../render/problems.ts'

/**
 * Renders every gate's `{{ }}` fields (dns names, command, url, query) for every target of every
 * stage that uses the gate, now rather than in the middle of a rollout: a gate that cannot even
 * be built for a target (`config.dns_domain` on a cluster that has none) would otherwise only fail
 * once production is next.
 */
export function checkGateTemplates(
  rollout: LoadedRollout,
  stageOf: ReadonlyMap<string, string>,
  targets: readonly Target[],
  accounts: ReadonlyMap<string, LoadedAccount>,
  settings: FleetSettings,
  sink: DiagnosticSink,
): void {
  const problems = new RenderProblems()
  const fleet = fleetVariable(settings)
  const gatesOfStage = new Map(rollout.stages.map((s) => [s.name, s.gates ?? []]))
  for (const target of targets) {
    const stage = stageOf.get(target.id)
    const account = accounts.get(target.account)
    if (stage === undefined || account === undefined) continue
    const context = gateContext(target, account, fleet)
    for (const name of gatesOfStage.get(stage) ?? []) {
      const gate = rollout.gates[name]
      if (!gate) continue
      for (const template of Object.values(gate.templates)) {
        try {
          renderNode(template, context)
        } catch (error) {
          problems.add(error, target.id)
        }
      }
    }
  }
  problems.report(sink)
}

/** The variables of a gate's templates for one target: the target, its account, its config, the fleet. */
export function gateContext(target: Target, account: LoadedAccount, fleet: unknown): Record<string, unknown> {
  return {
    target: targetVariable(target),
    account: accountVariable(account),
    config: configVariable(target),
    fleet,
  }
}
