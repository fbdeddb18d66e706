import { describe, expect, test } from 'vitest'
import { BASE_FILES, fixtureSource } from '../../../test/support/fixture-fleet.ts'
import { edit } from '../../../test/support/load-fleet-helpers.ts'
import { formatDiagnostic } from '../diagnostics.ts'
import { loadFleet } from '../load/load-fleet.ts'
import type { Fleet } from '../model/fleet-model.ts'
import type { Plan } from '../model/plan.ts'
import { protectedDestroy } from '../policy/builtin/protected-destroy.ts'
import { RuleRegistry } from '../policy/rules.ts'
import { fleetState, type PlanOutcome, planFleet, strictestSettings } from './plan-fleet.ts'

type Overrides = Readonly<Record<string, string | null>>

function fleet(overrides: Overrides = {}): Fleet {
  const result = loadFleet(fixtureSource(overrides))
  if (!result.ok) expect.fail(result.errors.map(formatDiagnostic).join('\n'))
  return result.fleet
}

function outcome(
  base: Overrides,
  head: Overrides,
  options: { include?: (id: string) => boolean } = {},
): PlanOutcome {
  const b = fleet(base)
  const h = fleet(head)
  return planFleet({
    base: fleetState(b),
    head: fleetState(h),
    limits: h.settings.limits,
    protect: h.settings.protect,
    ...(options.include ? { includeTarget: (t) => options.include!(t.id) } : {}),
  })
}

function plan(base: Overrides, head: Overrides, options: { include?: (id: string) => boolean } = {}): Plan {
  const result = outcome(base, head, options)
  if (!result.ok) expect.fail(result.errors.map(formatDiagnostic).join('\n'))
  return result.plan
}

const ACCOUNTS = 'inventory/accounts.yaml'
const DNS = 'stacks/dns.yaml'
const FLEET = 'fleet.yaml'
const INGRESS = 'cluster/manifests/ingress/deployment.yaml'
const decommission = (id: string) =>
  edit(ACCOUNTS, `- id: "${id}"\n`, `- id: "${id}"\n  lifecycle: decommission-requested\n`)

describe('selection-shrink', () => {
  test('a selector that drops half the targets at once is denied', () => {
    const p = plan(
      {},
      edit(
        DNS,
        "Select: account.environment != 'test'",
        "Select: account.group != 'ops' && account.environment != 'test'",
      ),
    )
    expect(p.verdict).toBe('denied')
    const denial = p.findings.find((f) => f.rule === 'selection-shrink' && f.effect === 'deny')!
    expect(denial.message).toBe(
      'stack "route53-hostedzones" would no longer reach 1 of its 2 targets (50%: 333333333333), more than limits.maxShrinkPercent (10%) at once — check its selector and the fields it reads; a selector that matches nothing must never mean "delete everywhere"',
    )
    expect(denial.addresses).toEqual(['333333333333/global/route53-hostedzones'])
  })

  test('within maxShrinkPercent each target that loses the stack needs an approval; losing all stacks is said', () => {
    const head = {
      ...edit(
        DNS,
        "Select: account.environment != 'test'",
        "Select: account.group != 'ops' && account.environment != 'test'",
      ),
      [FLEET]: BASE_FILES[FLEET]!.replace('maxShrinkPercent: 10', 'maxShrinkPercent: 60'),
    }
    const p = plan({}, head)
    expect(p.verdict).toBe('requires-approval')
    expect(p.findings.map((f) => [f.rule, f.effect])).toEqual([
      ['selection-shrink', 'require-approval'],
      ['selection-shrink', 'require-approval'],
      ['protected-destroy', 'require-approval'],
    ])
    expect(p.findings[0]!.message).toBe(
      'account 333333333333 (ops-monitoring) would lose all 1 of its stacks; if the account is being retired, set lifecycle: decommission-requested instead',
    )
    expect(p.approvalsRequired).toEqual([
      '333333333333/global/route53-hostedzones',
      '333333333333/global/route53-hostedzones/Certificate',
      '333333333333/global/route53-hostedzones/HostedZone',
    ])
  })

  test('a component that no longer renders for a cluster is a shrink too', () => {
    const head = { 'cluster/manifests/ingress/component.yaml': "select: cluster.environment == 'test'\n" }
    const p = plan({}, head)
    expect(p.findings.find((f) => f.rule === 'selection-shrink')!.message).toMatch(
      /^component "ingress" would no longer reach 1 of its 1 targets \(100%/,
    )
    expect(p.targets[0]!.changes.map((c) => [c.action, c.address])).toEqual([
      ['delete', 'aws:111111111111:eu-central-1:kube-1/kube-system/Deployment/ingress'],
    ])
  })
})

describe('decommissioning', () => {
  test('decommission-requested deletes the account’s stacks without a shrink finding; protected ones need approval', () => {
    const p = plan({}, decommission('111111111111'))
    expect(p.findings.map((f) => f.rule)).toEqual(['protected-destroy'])
    expect(p.verdict).toBe('requires-approval')
    expect(p.summary).toMatchObject({ targetsChanged: 1, protectedDestroyed: 2, actions: { delete: 2 } })
    expect(p.targets[0]!.changes.map((c) => `${c.action} ${c.address}`)).toEqual([
      'delete 111111111111/global/route53-hostedzones',
      'delete 111111111111/global/route53-hostedzones/Certificate',
      'delete 111111111111/global/route53-hostedzones/HostedZone',
    ])
  })

  test('a target may leave the inventory once it is decommission-requested, not before', () => {
    const removed = {
      [ACCOUNTS]: BASE_FILES[ACCOUNTS]!.replace(/- id: "222222222222"[\s\S]*?(?=- id: "333333333333")/, ''),
    }
    const invalid = outcome({}, removed)
    expect(invalid.ok).toBe(false)
    if (!invalid.ok) {
      expect(invalid.errors.map(formatDiagnostic)).toEqual([
        'inventory/accounts.yaml:10:3: account "222222222222" (teapot-test) was removed from the inventory without going through lifecycle: decommission-requested (it is "active" in the base); removing it would delete everything it has. Put it back, set lifecycle: decommission-requested, and remove it after that change has rolled out',
      ])
    }
    expect(outcome(decommission('222222222222'), removed).ok).toBe(true)
  })
})

describe('delete-budget', () => {
  test('more deletions than maxDeletes need an approval by pattern with the exact count', () => {
    const head = {
      ...decommission('111111111111'),
      [FLEET]: BASE_FILES[FLEET]!.replace('maxDeletes: 10', 'maxDeletes: 1'),
    }
    const p = plan({}, head)
    const budget = p.findings.find((f) => f.rule === 'delete-budget')!
    expect(budget.pattern).toEqual({ glob: '111111111111/global/route53-hostedzones/*', expectedCount: 2 })
    expect(p.approvalsRequired).toContain('111111111111/global/route53-hostedzones/* (expected 2)')
  })
})

describe('Kubernetes objects', () => {
  test('an immutable field replaces the object; a pruned protected kind needs approval', () => {
    const base = {
      'cluster/manifests/ingress/namespace.yaml':
        'apiVersion: v1\nkind: Namespace\nmetadata: { name: ingress }\n',
    }
    const head = edit(
      INGRESS,
      'spec:\n  replicas',
      'spec:\n  selector: { matchLabels: { app: ingress } }\n  replicas',
    )
    const p = plan(base, head)
    const changes = p.targets[0]!.changes
    expect(changes.map((c) => [c.action, c.type, c.address.split('/').slice(1).join('/')])).toEqual([
      ['delete', 'v1/Namespace', '_/Namespace/ingress'],
      ['replace', 'apps/v1/Deployment', 'kube-system/Deployment/ingress'],
    ])
    expect(changes[1]!.properties).toEqual([
      {
        path: 'spec.selector',
        before: null,
        after: { matchLabels: { app: 'ingress' } },
        forcesReplacement: true,
      },
    ])
    expect(p.findings.find((f) => f.rule === 'protected-destroy')!.addresses).toEqual([
      'aws:111111111111:eu-central-1:kube-1/_/Namespace/ingress',
    ])
  })
})

describe('parameters', () => {
  test('a new parameter value reaches the resources that use it: the zone is replaced, not the stack updated', () => {
    const p = plan({}, edit(ACCOUNTS, 'dns_domain: teapot.example.org', 'dns_domain: teapot.example.com'))
    const [stack, certificate, zone] = p.targets[0]!.changes
    expect(stack).toMatchObject({
      action: 'update',
      properties: [
        { path: 'Parameters.DomainName', before: 'teapot.example.org', after: 'teapot.example.com' },
      ],
    })
    expect(certificate).toMatchObject({ action: 'replace', type: 'AWS::CertificateManager::Certificate' })
    expect(zone).toMatchObject({
      action: 'replace',
      type: 'AWS::Route53::HostedZone',
      properties: [
        {
          path: 'Name',
          before: 'teapot.example.org.',
          after: 'teapot.example.com.',
          forcesReplacement: true,
        },
      ],
    })
    expect(p.findings.map((f) => f.rule)).toEqual(['protected-destroy'])
  })
})

describe('updates', () => {
  test('an in-place update of a protected resource needs no approval', () => {
    const p = plan(
      {},
      edit(DNS, 'ValidationMethod: DNS', 'ValidationMethod: DNS\n      Tags: [{ Key: a, Value: b }]'),
    )
    expect(p.verdict).toBe('allowed')
    expect(p.findings).toEqual([])
    expect(p.summary).toMatchObject({ targetsChanged: 2, protectedDestroyed: 0, actions: { update: 2 } })
  })
})

describe('stack-rename', () => {
  test('a renamed stack is one denying finding naming both stacks and the fix, not also a shrink', () => {
    const p = plan({}, edit(DNS, 'StackName: route53-hostedzones\n', 'StackName: zones\n'))
    expect(p.verdict).toBe('denied')
    expect(p.findings.map((f) => [f.rule, f.effect])).toEqual([
      ['stack-rename', 'deny'],
      ['protected-destroy', 'require-approval'],
    ])
    expect(p.findings[0]!.message).toContain(
      'stack "route53-hostedzones" disappears and stack "zones" appears with the same resources in 2 targets',
    )
    expect(p.findings[0]!.message).toContain(
      'add "MovedFrom: route53-hostedzones" to the Metadata of stacks/dns.yaml',
    )
  })
})

describe('moves and narrowing', () => {
  test('MovedFrom moves every resource, and a changed property on the way shows as part of the move', () => {
    const head = edit(
      DNS,
      'StackName: route53-hostedzones\n',
      'StackName: zones\n  MovedFrom: route53-hostedzones\n',
    )
    const moved = plan({}, head)
    expect(moved.verdict).toBe('allowed')
    expect(moved.targets[0]!.changes.map((c) => [c.action, c.address, c.movedFrom])).toEqual([
      ['move', '111111111111/global/zones', '111111111111/global/route53-hostedzones'],
      [
        'move',
        '111111111111/global/zones/Certificate',
        '111111111111/global/route53-hostedzones/Certificate',
      ],
      ['move', '111111111111/global/zones/HostedZone', '111111111111/global/route53-hostedzones/HostedZone'],
    ])
  })

  test('--target narrows the plan and what the rules see', () => {
    const p = plan({}, decommission('111111111111'), { include: (id) => id === '333333333333' })
    expect(p.verdict).toBe('no-changes')
    expect(p.summary.targets).toBe(1)
  })

  test('rules come from a registry that refuses a second rule with the same id', () => {
    expect(() => new RuleRegistry().register(protectedDestroy).register(protectedDestroy)).toThrow(
      'a rule "protected-destroy" is already registered',
    )
  })
})

describe('strictestSettings', () => {
  test('a change cannot loosen the limits or protection of its own plan', () => {
    const base = { limits: { maxDeletes: 10, maxShrinkPercent: 10 }, protect: ['AWS::SQS::Queue'] }
    const head = { limits: { maxDeletes: 1000, maxShrinkPercent: 5 }, protect: [] }
    expect(strictestSettings(base, head)).toEqual({
      limits: { maxDeletes: 10, maxShrinkPercent: 5 },
      protect: ['AWS::SQS::Queue'],
    })
  })
})

describe('stage moves', () => {
  // The test account's channel moves it from dev to stable; its environment change makes the DNS
  // stack select it too: a stage move and changes on one target.
  const head = edit(
    ACCOUNTS,
    '  environment: test\n  criticality: tier-3\n  channel: dev\n',
    '  environment: staging\n  criticality: tier-3\n  channel: stable\n',
  )

  test('a target that moves and changes carries both; its stage is the head’s', () => {
    const p = plan({}, head)
    const target = p.targets.find((t) => t.id === '222222222222')!
    expect(target.stage).toBe('stable')
    expect(target.stageMove).toEqual({ from: 'dev', to: 'stable' })
    expect(target.changes.map((c) => c.action)).toContain('create')
    expect(p.summary).toMatchObject({ stageMoves: 1, byStage: { stable: 1 } })
    // A later move of a non-production target: shown, nothing to approve for it.
    expect(p.findings.filter((f) => f.rule === 'stage-move')).toEqual([])
  })

  test('--target keeps the moves of the targets it selects only', () => {
    const p = plan({}, edit(ACCOUNTS, '  channel: dev\n', '  channel: stable\n'), {
      include: (id) => id === '111111111111',
    })
    expect(p.targets).toEqual([])
    expect(p.verdict).toBe('no-changes')
  })
})
