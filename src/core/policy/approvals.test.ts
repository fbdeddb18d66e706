import { describe, expect, test } from 'vitest'
import type { Finding } from '../plan/plan-model.ts'
import { applyApprovals, parseApproval } from './approvals.ts'

const queues = ['111111111111', '222222222222', '333333333333'].flatMap((account) => [
  `${account}/global/data/Queue`,
  `${account}/global/data/Secret`,
])
const vpcs = ['111111111111/global/data/Vpc', '222222222222/global/data/Vpc']

/** Six stateful resources replaced (over a budget of 5) and two protected VPCs that may be replaced. */
const findings: Finding[] = [
  {
    rule: 'protected-destroy',
    effect: 'require-approval',
    message: '8 protected resources would be deleted or replaced',
    addresses: [...queues, ...vpcs],
  },
  {
    rule: 'delete-budget',
    effect: 'require-approval',
    message: '6 deletions in one plan (all replacements), more than limits.maxDeletes (5)',
    addresses: queues,
    pattern: { glob: '*/global/data/*', expectedCount: 6 },
  },
]

const approve = (...written: string[]) => applyApprovals(findings, written.map(parseApproval))

describe('applyApprovals', () => {
  test('the pattern the budget asked for approves its deletions, although it also matches other addresses', () => {
    const outcome = approve('*/global/data/* (expected 6)')
    expect(outcome.findings).toEqual([])
    // The VPCs were not among the six: they still need their own approvals.
    expect(outcome.unmet).toEqual(vpcs)
    expect(approve('*/global/data/* (expected 6)', ...vpcs)).toMatchObject({ findings: [], unmet: [] })
  })

  test('the same pattern counting everything it matches approves the addresses, not the budget', () => {
    // The budget needs a pattern approval of exactly its deletions: eight is not the six it asked for.
    expect(approve('*/global/data/* (expected 8)')).toMatchObject({
      findings: [],
      unmet: ['*/global/data/* (expected 6)'],
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
