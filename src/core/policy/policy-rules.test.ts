import { describe, expect, test } from 'vitest'
import { BASE_FILES, fixtureSource } from '../../../test/support/fixture-fleet.ts'
import { edit, errorsFor } from '../../../test/support/load-fleet-helpers.ts'
import { formatDiagnostic } from '../diagnostics.ts'
import { loadFleet } from '../load/load-fleet.ts'
import type { Fleet } from '../model/fleet-model.ts'
import type { Plan } from '../model/plan.ts'
import { fleetState, planFleet } from '../plan/plan-fleet.ts'
import { type Approval, parseApproval } from './approvals.ts'
import { parseApprovalsFile } from './approvals-file.ts'
import { policyRegistry } from './policy-rules.ts'

type Overrides = Readonly<Record<string, string | null>>

function fleet(overrides: Overrides = {}): Fleet {
  const result = loadFleet(fixtureSource(overrides))
  if (!result.ok) expect.fail(result.errors.map(formatDiagnostic).join('\n'))
  return result.fleet
}

/** Plans base → head with the head's policies, at `now`, with approvals. */
function plan(head: Overrides, options: { base?: Overrides; now?: string; approve?: string[] } = {}): Plan {
  const h = fleet(head)
  const outcome = planFleet({
    base: fleetState(fleet(options.base ?? {})),
    head: fleetState(h),
    limits: h.settings.limits,
    protect: h.settings.protect,
    rules: policyRegistry(h),
    now: new Date(options.now ?? '2026-11-10T10:00:00Z'),
    approvals: (options.approve ?? []).map(parseApproval),
  })
  if (!outcome.ok) expect.fail(outcome.errors.map(formatDiagnostic).join('\n'))
  return outcome.plan
}

const TAG_CHANGE = edit(
  'stacks/dns.yaml',
  'ValidationMethod: DNS',
  'ValidationMethod: DNS\n      Tags: [{ Key: a, Value: b }]',
)
const DECOMMISSION = edit(
  'inventory/accounts.yaml',
  '- id: "111111111111"\n',
  '- id: "111111111111"\n  lifecycle: decommission-requested\n',
)
const policies = (text: string) => ({ 'policies/rules.yaml': text })

describe('policy effects', () => {
  test.each([
    ['deny', 'denied'],
    ['require-approval', 'requires-approval'],
    ['warn', 'allowed'],
  ] as const)('a per-change rule with effect %s gives the verdict %s', (effect, verdict) => {
    const p = plan({
      ...TAG_CHANGE,
      ...policies(
        `- name: prod-certificates\n  description: Production certificates\n  when: target.environment == 'production' && change.type == 'AWS::CertificateManager::Certificate'\n  effect: ${effect}\n`,
      ),
    })
    expect(p.verdict).toBe(verdict)
    expect(p.findings).toEqual([
      {
        rule: 'prod-certificates',
        effect,
        message: 'Production certificates (2 changes; policies/rules.yaml:1:3)',
        addresses: [
          '111111111111/global/route53-hostedzones/Certificate',
          '333333333333/global/route53-hostedzones/Certificate',
        ],
      },
    ])
    if (effect === 'require-approval') {
      expect(p.approvalsRequired).toEqual([
        '111111111111/global/route53-hostedzones/Certificate',
        '333333333333/global/route53-hostedzones/Certificate',
      ])
    }
  })

  test('a plan rule sees the summary and the findings of the rules before it', () => {
    const p = plan({
      ...DECOMMISSION,
      ...policies(
        "- name: destructive-plan\n  scope: plan\n  when: plan.summary.actions.delete > 1 && plan.findings.exists(f, f.rule == 'protected-destroy')\n  effect: require-approval\n",
      ),
    })
    const finding = p.findings.find((f) => f.rule === 'destructive-plan')!
    expect(finding).toMatchObject({ effect: 'require-approval', addresses: ['plan/destructive-plan'] })
    expect(p.approvalsRequired).toContain('plan/destructive-plan')
  })
})

describe('freeze windows with now', () => {
  const FREEZE = policies(
    "- name: cyber-week-freeze\n  when: target.environment == 'production' && now >= timestamp('2026-11-23T00:00:00Z') && now < timestamp('2026-12-01T00:00:00Z')\n  effect: require-approval\n",
  )
  test('a production change inside the window needs an approval; outside it does not', () => {
    expect(plan({ ...TAG_CHANGE, ...FREEZE }, { now: '2026-11-25T09:00:00Z' }).verdict).toBe(
      'requires-approval',
    )
    expect(plan({ ...TAG_CHANGE, ...FREEZE }, { now: '2026-12-01T00:00:00Z' }).verdict).toBe('allowed')
  })
})

describe('fail closed', () => {
  test('a rule that fails to evaluate denies, naming the rule, its file and line', () => {
    const p = plan({
      ...TAG_CHANGE,
      ...policies("- name: first-property\n  when: change.properties[3].path == 'x'\n  effect: warn\n"),
    })
    expect(p.verdict).toBe('denied')
    const error = p.findings.find((f) => f.rule === 'policy-error')!
    expect(error.effect).toBe('deny')
    expect(error.message).toMatch(
      /^policy "first-property" \(policies\/rules\.yaml:1:3\) could not be evaluated for 2 changes: .+; a policy that cannot decide denies — fix its "when"$/,
    )
  })
})

describe('built-in rules can be made stricter, never weaker', () => {
  test('protected-destroy as deny denies what it would hold for approval', () => {
    const p = plan({ ...DECOMMISSION, ...policies('- name: protected-destroy\n  effect: deny\n') })
    expect(p.findings.find((f) => f.rule === 'protected-destroy')!.effect).toBe('deny')
    expect(p.verdict).toBe('denied')
  })

  test.each([
    [
      '- name: protected-destroy\n  effect: warn\n',
      'policies/rules.yaml:2:11: policies may make the built-in rule "protected-destroy" stricter, never weaker: its effect is require-approval, so "warn" is not allowed (use require-approval or deny)',
    ],
    [
      '- name: stack-rename\n  effect: require-approval\n',
      'policies/rules.yaml:2:11: policies may make the built-in rule "stack-rename" stricter, never weaker: its effect is deny, so "require-approval" is not allowed (use deny)',
    ],
    [
      "- name: selection-shrink\n  when: 'false'\n  effect: deny\n",
      'policies/rules.yaml:2:9: "selection-shrink" is a built-in safety rule and always on; a policy may only give it a stricter effect, so remove "when"',
    ],
    [
      '- name: ops-segregation\n  effect: deny\n',
      `policies/rules.yaml:1:9: "ops-segregation" is a validation rule of Flotilla's: it is always an error and cannot be changed by a policy`,
    ],
    [
      '- name: custom\n  effect: deny\n',
      'policies/rules.yaml:1:3: missing required key "when" (the CEL condition of policy "custom")',
    ],
  ])('%j is a validation error', (text, message) => {
    expect(errorsFor(policies(text))).toEqual([message])
  })
})

describe('approvals', () => {
  const zones = [
    '111111111111/global/route53-hostedzones/Certificate',
    '111111111111/global/route53-hostedzones/HostedZone',
  ]

  test('exact addresses satisfy protected-destroy; the verdict becomes allowed', () => {
    expect(plan(DECOMMISSION).verdict).toBe('requires-approval')
    const p = plan(DECOMMISSION, { approve: zones })
    expect(p.verdict).toBe('allowed')
    expect(p.approvals).toEqual({ given: zones, unmet: [] })
  })

  test('a pattern never approves a protected destruction, whatever its count; with another count it denies', () => {
    const byPattern = plan(DECOMMISSION, { approve: ['*/global/route53-hostedzones/* (expected 2)'] })
    expect(byPattern.verdict).toBe('requires-approval')
    expect(byPattern.approvals!.unmet).toEqual(zones)
    expect(byPattern.findings.find((f) => f.rule === 'approval-not-exact')).toMatchObject({
      effect: 'warn',
      addresses: zones,
    })
    const wrong = plan(DECOMMISSION, { approve: ['*/global/route53-hostedzones/* (expected 3)'] })
    expect(wrong.verdict).toBe('denied')
    expect(wrong.findings.find((f) => f.rule === 'approval-mismatch')!.message).toBe(
      'approval "*/global/route53-hostedzones/* (expected 3)" matches 2 addresses of this plan, not 3: the plan is not what was approved — review it again and approve the right count',
    )
  })

  test('an approval that matches nothing is reported as stale, and approves nothing', () => {
    const p = plan(DECOMMISSION, { approve: [zones[0]!, '222222222222/global/x/Y'] })
    expect(p.verdict).toBe('requires-approval')
    expect(p.approvals!.unmet).toEqual([zones[1]])
    expect(p.findings.find((f) => f.rule === 'stale-approval')).toMatchObject({ effect: 'warn' })
  })

  test('the delete budget needs a pattern approval covering exactly its deletions', () => {
    const head = {
      ...DECOMMISSION,
      'fleet.yaml': BASE_FILES['fleet.yaml']!.replace('maxDeletes: 10', 'maxDeletes: 1'),
    }
    expect(plan(head, { approve: zones }).approvals!.unmet).toEqual([
      '111111111111/global/route53-hostedzones/* (expected 2)',
    ])
    const budget = '111111111111/global/route53-hostedzones/* (expected 2)'
    // The pattern satisfies the budget; the protected zones it counts still need their exact addresses.
    expect(plan(head, { approve: [budget] }).approvals!.unmet).toEqual(zones)
    expect(plan(head, { approve: [budget, ...zones] }).verdict).toBe('allowed')
  })

  test('approvals are written as the plan lists them, and a pattern needs its count', () => {
    expect(parseApproval('a/b (expected 3)')).toEqual<Approval>({
      kind: 'pattern',
      glob: 'a/b',
      expectedCount: 3,
    })
    expect(() => parseApproval('*/global/x/*')).toThrow('write it as "*/global/x/* (expected N)"')
  })

  test('an approvals file takes strings and mappings; a bad entry is reported with its position', () => {
    expect(
      parseApprovalsFile(
        'approvals.yaml',
        '- a/b/c\n- "*/x (expected 2)"\n- { pattern: "*/y", expectedCount: 1 }\n',
      ),
    ).toEqual([
      { kind: 'address', address: 'a/b/c' },
      { kind: 'pattern', glob: '*/x', expectedCount: 2 },
      { kind: 'pattern', glob: '*/y', expectedCount: 1 },
    ])
    expect(() => parseApprovalsFile('approvals.yaml', '- { pattern: "*/y" }\n')).toThrow(
      /approvals.yaml:1:3: /,
    )
    expect(() => parseApprovalsFile('approvals.yaml', '- "*/z"\n')).toThrow(
      'approvals.yaml:1:3: approval "*/z" is a pattern without a count',
    )
  })
})
