import { formatDiagnostic } from '../diagnostics.ts'
import { celTimestamp, toCel } from '../expr/cel.ts'
import { strongest } from '../model/effects.ts'
import type { Fleet, LoadedPolicyRule } from '../model/fleet-model.ts'
import type { Finding } from '../model/plan.ts'
import { fleetVariable } from '../render/contexts.ts'
import { builtinRules } from './builtin/index.ts'
import { allChanges } from './plan-context.ts'
import type { PlanRule } from './rules.ts'
import { RuleRegistry } from './rules.ts'
import { targetViews } from './target-views.ts'

/** The address a plan-scope policy asks to approve: the plan as a whole, by the rule's name. */
export function planApprovalAddress(rule: string): string {
  return `plan/${rule}`
}

/** The rules of one revision that judges a plan, and how findings name it when it is not the head. */
export interface Judge {
  readonly rules: Pick<Fleet, 'policies' | 'policyOverrides' | 'settings'>
  /** `main 1a2b3c4d5e6f`: shown in the findings of its policies. Undefined for the head. */
  readonly label?: string
}

/**
 * The rules a plan is checked against: the built-in safety rules (made stricter where policy
 * files say so), then the policy files' per-change rules, then their plan rules (which see the
 * findings of all the others as `plan.findings`).
 */
export function policyRegistry(
  fleet: Pick<Fleet, 'policies' | 'policyOverrides' | 'settings'>,
): RuleRegistry {
  return judgedRegistry([{ rules: fleet }])
}

/**
 * The rules of several revisions at once — the trusted one and the change's head — strictest
 * wins: a built-in rule takes the strongest override of any of them, and every policy of every
 * judge is evaluated (one that both say the same way, once). A policy the change deletes or
 * weakens therefore still judges that change; the change's own stricter policies judge it too.
 */
export function judgedRegistry(judges: readonly Judge[]): RuleRegistry {
  const registry = new RuleRegistry()
  for (const rule of builtinRules().rules) {
    const effects = judges.flatMap((j) => j.rules.policyOverrides.filter((o) => o.name === rule.id))
    const effect = effects.reduce<Finding['effect'] | undefined>(
      (strong, o) => (strong ? strongest(strong, o.effect) : o.effect),
      undefined,
    )
    registry.register(effect ? stricter(rule, effect) : rule)
  }
  const seen = new Set<string>()
  const ids = new Map<string, number>()
  const added: { rule: LoadedPolicyRule; judge: Judge }[] = []
  // The head's own first: a rule every judge says the same way is the head's, named as written.
  for (const judge of [...judges].reverse()) {
    for (const rule of judge.rules.policies) {
      const key = `${rule.scope}\u0000${rule.name}\u0000${rule.when ?? ''}\u0000${rule.effect}`
      if (seen.has(key)) continue
      seen.add(key)
      added.push({ rule, judge })
    }
  }
  const uniqueId = (name: string) => {
    const n = (ids.get(name) ?? 0) + 1
    ids.set(name, n)
    return n === 1 ? name : `${name}#${n}`
  }
  for (const scope of ['change', 'plan'] as const) {
    for (const { rule, judge } of added.filter((a) => a.rule.scope === scope)) {
      const fleetVar = fleetVariable(judge.rules.settings)
      const make = scope === 'change' ? changeRule : planRule
      registry.register({ ...make(rule, fleetVar, judge.label), id: uniqueId(rule.name) })
    }
  }
  return registry
}

function stricter(rule: PlanRule, effect: Finding['effect']): PlanRule {
  return {
    ...rule,
    evaluate: (context) => rule.evaluate(context).map((f) => ({ ...f, effect: strongest(f.effect, effect) })),
  }
}

/** Where a policy is written, for messages: `policies/freeze.yaml:3:3`. */
function origin(rule: LoadedPolicyRule, label?: string): string {
  const at = formatDiagnostic({ ...rule.at, severity: 'error', rule: '', message: '' }).replace(/: $/, '')
  return label ? `${at} at ${label}` : at
}

/**
 * A per-change policy: its `when` is evaluated for every change, with `change`, `target`, `now`
 * and `fleet`. A rule that fails to evaluate denies (`policy-error`): a policy that cannot say
 * yes must not be taken as a yes.
 */
function changeRule(rule: LoadedPolicyRule, fleet: unknown, label?: string): PlanRule {
  return {
    id: rule.name,
    description: rule.description ?? rule.name,
    evaluate(context) {
      const fired: string[] = []
      const failed = new Map<string, string[]>()
      const now = celTimestamp(context.now)
      for (const { target, change } of allChanges(context)) {
        if (change.action === 'no-op') continue
        // Asked of every judge's view of the target: fires when any view fires (strictest wins).
        let fires = false
        for (const view of targetViews(context, target.id)) {
          const variables = {
            change: {
              address: change.address,
              action: change.action,
              type: change.type,
              protected: change.protected,
              target: target.id,
              stage: view.stage || (target.stage ?? ''),
              properties: change.properties,
            },
            target: view.target,
            now,
            fleet,
          }
          let result: unknown
          try {
            result = rule.condition.expression.evaluate(variables)
          } catch (error) {
            addTo(failed, (error as Error).message, change.address)
            fires = false
            break
          }
          if (result === true) fires = true
          else if (result !== false) {
            addTo(failed, `it gave ${typeof result}, not true or false`, change.address)
            fires = false
            break
          }
        }
        if (fires) fired.push(change.address)
      }
      const findings: Finding[] = [...failed].map(([message, addresses]) =>
        policyError(rule, label, message, addresses),
      )
      if (fired.length > 0) {
        findings.push({
          rule: rule.name,
          effect: rule.effect,
          message: `${rule.description ?? `policy "${rule.name}"`} (${fired.length} ${fired.length === 1 ? 'change' : 'changes'}; ${origin(rule, label)})`,
          addresses: fired,
        })
      }
      return findings
    },
  }
}

/** A plan policy: evaluated once, with `plan` (summary and the findings so far), `now` and `fleet`. */
function planRule(rule: LoadedPolicyRule, fleet: unknown, label?: string): PlanRule {
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
        return [policyError(rule, label, (error as Error).message, [planApprovalAddress(rule.name)])]
      }
      if (result !== true && result !== false) {
        return [
          policyError(rule, label, `it gave ${typeof result}, not true or false`, [
            planApprovalAddress(rule.name),
          ]),
        ]
      }
      if (!result) return []
      return [
        {
          rule: rule.name,
          effect: rule.effect,
          message: `${rule.description ?? `policy "${rule.name}"`} (${origin(rule, label)})`,
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

function policyError(
  rule: LoadedPolicyRule,
  label: string | undefined,
  message: string,
  addresses: string[],
): Finding {
  return {
    rule: 'policy-error',
    effect: 'deny',
    message: `policy "${rule.name}" (${origin(rule, label)}) could not be evaluated for ${addresses.length} ${addresses.length === 1 ? 'change' : 'changes'}: ${message}; a policy that cannot decide denies — fix its "when"`,
    addresses,
  }
}
