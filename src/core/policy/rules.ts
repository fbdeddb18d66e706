import type { Finding } from '../model/plan.ts'
import type { PlanContext } from './plan-context.ts'

/**
 * A rule of deployment policy evaluated over a whole plan. The built-in safety rules are rules
 * like any other, always on; policy files (`policies/*.yaml`) add more through the same port.
 */
export interface PlanRule {
  /** Stable id, shown in findings: `protected-destroy`, `stack-rename`, … */
  readonly id: string
  /** One line: what the rule protects against. */
  readonly description: string
  evaluate(context: PlanContext): Finding[]
}

/** An ordered set of rules that refuses a second rule with the same id. */
export class RuleRegistry {
  private readonly byId = new Map<string, PlanRule>()

  register(rule: PlanRule): this {
    if (this.byId.has(rule.id)) throw new Error(`a rule "${rule.id}" is already registered`)
    this.byId.set(rule.id, rule)
    return this
  }

  get rules(): readonly PlanRule[] {
    return [...this.byId.values()]
  }

  /** Every finding of every rule, in rule order; each rule sees the findings of those before it. */
  evaluate(context: Omit<PlanContext, 'findings'>): Finding[] {
    const findings: Finding[] = []
    for (const rule of this.rules) findings.push(...rule.evaluate({ ...context, findings }))
    return findings
  }
}
