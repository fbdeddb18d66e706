import { describe, expect, test } from 'vitest'
import type { Finding, Plan } from '../model/plan.ts'
import { type OwnershipContext, ownershipOfAddress, ownershipOfApproval } from './approval-owners.ts'
import { parseApproval } from './approvals.ts'

const target = (id: string, team: string) => ({ id, team }) as never
const trusted = { targets: [target('111111111111', 'teapot'), target('222222222222', 'kettle')] }
/** The approved revision hands 111… to kettle and adds 333… for teapot. */
const head = {
  targets: [
    target('111111111111', 'kettle'),
    target('222222222222', 'kettle'),
    target('333333333333', 'teapot'),
  ],
}
const findings: Finding[] = [
  {
    rule: 'protected-destroy',
    effect: 'require-approval',
    message: '',
    addresses: ['222222222222/global/dns/Zone'],
  },
  { rule: 'big-plan', effect: 'require-approval', message: '', addresses: ['plan/big-plan'] },
]
const plan = {
  targets: [
    { id: '111111111111', changes: [{ address: '111111111111/global/app/Queue' }] },
    { id: '333333333333', changes: [{ address: '333333333333/global/app/Queue' }] },
  ],
  findings,
} as unknown as Pick<Plan, 'targets' | 'findings'>
const context: OwnershipContext = { fleets: [trusted, head], ruleOwners: ['sre'], plan }

describe('who owns what an approval approves', () => {
  test('an address belongs to the team of its target in the trusted revision and in the approved one', () => {
    expect(ownershipOfAddress('111111111111/global/app/Queue', context)).toEqual([
      { kind: 'targets', address: '111111111111/global/app/Queue', teams: ['kettle', 'teapot'] },
    ])
    expect(ownershipOfAddress('333333333333/global/app/Queue', context)).toEqual([
      { kind: 'targets', address: '333333333333/global/app/Queue', teams: ['teapot'] },
    ])
    expect(ownershipOfAddress('444444444444/x', context)).toEqual([
      { kind: 'unowned', address: '444444444444/x' },
    ])
  })

  test('a plan-scope address concerns every target the plan changes; a governance one the rule owners', () => {
    expect(ownershipOfAddress('plan/big-plan', context)).toEqual([
      { kind: 'targets', address: 'plan/big-plan', teams: ['kettle', 'teapot'] },
    ])
    expect(ownershipOfAddress('governance/policies/freeze.yaml', context)).toEqual([
      { kind: 'rules', address: 'governance/policies/freeze.yaml', teams: ['sre'] },
    ])
  })

  test('a pattern concerns every address of the plan it matches, findings’ addresses included', () => {
    const owners = ownershipOfApproval(parseApproval('** (expected 4)'), context)
    expect(owners.map((o) => o.address)).toEqual([
      '111111111111/global/app/Queue',
      '222222222222/global/dns/Zone',
      '333333333333/global/app/Queue',
      'plan/big-plan',
    ])
    expect(ownershipOfApproval(parseApproval('3*/** (expected 1)'), context)).toEqual([
      { kind: 'targets', address: '333333333333/global/app/Queue', teams: ['teapot'] },
    ])
  })

  test('judging a pattern or a plan-scope address without the plan is a bug, not a yes', () => {
    const { plan: _, ...withoutPlan } = context
    expect(() => ownershipOfApproval(parseApproval('** (expected 1)'), withoutPlan)).toThrow('needs the plan')
    expect(() => ownershipOfAddress('plan/big-plan', withoutPlan)).toThrow('needs the plan')
  })
})
