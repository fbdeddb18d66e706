import { describe, expect, test } from 'vitest'
import { errorsFor, loadValid } from '../../../test/support/load-fleet-helpers.ts'

const POLICY = 'policies/freeze.yaml'

describe('policies', () => {
  test('load with their compiled conditions, in file order', () => {
    const { fleet } = loadValid({
      [POLICY]: [
        '- name: freeze',
        "  when: target.environment == 'production' && now >= timestamp('2026-11-23T00:00:00Z')",
        '  effect: require-approval',
        '- name: big-plan',
        '  scope: plan',
        '  when: plan.summary.targetsChanged > 100',
        '  effect: warn',
        '',
      ].join('\n'),
    })
    expect(fleet.policies.map((p) => [p.name, p.scope, p.effect, p.at.line])).toEqual([
      ['freeze', 'change', 'require-approval', 1],
      ['big-plan', 'plan', 'warn', 4],
    ])
  })

  test('every built-in rule and plan-time validation rule is known by name: named in a policy, never a second rule', () => {
    for (const name of ['kubernetes-version', 'rotation-budget', 'stage-move']) {
      expect(errorsFor({ [POLICY]: `- name: ${name}\n  when: 'true'\n  effect: deny\n` }), name).toEqual([
        expect.stringContaining(`"${name}" is a built-in safety rule and always on`),
      ])
    }
    for (const name of ['moved-from', 'namespace-removal', 'definition-removal', 'cloudformation']) {
      expect(errorsFor({ [POLICY]: `- name: ${name}\n  effect: deny\n` }), name).toEqual([
        expect.stringContaining(`"${name}" is a validation rule of Flotilla's`),
      ])
    }
  })

  test('a duplicate rule name, across files too', () => {
    const rule = "- name: p\n  when: 'true'\n  effect: deny\n"
    expect(errorsFor({ 'policies/a.yaml': rule, 'policies/b.yaml': rule })).toEqual([
      'policies/b.yaml:1:9: duplicate policy name "p" (first at policies/a.yaml:1:3)',
    ])
  })

  test('an invalid effect', () => {
    expect(errorsFor({ [POLICY]: "- name: p\n  when: 'true'\n  effect: deni\n" })).toEqual([
      'policies/freeze.yaml:3:11: invalid value "deni" for "effect": expected one of deny, require-approval, warn; did you mean "deny"?',
    ])
  })

  test('a CEL syntax error in when', () => {
    expect(errorsFor({ [POLICY]: '- name: p\n  when: target.environment == 1 +\n  effect: deny\n' })).toEqual(
      ['policies/freeze.yaml:2:34: CEL syntax error: Unexpected token: EOF'],
    )
  })

  test('a change rule sees change, target, now and fleet; a plan rule sees plan, now and fleet', () => {
    expect(errorsFor({ [POLICY]: "- name: p\n  when: change.adress == 'x'\n  effect: deny\n" })).toEqual([
      'policies/freeze.yaml:2:16: CEL type error: No such key: adress; did you mean "address"?',
    ])
    expect(
      errorsFor({ [POLICY]: "- name: p\n  scope: plan\n  when: target.id == 'x'\n  effect: warn\n" }),
    ).toEqual([
      'policies/freeze.yaml:3:9: CEL type error: Unknown variable: target (available here: plan, now, fleet)',
    ])
  })

  test('a policy file may be empty', () => {
    expect(loadValid({ [POLICY]: '# no rules yet\n' }).fleet.policies).toEqual([])
  })
})
