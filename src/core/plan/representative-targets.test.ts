import { describe, expect, it } from 'vitest'
import type { Change, Plan, TargetPlan } from '../model/plan.ts'
import { representativeTargets } from './representative-targets.ts'

const STAGES = ['dev', 'alpha', 'ops', 'beta', 'stable']

function change(target: string, relative: string, action: Change['action'] = 'update'): Change {
  return {
    address: `${target}/${relative}`,
    action,
    type: 'AWS::Route53::HostedZone',
    protected: false,
    properties: [],
  }
}

function target(
  id: string,
  stage: string | null,
  changes: Change[],
  kind: 'account' | 'cluster' = 'account',
) {
  return { id, kind, stage, changes } as unknown as TargetPlan
}

function plan(...targets: TargetPlan[]): Plan {
  return { targets } as unknown as Plan
}

const context = (accounts: Record<string, string> = {}, stages: Record<string, string> = {}) => ({
  accountOf: (id: string) => accounts[id],
  stageOrder: STAGES,
  stageOf: (id: string) => stages[id] ?? null,
})

describe('representativeTargets', () => {
  it('takes one target per stage for a change every target receives, in stage order', () => {
    const zone = 'global/dns/HostedZone'
    const chosen = representativeTargets(
      plan(
        target('9', 'stable', [change('9', zone)]),
        target('8', 'stable', [change('8', zone)]),
        target('3', 'dev', [change('3', zone)]),
        target('5', 'beta', [change('5', zone)]),
        target('4', 'dev', [change('4', zone)]),
      ),
      context(),
    )
    expect(chosen.map((t) => [t.stage, t.id])).toEqual([
      ['dev', '3'],
      ['beta', '5'],
      ['stable', '8'],
    ])
    expect(chosen[0]!.changes).toEqual([`update ${zone}`])
  })

  it('covers every distinct change of a stage with as few targets as it can', () => {
    const chosen = representativeTargets(
      plan(
        target('1', 'dev', [change('1', 'r/a/X')]),
        target('2', 'dev', [change('2', 'r/a/X'), change('2', 'r/b/Y')]),
        target('3', 'dev', [change('3', 'r/c/Z', 'delete')]),
      ),
      context(),
    )
    expect(chosen.map((t) => t.id)).toEqual(['2', '3'])
    expect(chosen.find((t) => t.id === '3')!.changes).toEqual(['delete r/c/Z'])
  })

  it('tries a change only production receives in production', () => {
    const chosen = representativeTargets(
      plan(
        target('1', 'dev', [change('1', 'r/a/X')]),
        target('9', 'stable', [change('9', 'r/only/P', 'create')]),
      ),
      context(),
    )
    expect(chosen.map((t) => [t.stage, t.id, t.changes])).toEqual([
      ['dev', '1', ['update r/a/X']],
      ['stable', '9', ['create r/only/P']],
    ])
  })

  it('brings the account of a cluster, in the account’s own stage', () => {
    const chosen = representativeTargets(
      plan(target('aws:1:eu:kube-1', 'alpha', [change('aws:1:eu:kube-1', 'ns/Service/ingress')], 'cluster')),
      context({ 'aws:1:eu:kube-1': '1' }, { '1': 'alpha' }),
    )
    expect(chosen.map((t) => [t.id, t.kind, t.broughtBy ?? null])).toEqual([
      ['1', 'account', 'aws:1:eu:kube-1'],
      ['aws:1:eu:kube-1', 'cluster', null],
    ])
  })

  it('ignores no-ops and has nothing to take from a plan without changes', () => {
    expect(
      representativeTargets(plan(target('1', 'dev', [change('1', 'r/a/X', 'no-op')])), context()),
    ).toEqual([])
  })
})
