import type { Fleet } from '../model/fleet-model.ts'
import type { Finding, Verdict } from '../model/plan.ts'
import type { ExpectedFinding } from '../model/policy-test.ts'
import { verdictOf } from '../plan/plan-fleet.ts'
import { summarisePlan } from '../plan/summary.ts'
import { applyApprovals } from '../policy/approvals.ts'
import { type FleetState, type PlanContext, rolloutStages } from '../policy/plan-context.ts'
import { policyRegistry } from '../policy/policy-rules.ts'
import type { RuleRegistry } from '../policy/rules.ts'
import type { PolicyTestCase } from './policy-test-file.ts'

/** What one policy test gave, and whether that is what it expected. */
export interface PolicyTestResult {
  readonly test: PolicyTestCase
  readonly passed: boolean
  /** Every finding of the test's plan: the rules' (built-in and policy files'), then the approvals'. */
  readonly actual: readonly Finding[]
  readonly verdict: Verdict
  /** Expected findings that no actual finding matches. */
  readonly missing: readonly ExpectedFinding[]
  /** Actual findings that no expected finding matches. */
  readonly unexpected: readonly Finding[]
}

/**
 * Runs a policy test: builds the plan its changes describe, evaluates every rule the fleet's
 * plans are checked against (the built-in safety rules, made stricter where the policy files say
 * so, then the policy files' change and plan rules), applies the approvals, and compares.
 *
 * The plan has no rendered states behind it, only changes: the built-in rules that compare two
 * revisions' rendered stacks and selections (`stack-rename`, `selection-shrink`) find nothing
 * here; `protected-destroy` and `delete-budget`, which look at the changes, apply as in a plan.
 */
export function runPolicyTest(
  test: PolicyTestCase,
  fleet: Fleet,
  rules: RuleRegistry = policyRegistry(fleet),
): PolicyTestResult {
  const state: FleetState = {
    side: fleet.source,
    targets: new Map(fleet.targets.map((t) => [t.id, t])),
    desired: new Map(),
    stageOf: fleet.stageOf,
    stages: rolloutStages(fleet.rollout),
  }
  const context: Omit<PlanContext, 'findings'> = {
    base: state,
    head: state,
    limits: fleet.settings.limits,
    targets: test.targets,
    summary: summarisePlan(
      test.targets,
      fleet.targets.length,
      fleet.rollout.stages.map((s) => s.name),
    ),
    now: test.now,
  }
  const ruleFindings = rules.evaluate(context)
  const approvals = applyApprovals(ruleFindings, test.approvals)
  const actual = [...ruleFindings, ...approvals.findings]
  const verdict = verdictOf(true, actual, approvals.unmet)
  const { missing, unexpected } = matchFindings(test.expected, actual)
  return {
    test,
    passed:
      missing.length === 0 &&
      unexpected.length === 0 &&
      (test.verdict === undefined || test.verdict === verdict),
    actual,
    verdict,
    missing,
    unexpected,
  }
}

/** Whether an actual finding is one that an expected entry describes. */
export function findingMatches(expected: ExpectedFinding, actual: Finding): boolean {
  if (expected.rule !== actual.rule || expected.effect !== actual.effect) return false
  if (expected.count !== undefined && expected.count !== actual.addresses.length) return false
  if (expected.addresses !== undefined) {
    const want = new Set(expected.addresses)
    const have = new Set(actual.addresses)
    if (want.size !== have.size || [...want].some((a) => !have.has(a))) return false
  }
  return true
}

/**
 * Compares expected and actual findings as sets: each expected entry must match its own actual
 * finding, and every actual finding must be matched. Entries that say less (no addresses) can
 * match several findings, so the pairing is a maximum matching, not first come first served.
 */
export function matchFindings(
  expected: readonly ExpectedFinding[],
  actual: readonly Finding[],
): { missing: ExpectedFinding[]; unexpected: Finding[] } {
  const pairedWith: number[] = actual.map(() => -1)
  const assign = (e: number, visited: boolean[]): boolean => {
    for (let a = 0; a < actual.length; a++) {
      if (visited[a] || !findingMatches(expected[e]!, actual[a]!)) continue
      visited[a] = true
      if (pairedWith[a] === -1 || assign(pairedWith[a]!, visited)) {
        pairedWith[a] = e
        return true
      }
    }
    return false
  }
  const missing = expected.filter(
    (_, e) =>
      !assign(
        e,
        actual.map(() => false),
      ),
  )
  const unexpected = actual.filter((_, a) => pairedWith[a] === -1)
  return { missing, unexpected }
}
