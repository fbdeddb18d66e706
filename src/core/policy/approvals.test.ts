import { describe, expect, test } from 'vitest'
import type { Finding } from '../model/plan.ts'
import { applyApprovals, parseApproval } from './approvals.ts'

const queues = ['111111111111', '222222222222', '333333333333'].flatMap((account) => [
  `${account}/global/data/Queue`,
  `${account}/global/data/Secret`,
])
const vpcs = ['111111111111/global/data/Vpc', '222222222222/global/data/Vpc']

/**
 * Six stateful resources replaced (a policy asks for each, and they are over a budget of 5) and
 * two protected VPCs that may be replaced.
 */
const findings: Finding[] = [
  {
    rule: 'stateful-replace',
    effect: 'require-approval',
    message: 'replacing a stateful resource needs an approval',
    addresses: queues,
  },
  {
    rule: 'protected-destroy',
    effect: 'require-approval',
    message: '2 protected resources would be deleted or replaced',
    addresses: vpcs,
  },
  {
    rule: 'delete-budget',
    effect: 'require-approval',
    message: '6 deletions in one plan (all replacements), more than limits.maxDeletes (5)',
    addresses: queues,
    pattern: { glob: '*/global/data/*', expectedCount: 6 },
  },
]

/** The same plan where the queues and secrets are protected too: eight protected destructions. */
const allProtected: Finding[] = findings.map((f) =>
  f.rule === 'stateful-replace'
    ? { ...f, rule: 'protected-destroy', message: '6 protected resources would be deleted or replaced' }
    : f,
)

const approve = (...written: string[]) => applyApprovals(findings, written.map(parseApproval))
const approveProtected = (...written: string[]) => applyApprovals(allProtected, written.map(parseApproval))

describe('applyApprovals', () => {
  test('the pattern the budget asked for approves its deletions, although it also matches other addresses', () => {
    const outcome = approve('*/global/data/* (expected 6)')
    expect(outcome.findings).toEqual([])
    // The VPCs were not among the six: they still need their own approvals.
    expect(outcome.unmet).toEqual(vpcs)
    expect(approve('*/global/data/* (expected 6)', ...vpcs)).toMatchObject({ findings: [], unmet: [] })
  })

  test('the same pattern counting everything it matches approves the ordinary addresses, not the budget', () => {
    // The budget needs a pattern approval of exactly its deletions: eight is not the six it asked
    // for; and the protected VPCs need their exact addresses.
    expect(approve('*/global/data/* (expected 8)')).toMatchObject({
      findings: [{ rule: 'approval-not-exact', effect: 'warn', addresses: vpcs }],
      unmet: ['*/global/data/* (expected 6)', ...vpcs],
    })
  })

  test.each([5, 7, 9, 1])(
    'a count that is neither the finding’s nor what it matches (%i) denies',
    (count) => {
      const outcome = approve(`*/global/data/* (expected ${count})`)
      expect(outcome.findings).toEqual([
        {
          rule: 'approval-mismatch',
          effect: 'deny',
          message: `approval "*/global/data/* (expected ${count})" matches 8 addresses of this plan, not ${count}: the plan is not what was approved — review it again and approve the right count`,
          addresses: [...queues, ...vpcs],
        },
      ])
      expect(outcome.unmet).toContain('*/global/data/* (expected 6)')
    },
  )

  test('a pattern that misses one of the finding’s addresses does not cover it, whatever its count', () => {
    const outcome = approve('*/global/data/Queue (expected 3)')
    expect(outcome.findings).toEqual([])
    expect(outcome.unmet).toEqual(
      ['*/global/data/* (expected 6)', ...queues.filter((a) => a.endsWith('Secret')), ...vpcs].sort(),
    )
  })

  test('a pattern finding that a policy made a deny is not approvable by its pattern', () => {
    const denied = findings.map((f) => (f.rule === 'delete-budget' ? { ...f, effect: 'deny' as const } : f))
    const outcome = applyApprovals(denied, [parseApproval('*/global/data/* (expected 6)')])
    expect(outcome.findings.map((f) => f.rule)).toEqual(['approval-mismatch'])
  })
})

describe('applyApprovals: a protected destruction needs its exact address', () => {
  test('the pattern the budget asked for satisfies the budget, not the protected destructions it matches', () => {
    const outcome = approveProtected('*/global/data/* (expected 6)')
    expect(outcome.unmet).toEqual([...queues, ...vpcs].sort())
    expect(outcome.findings).toEqual([
      {
        rule: 'approval-not-exact',
        effect: 'warn',
        message:
          'approval "*/global/data/* (expected 6)" matches 6 protected resources to be deleted or replaced, and a pattern never approves a protected destruction: approve each by its exact address',
        addresses: queues,
      },
    ])
    // Each by its exact address, and the budget by its pattern: allowed, and nothing to warn about.
    expect(approveProtected('*/global/data/* (expected 6)', ...queues, ...vpcs)).toEqual({
      findings: [],
      unmet: [],
      given: ['*/global/data/* (expected 6)', ...queues, ...vpcs],
    })
  })

  test.each([
    ['** (expected 8)'],
    ['*/global/data/* (expected 8)'],
    ['*/*/*/* (expected 8)'],
    ['111111111111/** (expected 3)'],
    ['*/global/data/Vpc (expected 2)'],
    ['111111111111/global/data/V?c (expected 0)'],
  ])('%s approves no protected destruction', (written) => {
    const outcome = approveProtected(written)
    for (const address of [...queues, ...vpcs]) expect(outcome.unmet).toContain(address)
  })

  test('exact addresses approve each protected destruction; one missing stays unmet', () => {
    const [first, ...rest] = [...queues, ...vpcs]
    const outcome = approveProtected('*/global/data/* (expected 6)', ...rest)
    expect(outcome.unmet).toEqual([first])
    expect(outcome.findings.map((f) => [f.rule, f.addresses])).toEqual([['approval-not-exact', [first]]])
  })

  test('a protected address that another finding also names still needs its exact address', () => {
    const policy: Finding = {
      rule: 'prod-changes',
      effect: 'require-approval',
      message: 'production changes need an approval',
      addresses: [vpcs[0]!, queues[0]!],
    }
    const withPolicy = [...findings, policy]
    const byPattern = applyApprovals(withPolicy, [parseApproval('111111111111/global/data/* (expected 3)')])
    expect(byPattern.unmet).toContain(vpcs[0])
    expect(byPattern.unmet).not.toContain(queues[0])
    expect(applyApprovals(withPolicy, [vpcs[0]!, queues[0]!].map(parseApproval)).unmet).not.toContain(vpcs[0])
  })
})
