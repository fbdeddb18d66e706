import { beforeAll, describe, expect, test } from 'vitest'
import type { Plan } from '../../../src/core/model/plan.ts'
import { FleetFuzzer, type MutantOutcome, problemsOf, type Vanished } from './fleet-fuzzer.ts'
import { KNOWN_BUGS, type KnownBug, knownBugOf } from './known-bugs.ts'
import { semanticSites } from './mutations.ts'

const DNS = 'stacks/route53-hostedzones.yaml'
let fuzzer: FleetFuzzer

beforeAll(() => {
  fuzzer = new FleetFuzzer({ accounts: 10, clusters: 2, seed: 1 })
})

function siteIn(op: Parameters<typeof semanticSites>[0], path: string): number {
  const index = semanticSites(op, fuzzer.files).findIndex((s) => s.path === path)
  expect(index, `${op} has a site in ${path}`).toBeGreaterThanOrEqual(0)
  return index
}

/** A plan with one change, for checking the properties on outcomes no loader makes today. */
function planWith(
  change: Partial<Plan['targets'][number]['changes'][number]>,
  verdict: Plan['verdict'],
): Plan {
  return {
    version: 1,
    base: { kind: 'directory', path: 'base' },
    head: { kind: 'directory', path: 'head' },
    verdict,
    summary: {
      targets: 1,
      targetsChanged: 1,
      actions: { create: 0, update: 0, replace: 0, delete: 1, move: 0, rotate: 0 },
      protectedDestroyed: 0,
      byEnvironment: {},
      byCriticality: {},
      byTeam: {},
      byStage: {},
      stageMoves: 0,
      opsTargetsChanged: 0,
    },
    findings: [],
    approvalsRequired: [],
    targets: [
      {
        id: '111111111111',
        kind: 'account',
        name: 'a',
        team: 't',
        environment: 'production',
        criticality: 'tier-1',
        group: 't',
        stage: null,
        changes: [
          {
            address: '111111111111/global/route53-hostedzones/HostedZone',
            action: 'delete',
            type: 'AWS::Route53::HostedZone',
            protected: true,
            properties: [],
            ...change,
          },
        ],
      },
    ],
  }
}

describe('FleetFuzzer', () => {
  test('an unchanged mutant is told apart, and costs no load', () => {
    const result = fuzzer.run([{ op: 'delete-file', path: 'no/such/file.yaml' }])
    expect(result.outcome.kind).toBe('unchanged')
    expect(result.problems).toEqual([])
  })

  test('deleting the DNS stack is planned, needs approvals, and breaks no property', () => {
    // The whole stack: removing the zone alone leaves the certificate's `!Ref HostedZone` dangling.
    const result = fuzzer.run([{ op: 'delete-file', path: DNS }])
    expect(result.outcome.kind).toBe('planned')
    if (result.outcome.kind !== 'planned') return
    // Denied, even: the example's policies never let the ops group's zones go.
    expect(['requires-approval', 'denied']).toContain(result.outcome.plan.verdict)
    expect(result.outcome.plan.findings.map((f) => f.rule)).toContain('protected-destroy')
    expect(result.outcome.vanished.length).toBeGreaterThan(0)
    const zones = result.outcome.vanished.filter((v) => v.address.endsWith('/HostedZone'))
    expect(zones.length).toBeGreaterThan(0)
    expect(result.outcome.vanished.every((v) => v.reason === 'gone')).toBe(true)
    expect(result.problems).toEqual([])
  })

  test('broken YAML is an invalid fleet with located errors', () => {
    const result = fuzzer.run([{ op: 'insert-char', path: 'fleet.yaml', at: 0, pick: 5 }])
    expect(result.outcome.kind).toBe('invalid')
    expect(result.problems).toEqual([])
  })

  test('a renamed stack is denied (stack-rename), not allowed', () => {
    const result = fuzzer.run([{ op: 'rename-stack', at: siteIn('rename-stack', DNS), pick: 0 }])
    expect(result.outcome.kind === 'planned' && result.outcome.plan.verdict).toBe('denied')
    expect(result.problems).toEqual([])
  })
})

describe('the oracle of vanished protected resources', () => {
  const conditioned = (pick: number) => {
    const result = fuzzer.run([{ op: 'add-condition', at: siteIn('add-condition', DNS), pick }])
    if (result.outcome.kind !== 'planned') expect.fail(`not planned: ${JSON.stringify(result.outcome)}`)
    expect(result.outcome.vanished.every((v) => v.reason === 'condition-false')).toBe(true)
    return result.outcome.vanished.map((v) => v.address)
  }
  const zones = () =>
    [...fuzzer.base.desired.values()]
      .flatMap((d) => d.stacks)
      .filter((s) => s.stackName === 'route53-hostedzones')
      .map((s) => `${s.address}/HostedZone`)
      .sort()

  test('a condition false for every target takes every zone away', () => {
    expect(conditioned(0)).toEqual(zones())
  })

  test('a condition true for every target takes none', () => {
    expect(conditioned(1)).toEqual([])
  })

  test('a condition on a template value takes the zones of the targets it is false for', () => {
    const production = new Set(
      fuzzer.base.targets.filter((t) => t.environment === 'production').map((t) => t.id),
    )
    const expected = zones().filter((a) => !production.has(a.slice(0, a.indexOf('/'))))
    expect(expected.length).toBeGreaterThan(0)
    expect(expected.length).toBeLessThan(zones().length)
    expect(conditioned(2)).toEqual(expected)
  })

  test('a condition it cannot decide is left to the plan', () => {
    // `Either` refers to a condition that is not defined (which validation may reject outright).
    const result = fuzzer.run([{ op: 'add-condition', at: siteIn('add-condition', DNS), pick: 5 }])
    if (result.outcome.kind === 'planned') expect(result.outcome.vanished).toEqual([])
    else expect(result.outcome.kind).toBe('invalid')
  })
})

describe('the properties', () => {
  const files = new Map([['fleet.yaml', 'a: 1\nb: 2\n']])

  test('an allowed plan that destroys a protected resource breaks property (b), also for mayReplace', () => {
    const deleting: MutantOutcome = { kind: 'planned', plan: planWith({}, 'allowed'), vanished: [] }
    expect(problemsOf(deleting, files, files).join()).toMatch(/verdict allowed for a plan that destroys/)
    const mayReplace: MutantOutcome = {
      kind: 'planned',
      plan: planWith({ action: 'update', mayReplace: true }, 'allowed'),
      vanished: [],
    }
    expect(problemsOf(mayReplace, files, files)).toHaveLength(1)
    const reviewed: MutantOutcome = { kind: 'planned', plan: planWith({}, 'requires-approval'), vanished: [] }
    expect(problemsOf(reviewed, files, files)).toEqual([])
  })

  test('a protected resource gone from the head that the plan does not show breaks property (b)', () => {
    const gone = '111111111111/global/route53-hostedzones/HostedZone'
    const hidden: MutantOutcome = {
      kind: 'planned',
      plan: planWith({ action: 'update', address: `${gone}-other` }, 'requires-approval'),
      vanished: [{ address: gone, reason: 'gone' }],
    }
    expect(problemsOf(hidden, files, files).join()).toMatch(/gone from the head, not deleted/)
    const moved: MutantOutcome = {
      kind: 'planned',
      plan: planWith({ action: 'move', address: `${gone}2`, movedFrom: gone }, 'requires-approval'),
      vanished: [{ address: gone, reason: 'gone' }],
    }
    expect(problemsOf(moved, files, files)).toEqual([])
  })

  test('errors without a file, a line or a column, or past the end of their file, break property (a)', () => {
    const at = (file: string, line: number, col: number): MutantOutcome => ({
      kind: 'invalid',
      errors: [{ file, line, col, severity: 'error', rule: 'r', message: 'm' }],
    })
    expect(problemsOf(at('fleet.yaml', 2, 1), files, files)).toEqual([])
    expect(problemsOf(at('', 1, 1), files, files).join()).toMatch(/without a file/)
    expect(problemsOf(at('fleet.yaml', 0, 1), files, files).join()).toMatch(/without a line/)
    expect(problemsOf(at('fleet.yaml', 1, Number.NaN), files, files).join()).toMatch(/without a column/)
    expect(problemsOf(at('fleet.yaml', 40, 1), files, files).join()).toMatch(/past the end/)
    expect(problemsOf({ kind: 'invalid', errors: [] }, files, files).join()).toMatch(/without a single error/)
  })

  test('any exception but the project errors breaks property (a); known bugs are recognised by their exact error', () => {
    const crash: MutantOutcome = { kind: 'internal-error', error: new TypeError('x is undefined') }
    expect(problemsOf(crash, files, files).join()).toMatch(/internal error: TypeError/)
    expect(knownBugOf(crash, [], KNOWN_BUGS)).toBeUndefined()
    const bugs: KnownBug[] = [
      {
        description: 'a crash of the YAML reader',
        op: 'broken-flow',
        matches: (error) => error instanceof TypeError && /src\/core\/yaml\//.test(error.stack ?? ''),
      },
    ]
    const flow = new TypeError("Cannot read properties of null (reading 'anchor')")
    flow.stack = `${flow.message}\n    at ValueBuilder.build (/repo/src/core/yaml/parse.ts:170:43)`
    expect(knownBugOf({ kind: 'internal-error', error: flow }, [], bugs)?.op).toBe('broken-flow')
    expect(knownBugOf({ kind: 'internal-error', error: flow }, [], KNOWN_BUGS)).toBeUndefined()
    const elsewhere = new TypeError("Cannot read properties of null (reading 'anchor')")
    elsewhere.stack = `${elsewhere.message}\n    at render (/repo/src/core/render/evaluate.ts:1:1)`
    expect(knownBugOf({ kind: 'internal-error', error: elsewhere }, [], bugs)).toBeUndefined()
  })

  test('a property problem is a known bug only when every problem of the mutant is one', () => {
    const zone = '111111111111/global/route53-hostedzones/HostedZone'
    const outcome = (reasons: Vanished['reason'][]): MutantOutcome => ({
      kind: 'planned',
      plan: planWith({ action: 'update' }, 'allowed'),
      vanished: reasons.map((reason, i) => ({ address: `${zone}${i}`, reason })),
    })
    // As the Conditions bug of issue 18 was listed before Conditions were evaluated.
    const bugs: KnownBug[] = [
      {
        description: 'conditions',
        op: 'add-condition',
        problem: /under a CloudFormation Condition that is false/,
      },
    ]
    const conditioned = outcome(['condition-false'])
    const problems = problemsOf(conditioned, files, files)
    expect(problems).toHaveLength(2)
    expect(knownBugOf(conditioned, problems, bugs)?.op).toBe('add-condition')
    const mixed = outcome(['condition-false', 'retyped'])
    expect(knownBugOf(mixed, problemsOf(mixed, files, files), bugs)).toBeUndefined()
    expect(knownBugOf(conditioned, problems, [])).toBeUndefined()
  })
})
