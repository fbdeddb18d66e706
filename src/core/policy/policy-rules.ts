import { formatDiagnostic } from '../diagnostics.ts'
import { celTimestamp, toCel } from '../expr/cel.ts'
import type { Fleet, LoadedPolicyRule } from '../model/fleet-model.ts'
import type { Finding } from '../plan/plan-model.ts'
import { fleetVariable, targetVariable } from '../render/contexts.ts'
import { builtinRules } from './builtin/index.ts'
import { strongest } from './effects.ts'
import { allChanges } from './plan-context.ts'
import type { PlanRule } from './rules.ts'
import { RuleRegistry } from './rules.ts'

/** The address a plan-scope policy asks to approve: the plan as a whole, by the rule's name. */
export function planApprovalAddress(rule: string): string {
  return `plan/${rule}`
}

/**
 * The rules a plan is checked against: the built-in safety rules (made stricter where policy
 * files say so), then the policy files' per-change rules, then their plan rules (which see the
 * findings of all the others as `plan.findings`).
 */
export function policyRegistry(
  fleet: Pick<Fleet, 'policies' | 'policyOverrides' | 'settings'>,
): RuleRegistry {
  const registry = new RuleRegistry()
  for (const rule of builtinRules().rules) {
    const override = fleet.policyOverrides.find((o) => o.name === rule.id)
    registry.register(override ? stricter(rule, override.effect) : rule)
  }
  const fleetVar = fleetVariable(fleet.settings)
  for (const rule of fleet.policies.filter((r) => r.scope === 'change'))
    registry.register(changeRule(rule, fleetVar))
  for (const rule of fleet.policies.filter((r) => r.scope === 'plan'))
    registry.register(planRule(rule, fleetVar))
  return registry
}

function stricter(rule: PlanRule, effect: Finding['effect']): PlanRule {
  return {
    ...rule,
    evaluate: (context) => rule.evaluate(context).map((f) => ({ ...f, effect: strongest(f.effect, effect) })),
  }
}

/** Where a policy is written, for messages: `policies/freeze.yaml:3:3`. */
function origin(rule: LoadedPolicyRule): string {
  return formatDiagnostic({ ...rule.at, severity: 'error', rule: '', message: '' }).replace(/: $/, '')
}

/**
 * A per-change policy: its `when` is evaluated for every change, with `change`, `target`, `now`
 * and `fleet`. A rule that fails to evaluate denies (`policy-error`): a policy that cannot say
 * yes must not be taken as a yes.
 */
function changeRule(rule: LoadedPolicyRule, fleet: unknown): PlanRule {
  return {
    id: rule.name,
    description: rule.description ?? rule.name,
    evaluate(context) {
      const fired: string[] = []
      const failed = new Map<string, string[]>()
      const now = celTimestamp(context.now)
      for (const { target, change } of allChanges(context)) {
        if (change.action === 'no-op') continue
        const inventory = context.head.targets.get(target.id) ?? context.base.targets.get(target.id)
        if (!inventory) continue
        const variables = {
          change: {
            address: change.address,
            action: change.action,
            type: change.type,
            protected: change.protected,
            target: target.id,
            stage: target.stage ?? '',
            properties: change.properties,
          },
          target: targetVariable(inventory),
          now,
          fleet,
        }
        let result: unknown
        try {
          result = rule.condition.expression.evaluate(variables)
        } catch (error) {
          addTo(failed, (error as Error).message, change.address)
          continue
        }
        if (result === true) fired.push(change.address)
        else if (result !== false)
          addTo(failed, `it gave ${typeof result}, not true or false`, change.address)
      }
      const findings: Finding[] = [...failed].map(([message, addresses]) =>
        policyError(rule, message, addresses),
      )
      if (fired.length > 0) {
        findings.push({
          rule: rule.name,
          effect: rule.effect,
          message: `${rule.description ?? `policy "${rule.name}"`} (${fired.length} ${fired.length === 1 ? 'change' : 'changes'}; ${origin(rule)})`,
          addresses: fired,
        })
      }
      return findings
    },
  }
}

/** A plan policy: evaluated once, with `plan` (summary and the findings so far), `now` and `fleet`. */
function planRule(rule: LoadedPolicyRule, fleet: unknown): PlanRule {
  return {
    id: rule.name,
    description: rule.description ?? rule.name,
    evaluate(context) {
      const plan = toCel({
        summary: context.summary,
        findings: context.findings.map((f) => ({
          rule: f.rule,
          effect: f.effect,
          message: f.message,
          count: f.addresses.length,
        })),
      }) as Record<string, unknown>
      let result: unknown
      try {
        result = rule.condition.expression.evaluate({ plan, now: celTimestamp(context.now), fleet })
      } catch (error) {
        return [policyError(rule, (error as Error).message, [planApprovalAddress(rule.name)])]
      }
      if (result !== true && result !== false) {
        return [
          policyError(rule, `it gave ${typeof result}, not true or false`, [planApprovalAddress(rule.name)]),
        ]
      }
      if (!result) return []
      return [
        {
          rule: rule.name,
          effect: rule.effect,
          message: `${rule.description ?? `policy "${rule.name}"`} (${origin(rule)})`,
          addresses: [planApprovalAddress(rule.name)],
        },
      ]
    },
  }
}

/** Groups addresses by failure message: one policy-error finding per distinct failure of a rule. */
function addTo(groups: Map<string, string[]>, message: string, address: string): void {
  const list = groups.get(message)
  if (list) list.push(address)
  else groups.set(message, [address])
}

function policyError(rule: LoadedPolicyRule, message: string, addresses: string[]): Finding {
  return {
    rule: 'policy-error',
    effect: 'deny',
    message: `policy "${rule.name}" (${origin(rule)}) could not be evaluated for ${addresses.length} ${addresses.length === 1 ? 'change' : 'changes'}: ${message}; a policy that cannot decide denies — fix its "when"`,
    addresses,
  }
}
