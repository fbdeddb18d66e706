import { describe, expect, it } from 'vitest'
import { BASE_FILES, fixtureSource } from '../../test/support/fixture-fleet.ts'
import { loadFleet } from '../core/load/load-fleet.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import type { Finding } from '../core/model/plan.ts'
import { operatorClock } from '../core/policy/policy-time.ts'
import { fingerprintsOf } from '../core/provider/fingerprint.ts'
import { ProviderRegistry } from '../core/provider/registry.ts'
import { SimProvider } from '../providers/sim/sim-provider.ts'
import { listAuditEntries } from '../store/audit.ts'
import { testBackends, useTestStore } from '../store/test-store.ts'
import { appliedStates } from './applied-states.ts'
import { type ApplyTargetOptions, applyTarget, approvedAddresses } from './apply-target.ts'

function finding(addresses: string[], overrides: Partial<Finding> = {}): Finding {
  return { rule: 'protected-destroy', effect: 'require-approval', message: 'm', addresses, ...overrides }
}

describe('approvedAddresses', () => {
  it('approves the addresses of met findings', () => {
    expect([...approvedAddresses([finding(['a/Zone', 'a/Cert'])], [])].sort()).toEqual(['a/Cert', 'a/Zone'])
    expect([...approvedAddresses([finding(['a/Zone', 'a/Cert'])], ['a/Cert'])]).toEqual(['a/Zone'])
  })

  it('does not approve an address that another, unmet finding holds', () => {
    const findings = [
      finding(['acct/global/dns/Zone']),
      finding(['acct/global/dns/Zone', 'acct/global/dns/Cert'], {
        rule: 'delete-budget',
        pattern: { glob: 'acct/global/dns/*', expectedCount: 2 },
      }),
    ]
    // The address itself was approved, but the budget pattern was not.
    expect([...approvedAddresses(findings, ['acct/global/dns/* (expected 2)'])]).toEqual([])
    // The pattern was approved, the zone's own approval was not.
    expect([...approvedAddresses(findings, ['acct/global/dns/Zone'])]).toEqual(['acct/global/dns/Cert'])
    expect([...approvedAddresses(findings, [])].sort()).toEqual([
      'acct/global/dns/Cert',
      'acct/global/dns/Zone',
    ])
  })

  it('ignores findings that do not ask for approval', () => {
    const findings = [
      finding(['x/denied'], { effect: 'deny' }),
      finding(['x/warned'], { effect: 'warn' }),
      finding(['x/approved']),
    ]
    expect([...approvedAddresses(findings, [])]).toEqual(['x/approved'])
  })
})

/** A second stack for the fixture fleet, so that an account has two independently changing stacks. */
function topicsFile(version: number): string {
  return `AWSTemplateFormatVersion: "2010-09-09"
Description: Alert topics v${version}
Metadata:
  StackName: topics
  Scope: { Type: region }
Resources:
  Alerts:
    Type: AWS::SNS::Topic
    Properties: { TopicName: alerts }
`
}

function fixtureFleet(overrides: Readonly<Record<string, string>> = {}): Fleet {
  const result = loadFleet(fixtureSource({ 'stacks/topics.yaml': topicsFile(1), ...overrides }))
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return result.fleet
}

describe.each(testBackends)('applyTarget on %s', (backend) => {
  const test = useTestStore(backend)
  const fleet = fixtureFleet()
  const account = fleet.targets.find((t) => t.name === 'teapot-prod')!
  const NOW = new Date('2026-11-10T10:00:00Z')

  async function freshSim(random: () => number = () => 0.5) {
    const sim = new SimProvider({ db: test.store.db, random, now: () => NOW })
    await sim.reset()
    await sim.updateSettings({ latencyScale: 0 })
    await sim.seed(fleet.targets)
    return { sim, registry: new ProviderRegistry([sim]) }
  }

  function apply(registry: ProviderRegistry, target: Target, extra: Partial<ApplyTargetOptions> = {}) {
    return applyTarget({
      head: fleet,
      target,
      registry,
      db: test.store.db,
      revision: 'rev-1',
      actor: 'tester',
      clock: operatorClock(NOW),
      pollMs: 1,
      timeoutMs: 5_000,
      ...extra,
    })
  }

  it('applies through api-errors at rate 0.5, retrying the failed call', async () => {
    const draws = [0.1, 0.9] // the first call fails (0.1 < 0.5), the second goes through
    const { sim, registry } = await freshSim(() => draws.shift() ?? 1)
    await sim.addFault({ scope: { kind: 'target', id: account.id }, kind: 'api-errors', rate: 0.5 })
    const waits: number[] = []
    const retries: string[] = []
    const result = await apply(registry, account, {
      retry: { baseMs: 200, random: () => 0.5, sleep: async (ms) => void waits.push(ms) },
      onRetry: (message) => retries.push(message),
    })
    expect(result.outcome).toBe('applied')
    expect(draws).toEqual([])
    expect(waits).toEqual([100])
    expect(retries).toHaveLength(1)
    expect(retries[0]).toMatch(
      /^attempt 1 failed \(InternalFailure: the service failed \(simulated fault fault-\w+\)\); retrying in 100 ms$/,
    )
    const stacks = fleet.desired.get(account.id)!.stacks
    expect(stacks.map((s) => s.address)).toEqual([
      `${account.id}/global/route53-hostedzones`,
      `${account.id}/eu-central-1/topics`,
      `${account.id}/eu-west-1/topics`,
    ])
    expect(result.report?.operations).toEqual(
      stacks.map((s) => ({ address: s.address, operation: 'create' })),
    )
    expect(result.settle).toEqual({ state: 'settled', items: [] })
    expect(result.health?.healthy).toBe(true)

    const recorded = (await appliedStates(test.store.db, [account.id])).get(account.id)
    expect(recorded).toMatchObject({
      provider: 'sim',
      revision: 'rev-1',
      fingerprints: fingerprintsOf(fleet.desired.get(account.id)!),
      intended: null,
    })
    const [audit] = await listAuditEntries(test.store.db, { subject: account.id, limit: 1 })
    expect(audit).toMatchObject({ actor: 'tester', action: 'apply', source: 'cli' })
    expect(audit?.detail).toMatchObject({
      revision: 'rev-1',
      verdict: 'allowed',
      operations: 3,
      healthy: true,
    })

    // Applying the same revision again changes nothing.
    expect((await apply(registry, account)).outcome).toBe('no-changes')
  })

  it('fails, without applying anything, when retries run out', async () => {
    const { sim, registry } = await freshSim()
    await sim.addFault({ scope: { kind: 'fleet' }, kind: 'throttling' })
    const result = await apply(registry, account, { retry: { attempts: 3, sleep: async () => {} } })
    expect(result.outcome).toBe('failed')
    expect(result.reason).toMatch(/^Throttling: Rate exceeded/)
    expect((await sim.status()).stacks).toEqual({})
    const recorded = (await appliedStates(test.store.db, [account.id])).get(account.id)
    expect(recorded?.fingerprints).toEqual({}) // never applied: only what was intended is known
    expect(recorded?.intended).toEqual(fingerprintsOf(fleet.desired.get(account.id)!))
    const [audit] = await listAuditEntries(test.store.db, { subject: account.id, limit: 1 })
    expect(audit?.action).toBe('apply-failed')
  })

  it('fails when the target does not settle in time', async () => {
    const { sim, registry } = await freshSim()
    await sim.addFault({ scope: { kind: 'target', id: account.id }, kind: 'stuck-stack' })
    const result = await apply(registry, account, { timeoutMs: 30, pollMs: 5 })
    expect(result.outcome).toBe('failed')
    expect(result.settle?.state).toBe('in-progress')
    expect(result.reason).toMatch(/^did not settle within 0 s: .*CREATE_IN_PROGRESS \(in progress\)/)
  })

  it('is blocked by a plan that needs approvals, and applies nothing', async () => {
    const { sim, registry } = await freshSim()
    await apply(registry, account)
    const moved = fixtureFleet({
      'inventory/accounts.yaml': BASE_FILES['inventory/accounts.yaml']!.replace(
        'dns_domain: teapot.example.org',
        'dns_domain: teapot2.example.org',
      ),
    })
    const target = moved.targets.find((t) => t.id === account.id)!
    const before = await sim.status()
    const result = await applyTarget({
      head: moved,
      target,
      registry,
      db: test.store.db,
      revision: 'rev-2',
      actor: 'tester',
      clock: operatorClock(NOW),
    })
    expect(result.outcome).toBe('blocked')
    expect(result.reason).toBe(`needs approvals not given: ${result.plan.approvalsRequired.join(', ')}`)
    expect(result.plan.approvalsRequired).toContain(`${account.id}/global/route53-hostedzones/HostedZone`)
    expect(await sim.status()).toEqual(before)
    const [audit] = await listAuditEntries(test.store.db, { subject: account.id, limit: 1 })
    expect(audit?.action).toBe('apply-blocked')
  })
})
