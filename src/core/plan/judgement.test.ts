import { describe, expect, test } from 'vitest'
import { BASE_FILES } from '../../../test/support/fixture-fleet.ts'
import { edit, errorsFor, loadValid, type Overrides } from '../../../test/support/load-fleet-helpers.ts'
import { formatDiagnostic } from '../diagnostics.ts'
import type { Plan } from '../model/plan.ts'
import { parseApproval } from '../policy/approvals.ts'
import { planRevisions } from './plan-revisions.ts'

const NOW = new Date('2026-11-25T10:00:00Z') // in the freeze below

const FREEZE = `- name: cyber-week-freeze
  description: No production changes during Cyber Week
  when: target.environment == 'production' && now >= timestamp('2026-11-23T00:00:00Z') && now < timestamp('2026-12-01T00:00:00Z')
  effect: deny
`
const withFreeze: Overrides = { 'policies/freeze.yaml': FREEZE }

/** A production change: the ingress replicas of production clusters. */
const productionChange = edit(
  'cluster/config-defaults.yaml',
  'production: { replicas: 3 }',
  'production: { replicas: 4 }',
)

function plan(
  base: Overrides,
  head: Overrides,
  options: { trusted?: Overrides; approve?: string[] } = {},
): Plan {
  const outcome = planRevisions(loadValid(base).fleet, loadValid(head).fleet, {
    now: NOW,
    ...(options.trusted
      ? { trusted: { fleet: loadValid(options.trusted).fleet, label: 'main 0123456789ab' } }
      : {}),
    ...(options.approve ? { approvals: options.approve.map(parseApproval) } : {}),
  })
  if (!outcome.ok) expect.fail(outcome.errors.map(formatDiagnostic).join('\n'))
  return outcome.plan
}

const rules = (p: Plan) => p.findings.map((f) => f.rule)

describe('a change cannot switch off its own guard', () => {
  test('the freeze holds a production change: the baseline', () => {
    const held = plan(withFreeze, { ...withFreeze, ...productionChange })
    expect(held.verdict).toBe('denied')
    expect(rules(held)).toEqual(['cyber-week-freeze'])
  })

  test.each([
    ['deleting the policy file', { 'policies/freeze.yaml': null }],
    ['emptying it', { 'policies/freeze.yaml': '[]\n' }],
    ['turning deny into warn', { 'policies/freeze.yaml': FREEZE.replace('effect: deny', 'effect: warn') }],
    ['making its condition false', { 'policies/freeze.yaml': FREEZE.replace(/when: .*/, 'when: "false"') }],
    ['moving the freeze window', { 'policies/freeze.yaml': FREEZE.replaceAll('2026-1', '2025-1') }],
    [
      'renaming the policy',
      { 'policies/freeze.yaml': FREEZE.replace('cyber-week-freeze', 'cyber-week-freez') },
    ],
    [
      'exempting its own target by a field the change sets',
      {
        'policies/freeze.yaml': FREEZE.replace(
          "target.environment == 'production'",
          "target.environment == 'production' && target.criticality != 'tier-3'",
        ),
      },
    ],
  ])('%s: still denied by the base rules, and a governance change', (_, weakening) => {
    const result = plan(withFreeze, { ...withFreeze, ...productionChange, ...weakening })
    expect(result.verdict).toBe('denied')
    expect(rules(result)).toContain('cyber-week-freeze')
    expect(rules(result)).toContain('governance-change')
    const governance = result.findings.find((f) => f.rule === 'governance-change')!
    expect(governance.effect).toBe('require-approval')
    expect(governance.addresses.every((a) => a.startsWith('governance/policies/'))).toBe(true)
  })

  test('lowering the changed target to test does not take it out of the freeze', () => {
    const lowered = {
      'inventory/clusters.yaml': BASE_FILES['inventory/clusters.yaml']!.replace(
        'environment: production',
        'environment: test',
      ),
      'inventory/accounts.yaml': BASE_FILES['inventory/accounts.yaml']!.replace(
        'environment: production\n  criticality: tier-1\n  channel: stable\n  regions: [eu-central-1, eu-west-1]',
        'environment: test\n  criticality: tier-1\n  channel: stable\n  regions: [eu-central-1, eu-west-1]',
      ),
    }
    const change = edit('cluster/config-defaults.yaml', 'replicas: 2\n', 'replicas: 5\n')
    const result = plan(withFreeze, { ...withFreeze, ...lowered, ...change })
    expect(result.verdict).toBe('denied')
    expect(result.findings.find((f) => f.rule === 'cyber-week-freeze')?.addresses).toEqual(
      expect.arrayContaining([expect.stringMatching(/^aws:111111111111:eu-central-1:kube-1\//)]),
    )
  })

  test('lowering the criticality of the changed target does not take it out of a tier-1 rule', () => {
    const rule = "- name: hold\n  when: target.criticality == 'tier-1'\n  effect: deny\n"
    const lowered = {
      'inventory/clusters.yaml': BASE_FILES['inventory/clusters.yaml']!.replace(
        'criticality: tier-1',
        'criticality: tier-3',
      ),
    }
    const result = plan(
      { 'policies/hold.yaml': rule },
      { 'policies/hold.yaml': rule, ...lowered, ...productionChange },
    )
    expect(result.verdict).toBe('denied')
    expect(result.findings.find((f) => f.rule === 'hold')?.addresses).toEqual(
      expect.arrayContaining([expect.stringMatching(/^aws:111111111111:eu-central-1:kube-1\//)]),
    )
  })

  test('a look-alike letter that would make the head copy of a rule never fire does not load', () => {
    const lookAlike = FREEZE.replace("'production'", "'pr\u043eduction'")
    expect(errorsFor({ 'policies/freeze.yaml': lookAlike }).join('\n')).toContain('mixes Latin and Cyrillic')
  })

  test('a built-in rule made stricter by the base stays stricter when the change drops the override', () => {
    const strict = { 'policies/strict.yaml': '- name: protected-destroy\n  effect: deny\n' }
    const noZone = edit(
      'stacks/dns.yaml',
      "Select: account.environment != 'test'",
      "Select: account.environment == 'none'",
    )
    const result = plan(strict, { ...noZone })
    expect(result.findings.find((f) => f.rule === 'protected-destroy')?.effect).toBe('deny')
    expect(result.verdict).toBe('denied')
  })

  test('the trusted revision judges too, when the base is an older commit without its rules', () => {
    // The branch forked before the freeze was merged; main has it; the branch does not.
    const result = plan({}, productionChange, { trusted: withFreeze })
    expect(result.verdict).toBe('denied')
    expect(result.findings.find((f) => f.rule === 'cyber-week-freeze')?.message).toContain(
      'main 0123456789ab',
    )
    // Against main, the branch removes the freeze: that is a governance change too.
    expect(result.findings.find((f) => f.rule === 'governance-change')?.addresses).toEqual([
      'governance/policies/cyber-week-freeze',
    ])
    expect(result.judgedBy).toEqual(['main 0123456789ab (trusted)', 'base fixture', 'head fixture'])
  })

  test('a stricter policy the change adds judges it as well (its own rules count, strictest wins)', () => {
    const result = plan({}, { ...withFreeze, ...productionChange })
    expect(result.verdict).toBe('denied')
    expect(rules(result)).toEqual(expect.arrayContaining(['cyber-week-freeze', 'governance-change']))
  })

  test.each([
    [
      'a stage approval removed',
      'rollout.yaml',
      (t: string) => t,
      (t: string) =>
        t.replace(
          "select: target.channel == 'stable'",
          "select: target.channel == 'stable'\n    approval: none",
        ),
    ],
    [
      'a gate removed',
      'rollout.yaml',
      (t: string) => t,
      (t: string) =>
        t.replace('    waves: [1, 50%, 100%]\n    gates: [healthy]', '    waves: [1, 50%, 100%]'),
    ],
    [
      'maxDeletes raised',
      'fleet.yaml',
      (t: string) => t,
      (t: string) => t.replace('maxDeletes: 10', 'maxDeletes: 1000'),
    ],
    ['protect shortened', 'fleet.yaml', (t: string) => `${t}protect: [Deployment]\n`, (t: string) => t],
    [
      'the owners of the rules changed',
      'fleet.yaml',
      (t: string) => `${t}trust: { owners: [sre] }\n`,
      (t: string) => `${t}trust: { owners: [sre, teapot] }\n`,
    ],
    [
      'stage coverage turned off',
      'fleet.yaml',
      (t: string) => t.replace('coverage: { stages: off }', 'coverage: { stages: warn }'),
      (t: string) => t,
    ],
    [
      'the trusted branch changed',
      'fleet.yaml',
      (t: string) => t,
      (t: string) => `${t}trust: { branch: my-branch }\n`,
    ],
  ])('%s is a governance change', (_, file, from, to) => {
    const original = BASE_FILES[file]!
    const result = plan({ [file]: from(original) }, { [file]: to(original), ...productionChange })
    expect(result.verdict).toBe('requires-approval')
    const finding = result.findings.find((f) => f.rule === 'governance-change')
    expect(finding?.addresses.length).toBeGreaterThan(0)
    expect(result.approvalsRequired).toEqual(expect.arrayContaining([...finding!.addresses]))
    // Approved by its exact addresses, it is allowed.
    expect(
      plan(
        { [file]: from(original) },
        { [file]: to(original), ...productionChange },
        { approve: [...result.approvalsRequired] },
      ).verdict,
    ).toBe('allowed')
  })

  test("the owners named in the governance finding are the trusted revision's, not the ones the change writes", () => {
    const fleet = BASE_FILES['fleet.yaml']!
    const result = plan(
      { 'fleet.yaml': `${fleet}trust: { owners: [sre] }\n` },
      { 'fleet.yaml': `${fleet}trust: { owners: [teapot] }\n` },
    )
    expect(result.findings.find((f) => f.rule === 'governance-change')?.message).toContain('a member of sre')
  })

  test('the same rules written another way are no governance change', () => {
    const flow = `[{ name: cyber-week-freeze, description: No production changes during Cyber Week, when: "${FREEZE.split('when: ')[1]!.split('\n')[0]}", effect: deny }]\n`
    const rewritten = plan(withFreeze, { 'policies/freeze.yaml': `# reformatted\n${flow}` })
    expect(rules(rewritten)).not.toContain('governance-change')
    const anchors = `defaults: &d { maxParallel: 1 }\n${BASE_FILES['rollout.yaml']!.split('\n').slice(1).join('\n')}`
    expect(rules(plan({}, { 'rollout.yaml': anchors }))).not.toContain('governance-change')
  })

  test('moving a policy to another file is a governance change only in where it is written: none', () => {
    const moved = plan(withFreeze, { 'policies/freeze.yaml': null, 'policies/calendar.yaml': FREEZE })
    expect(rules(moved)).not.toContain('governance-change')
  })
})
