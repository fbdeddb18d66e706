/**
 * Which time-bound policies are in force now — a change freeze, a weekend rule — for the portal's
 * banner. A per-change policy whose `when` reads `now` is asked about an ordinary update of a
 * production target at `now`; the ones that fire are in force. (A policy that does not read
 * `now` says nothing about the time, so it is not a window.)
 */
import { celTimestamp } from '../expr/cel.ts'
import type { Fleet } from '../model/fleet-model.ts'
import { fleetVariable, targetVariable } from '../render/contexts.ts'

/** A policy in force, as the banner shows it. */
export interface PolicyInForce {
  readonly name: string
  readonly description: string
  readonly effect: string
}

/** The time-bound per-change policies that would fire for a production change at `now`. */
export function timePoliciesInForce(fleet: Fleet, now: Date): PolicyInForce[] {
  const production = fleet.targets.find((t) => t.environment === 'production')
  if (!production) return []
  const variables = {
    change: {
      address: `${production.id}/global/example`,
      action: 'update',
      type: 'AWS::CloudFormation::Stack',
      protected: false,
      target: production.id,
      stage: fleet.stageOf.get(production.id) ?? '',
      properties: [],
    },
    target: targetVariable(production),
    now: celTimestamp(now),
    fleet: fleetVariable(fleet.settings),
  }
  return fleet.policies
    .filter((rule) => rule.scope === 'change' && /\bnow\b/.test(rule.when ?? ''))
    .filter((rule) => {
      try {
        return rule.condition.expression.evaluate(variables) === true
      } catch {
        return false // the plan reports a policy that fails; the banner is only a hint
      }
    })
    .map((rule) => ({ name: rule.name, description: rule.description ?? rule.name, effect: rule.effect }))
}
