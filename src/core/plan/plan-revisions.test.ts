import { describe, expect, test } from 'vitest'
import { BASE_FILES } from '../../../test/support/fixture-fleet.ts'
import { edit, loadValid, type Overrides } from '../../../test/support/load-fleet-helpers.ts'
import { formatDiagnostic } from '../diagnostics.ts'
import type { Plan } from '../model/plan.ts'
import { parseApproval } from '../policy/approvals.ts'
import { planRevisions } from './plan-revisions.ts'

const NOW = new Date('2026-11-10T10:00:00Z')

function plan(base: Overrides, head: Overrides, approvals: Parameters<typeof planRevisions>[2] = {}): Plan {
  const outcome = planRevisions(loadValid(base).fleet, loadValid(head).fleet, { now: NOW, ...approvals })
  if (!outcome.ok) expect.fail(outcome.errors.map(formatDiagnostic).join('\n'))
  return outcome.plan
}

/** The DNS stack without its certificate: one unprotected-by-policy delete per non-test account region. */
const noCertificate = edit(
  'stacks/dns.yaml',
  `  Certificate:
    Type: AWS::CertificateManager::Certificate
    Properties:
      DomainName: "*.{{ config.dns_domain }}"
      ValidationMethod: DNS
`,
  '',
)

describe('planRevisions', () => {
  test('holds the plan to the stricter limits of base and head: raising maxDeletes counts from the next plan', () => {
    const tight = edit('fleet.yaml', 'maxDeletes: 10', 'maxDeletes: 0')
    const loose = { 'fleet.yaml': tight['fleet.yaml']!.replace('maxDeletes: 0', 'maxDeletes: 100') }
    const tightened = plan(tight, { ...loose, ...noCertificate })
    expect(tightened.findings.map((f) => f.rule)).toContain('delete-budget')
    // The same change under loose limits on both sides is not a budget matter.
    expect(plan(loose, { ...loose, ...noCertificate }).findings.map((f) => f.rule)).not.toContain(
      'delete-budget',
    )
  })

  test("holds the plan to both sides' protected types: dropping a type from protect does not unprotect it in this plan", () => {
    const protectingDeployments = {
      'fleet.yaml': `${BASE_FILES['fleet.yaml']}protect: [Deployment]\n`,
    }
    const result = plan(protectingDeployments, { 'cluster/manifests/ingress/deployment.yaml': '' })
    expect(result.verdict).not.toBe('allowed')
    expect(result.findings.map((f) => f.rule)).toContain('protected-destroy')
    // Without protect on either side, removing the deployment is an ordinary delete.
    expect(
      plan({}, { 'cluster/manifests/ingress/deployment.yaml': '' }).findings.map((f) => f.rule),
    ).not.toContain('protected-destroy')
  })

  test("applies the head's and the base's policies, and the approvals given", () => {
    const denyAll = {
      'policies/no-changes.yaml': `- name: no-changes
  description: nothing changes today
  when: "true"
  effect: require-approval
`,
    }
    const change = edit(
      'cluster/config-defaults.yaml',
      'production: { replicas: 3 }',
      'production: { replicas: 4 }',
    )
    const gated = plan(denyAll, { ...denyAll, ...change })
    expect(gated.verdict).toBe('requires-approval')
    expect(gated.findings.map((f) => f.rule)).toContain('no-changes')
    // A change that deletes the policy is still judged by it (the base's rules judge too), and
    // the deletion is itself a governance change.
    const deleting = plan(denyAll, change)
    expect(deleting.verdict).toBe('requires-approval')
    expect(deleting.findings.map((f) => f.rule)).toEqual(
      expect.arrayContaining(['no-changes', 'governance-change']),
    )
    const approved = plan(
      denyAll,
      { ...denyAll, ...change },
      { approvals: gated.approvalsRequired.map(parseApproval) },
    )
    expect(approved.verdict).toBe('allowed')
  })

  test('narrows the plan to the targets asked for', () => {
    const change = edit(
      'cluster/config-defaults.yaml',
      'production: { replicas: 3 }',
      'production: { replicas: 4 }',
    )
    expect(plan({}, change).targets.length).toBeGreaterThan(0)
    expect(plan({}, change, { includeTarget: (t) => t.kind === 'account' }).targets).toEqual([])
  })
})
