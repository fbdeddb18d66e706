/**
 * What a drill reports, and the pure judgements behind it: which safeguard a plan's findings
 * belong to, and which targets count as production.
 */
import type { Target } from '../core/model/fleet-model.ts'
import type { Finding, Plan } from '../core/model/plan.ts'
import { builtinRules } from '../core/policy/builtin/index.ts'
import type { ScenarioName } from './scenarios.ts'

/** The safeguard that stopped a dangerous change; `null` when nothing did. */
export type Safeguard = 'validation' | 'plan' | 'policy' | 'gate'

/** Services of one kind of target, and how many of them do not answer. */
export interface ServiceCount {
  readonly down: number
  readonly total: number
}

/** What safeguards-off automation did to the simulated fleet (`--unsafe`). */
export interface Outage {
  /** Targets it changed, and stacks or objects it deleted. */
  readonly targetsChanged: number
  readonly deleted: number
  readonly snapshots: number
  /** Customer-facing production services (not ops). */
  readonly production: ServiceCount
  /** Monitoring and ops tooling. */
  readonly ops: ServiceCount
  /** A few services that stopped answering, with why. */
  readonly examples: readonly string[]
}

/** How the fleet was brought back after an unsafe run. */
export interface Restore {
  /** `snapshots`: destroyed zones recreated from their snapshots, ops first; `revert`: the last good revision applied again. */
  readonly how: 'snapshots' | 'revert'
  readonly seconds: number
  /** When every ops service answered again, in seconds from the start of the restore. */
  readonly opsSeconds: number | null
  /** Every service that answered before answers again. */
  readonly recovered: boolean
  readonly stillDown: readonly string[]
}

/** One scenario's result. The first five fields are the contract of `flotilla drill --format json`. */
export interface ScenarioResult {
  readonly name: ScenarioName
  readonly stoppedBy: Safeguard | null
  /** The rollout stage it was stopped in (`gate`), else null. */
  readonly stage: string | null
  readonly reachedProduction: boolean
  readonly detail: string
  /** The mistake, and what the drill changed in the scratch copy. */
  readonly mistake: string
  readonly change: string | null
  /** Set when the repository has nothing this scenario breaks: it did not run. */
  readonly skipped?: string
  /** Production targets whose observed state the change reached. */
  readonly productionTargets: readonly string[]
  readonly seconds: number
  readonly outage?: Outage
  readonly restore?: Restore
}

/** A whole drill. */
export interface DrillReport {
  /** The commit drilled (the scratch copy adds one commit that takes the bakes out). */
  readonly revision: string
  readonly unsafe: boolean
  /** What policies saw as now. */
  readonly policyTime: string
  readonly targets: { readonly accounts: number; readonly clusters: number }
  readonly scenarios: readonly ScenarioResult[]
}

const BUILTIN = new Set(builtinRules().rules.map((rule) => rule.id))

/**
 * Which safeguard a plan that is not allowed was stopped by: `plan` when a built-in safety rule
 * (`stack-rename`, `selection-shrink`, `protected-destroy`, …) denies it or holds it for approval,
 * `policy` when only the repository's policies do. With the findings that stop it, for the report.
 */
export function stoppingSafeguard(plan: Plan): {
  safeguard: 'plan' | 'policy'
  findings: readonly Finding[]
} {
  const unmet = new Set(plan.approvals?.unmet ?? plan.approvalsRequired)
  const stopping = plan.findings.filter((finding) =>
    plan.verdict === 'denied'
      ? finding.effect === 'deny'
      : finding.effect === 'require-approval' &&
        (finding.addresses.some((a) => unmet.has(a)) ||
          (finding.pattern !== undefined && [...unmet].some((u) => u.startsWith(finding.pattern!.glob)))),
  )
  const findings = stopping.length > 0 ? stopping : plan.findings.filter((f) => f.effect !== 'warn')
  const safeguard = findings.some((finding) => BUILTIN.has(finding.rule)) ? 'plan' : 'policy'
  // The built-in rules first: they are what the report names.
  const ordered = [...findings].sort((a, b) => Number(BUILTIN.has(b.rule)) - Number(BUILTIN.has(a.rule)))
  return { safeguard, findings: ordered }
}

/** Production, as a drill counts it: what customers use, and the ops tooling that watches it. */
export function isProduction(target: Target): boolean {
  return target.environment === 'production'
}

/** One line of a finding for a report: the rule and the start of its message. */
export function findingLine(finding: Finding, max = 400): string {
  const text = `${finding.rule}: ${finding.message}`
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
