import { describe, expect, test } from 'vitest'
import type { Change, ChangeAction, TargetPlan } from '../../model/plan.ts'
import { STACK_TYPE } from '../../model/plan.ts'
import { summarisePlan } from '../../plan/summary.ts'
import { matchesGlob } from '../approvals.ts'
import type { FleetState, PlanContext } from '../plan-context.ts'
import { commonPattern, deleteBudget } from './delete-budget.ts'

const emptySide: FleetState = {
  side: { kind: 'observed' },
  targets: new Map(),
  desired: new Map(),
  stageOf: new Map(),
  stages: [],
}

/** A context holding only the given accounts' changes (all the rule looks at), with a budget of `maxDeletes`. */
function contextOf(targets: TargetPlan[], maxDeletes: number): PlanContext {
  return {
    base: emptySide,
    head: emptySide,
    limits: { maxDeletes, maxShrinkPercent: 10 },
    targets,
    summary: summarisePlan(targets, targets.length, []),
    findings: [],
    now: new Date('2026-06-02T12:00:00Z'),
  }
}

function accountPlan(id: string, changes: Change[]): TargetPlan {
  return {
    id,
    kind: 'account',
    name: id,
    team: 'teapot',
    environment: 'production',
    criticality: 'tier-1',
    group: 'core',
    stage: null,
    changes,
  }
}

function change(
  action: ChangeAction,
  address: string,
  type = 'AWS::SNS::Topic',
  extra: Partial<Change> = {},
): Change {
  return { address, action, type, protected: false, properties: [], ...extra }
}

/** `n` changes of one action in account `id`, addresses `id/global/app/<Name><i>`. */
function many(id: string, action: ChangeAction, n: number, name = 'Topic'): Change[] {
  return Array.from({ length: n }, (_, i) => change(action, `${id}/global/app/${name}${i}`))
}

const evaluate = (targets: TargetPlan[], maxDeletes = 10) =>
  deleteBudget.evaluate(contextOf(targets, maxDeletes))

describe('delete-budget', () => {
  test('at the limit nothing fires; one more deletion asks for a pattern with the exact count', () => {
    expect(evaluate([accountPlan('111111111111', many('111111111111', 'delete', 10))])).toEqual([])
    const [finding, ...rest] = evaluate([accountPlan('111111111111', many('111111111111', 'delete', 11))])
    expect(rest).toEqual([])
    expect(finding).toEqual({
      rule: 'delete-budget',
      effect: 'require-approval',
      message:
        '11 deletions in one plan, more than limits.maxDeletes (10); approve them with the pattern "111111111111/global/app/*" and the exact count 11, or split the change',
      addresses: many('111111111111', 'delete', 11).map((c) => c.address),
      pattern: { glob: '111111111111/global/app/*', expectedCount: 11 },
    })
  })

  test('a replacement deletes: replacing N resources spends N of the budget', () => {
    expect(evaluate([accountPlan('111111111111', many('111111111111', 'replace', 10))])).toEqual([])
    const [finding] = evaluate([accountPlan('111111111111', many('111111111111', 'replace', 11))])
    expect(finding?.message).toBe(
      '11 deletions in one plan (all replacements), more than limits.maxDeletes (10); approve them with the pattern "111111111111/global/app/*" and the exact count 11, or split the change',
    )
    expect(finding?.pattern).toEqual({ glob: '111111111111/global/app/*', expectedCount: 11 })
    expect(finding?.addresses).toHaveLength(11)
  })

  test('deletions and replacements add up, across targets; the message says how many replace', () => {
    const targets = [
      accountPlan('111111111111', many('111111111111', 'delete', 4)),
      accountPlan('222222222222', many('222222222222', 'replace', 3)),
      accountPlan('333333333333', [
        ...many('333333333333', 'replace', 2),
        ...many('333333333333', 'delete', 2),
      ]),
    ]
    expect(evaluate(targets, 11)).toEqual([])
    const [finding] = evaluate(targets, 10)
    expect(finding?.message).toBe(
      '11 deletions in one plan (5 of them replacements), more than limits.maxDeletes (10); approve them with the pattern "*/global/app/*" and the exact count 11, or split the change',
    )
    expect(finding?.addresses).toEqual(targets.flatMap((t) => t.changes.map((c) => c.address)))
  })

  test.each([
    ['creates', 'create'],
    ['in-place updates', 'update'],
    ['moves', 'move'],
    ['node rotations', 'rotate'],
    ['no-ops', 'no-op'],
  ] as const)('%s are not deletions', (_, action) => {
    expect(evaluate([accountPlan('111111111111', many('111111111111', action, 30))])).toEqual([])
  })

  test('an update that only may replace is not counted; neither are the stack entries', () => {
    const mayReplace = Array.from({ length: 20 }, (_, i) =>
      change('update', `111111111111/global/app/Custom${i}`, 'Custom::Thing', { mayReplace: true }),
    )
    const stacks = Array.from({ length: 20 }, (_, i) =>
      change('delete', `111111111111/global/app${i}`, STACK_TYPE),
    )
    const replaced = many('111111111111', 'replace', 10)
    expect(evaluate([accountPlan('111111111111', [...mayReplace, ...stacks, ...replaced])])).toEqual([])
    expect(
      evaluate([accountPlan('111111111111', [...stacks, ...replaced, ...many('1', 'delete', 1)])]),
    ).toHaveLength(1)
  })

  test('Kubernetes objects replaced for an immutable field count like resources', () => {
    const objects = Array.from({ length: 11 }, (_, i) =>
      change('replace', `kube-1/apps/Deployment/web-${i}`, 'apps/v1/Deployment'),
    )
    const [finding] = evaluate([accountPlan('kube-1', objects)])
    expect(finding?.pattern).toEqual({ glob: 'kube-1/apps/Deployment/*', expectedCount: 11 })
  })
})

describe('commonPattern', () => {
  test('keeps the segments every address shares and stars the rest', () => {
    expect(
      commonPattern([
        '111111111111/global/dns/HostedZone',
        '222222222222/global/dns/HostedZone',
        '333333333333/global/dns/Certificate',
      ]),
    ).toBe('*/global/dns/*')
    expect(commonPattern(['a/b/c'])).toBe('a/b/c')
  })

  test.each([
    [['a/b/c', 'a/b/c/d'], 'a/b/**'],
    [['x/y', 'x/z/w/v'], 'x/**'],
    [['a', 'a/b'], '**'],
  ])(
    'addresses of different depths %j share their leading segments and end in ** (%s)',
    (addresses, glob) => {
      expect(commonPattern(addresses)).toBe(glob)
    },
  )

  test('the pattern matches every address it was made from', () => {
    const sets = [
      ['111111111111/global/dns/HostedZone', '222222222222/eu-west-1/vpc/Vpc', 'kube-1/_/Namespace/apps'],
      ['a/b/c', 'a/b/c/d', 'a/b'],
      ['only/one/address/here'],
    ]
    for (const addresses of sets) {
      const glob = commonPattern(addresses)
      for (const address of addresses) expect(matchesGlob(glob, address), `${glob} ~ ${address}`).toBe(true)
    }
  })
})
