import { describe, expect, it } from 'vitest'
import { fixtureSource } from '../../test/support/fixture-fleet.ts'
import { loadFleet } from '../core/load/load-fleet.ts'
import type { DesiredState, RenderedStack } from '../core/model/desired-state.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import { diffStacks } from '../core/plan/diff-stacks.ts'
import { targetPlanOf } from '../core/plan/plan-fleet.ts'
import { protectedTypes } from '../core/plan/protected.ts'
import { fingerprintsOf } from '../core/provider/fingerprint.ts'
import { ProviderRegistry } from '../core/provider/registry.ts'
import { SimProvider } from '../providers/sim/sim-provider.ts'
import { testBackends, useTestStore } from '../store/test-store.ts'
import { appliedStates, recordApplied, recordIntended } from './applied-states.ts'
import { observeFleet } from './observed-fleet.ts'

/** The fixture fleet with a second, regional stack whose description carries a version. */
function fixtureFleet(version: number): Fleet {
  const topics = `AWSTemplateFormatVersion: "2010-09-09"
Description: Alert topics v${version}
Metadata:
  StackName: topics
  Scope: { Type: region }
Resources:
  Alerts:
    Type: AWS::SNS::Topic
    Properties: { TopicName: alerts }
`
  const dns = fixtureSource().files.get('stacks/dns.yaml')!
  const result = loadFleet(
    fixtureSource({
      'stacks/topics.yaml': topics,
      'stacks/dns.yaml': dns.replace(
        'AWSTemplateFormatVersion: "2010-09-09"',
        `$&\nDescription: Zone v${version}`,
      ),
    }),
  )
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return result.fleet
}

describe.each(testBackends)('observeFleet on %s', (backend) => {
  const test = useTestStore(backend)
  const v1 = fixtureFleet(1)
  const v2 = fixtureFleet(2)
  const account = v1.targets.find((t) => t.name === 'teapot-prod')!
  const include = (t: Target) => t.id === account.id

  async function freshSim() {
    const sim = new SimProvider({ db: test.store.db, random: () => 0.5 })
    await sim.reset()
    await sim.updateSettings({ latencyScale: 0 })
    await sim.seed(v1.targets)
    return { sim, registry: new ProviderRegistry([sim]) }
  }

  /** Applies `stacks` to the account through the provider, with a plan reviewing exactly that. */
  async function applyStacks(sim: SimProvider, stacks: readonly RenderedStack[]): Promise<void> {
    const observed = (await sim.observe([account])).get(account.id)!
    const desired: DesiredState = { target: account, stacks, manifests: [] }
    await sim.apply({
      target: account,
      desired,
      plan: targetPlanOf(account, null, diffStacks(observed.stacks, stacks, protectedTypes([]))),
      approvedDestruction: new Set(),
      revision: 'test',
    })
  }

  const stacksOf = (fleet: Fleet) => fleet.desired.get(account.id)!.stacks

  it('observes every target of the head, empty where the provider has nothing, and no drift without records', async () => {
    const { sim, registry } = await freshSim()
    await applyStacks(sim, stacksOf(v1))
    const observed = await observeFleet(v1, registry, test.store.db)
    expect([...observed.observed.keys()].sort()).toEqual(v1.targets.map((t) => t.id).sort())
    expect(observed.state.side).toEqual({ kind: 'observed' })
    expect(fingerprintsOf(observed.state.desired.get(account.id)!)).toEqual(
      fingerprintsOf(v1.desired.get(account.id)!),
    )
    const other = v1.targets.find((t) => t.id !== account.id && t.kind === 'account')!
    expect(observed.state.desired.get(other.id)).toMatchObject({ stacks: [], manifests: [] })
    expect(observed.state.drift?.size).toBe(0)
    // Stages are the repository's: the observed side has the head's, so it moves no target.
    expect(observed.state.stageOf).toBe(v1.stageOf)
    expect(observed.state.stages.map((s) => s.name)).toEqual(v1.rollout.stages.map((s) => s.name))
  })

  it('reports drift against what was applied: changed, missing and extra stacks', async () => {
    const { sim, registry } = await freshSim()
    const [dns, topicsA, topicsB] = stacksOf(v1) as [RenderedStack, RenderedStack, RenderedStack]
    await applyStacks(sim, [dns, topicsA])
    const applied = fingerprintsOf({ stacks: [dns, topicsA, topicsB], manifests: [] })
    await recordApplied(test.store.db, {
      target: account.id,
      provider: 'sim',
      revision: 'rev-1',
      fingerprints: applied,
    })
    const [, , topicsB2] = stacksOf(v2) as [RenderedStack, RenderedStack, RenderedStack]
    const extra: RenderedStack = { ...topicsB2, address: `${account.id}/eu-west-1/extra`, stackName: 'extra' }
    await applyStacks(sim, [stacksOf(v2)[0]!, topicsA, extra])
    const drift = (await observeFleet(v1, registry, test.store.db, include)).state.drift
    expect(drift?.get(account.id)).toEqual({
      revision: 'rev-1',
      addresses: [dns.address, extra.address, topicsB.address].sort(),
    })
  })

  it('after a killed apply, counts states matching the intended or the applied fingerprints as no drift', async () => {
    const { sim, registry } = await freshSim()
    await applyStacks(sim, stacksOf(v1))
    await recordApplied(test.store.db, {
      target: account.id,
      provider: 'sim',
      revision: 'rev-1',
      fingerprints: fingerprintsOf(v1.desired.get(account.id)!),
    })

    // Applying v2 starts: the intent is recorded, then the process dies after the first stack.
    const intended = fingerprintsOf(v2.desired.get(account.id)!)
    await recordIntended(test.store.db, account.id, 'sim', 'rev-2', intended)
    const [dns2] = stacksOf(v2) as [RenderedStack]
    const [, ...rest1] = stacksOf(v1)
    await applyStacks(sim, [dns2, ...rest1])
    const record = (await appliedStates(test.store.db, [account.id])).get(account.id)
    expect(record).toMatchObject({ revision: 'rev-1', intended })

    const killed = await observeFleet(v2, registry, test.store.db, include)
    expect(killed.state.drift?.get(account.id)).toBeUndefined()

    // Something changed outside Flotilla matches neither: that is drift.
    const { drifted } = await sim.addFault(
      { scope: { kind: 'target', id: account.id }, kind: 'drift' },
      v1.targets,
    )
    expect(drifted).toBeDefined()
    const afterEdit = await observeFleet(v2, registry, test.store.db, include)
    expect(afterEdit.state.drift?.get(account.id)).toEqual({ revision: 'rev-1', addresses: [drifted] })

    // Without the intent, the half-applied stack itself would count as drift.
    await recordApplied(test.store.db, {
      target: account.id,
      provider: 'sim',
      revision: 'rev-1',
      fingerprints: fingerprintsOf(v1.desired.get(account.id)!),
    })
    const withoutIntent = await observeFleet(v2, registry, test.store.db, include)
    expect(withoutIntent.state.drift?.get(account.id)?.addresses).toContain(dns2.address)
  })

  it('clears the intent when the apply finishes', async () => {
    await freshSim()
    await recordIntended(test.store.db, account.id, 'sim', 'rev-3', { a: '1' })
    expect((await appliedStates(test.store.db, [account.id])).get(account.id)).toMatchObject({
      revision: 'rev-3',
      fingerprints: {},
      intended: { a: '1' },
    })
    await recordApplied(test.store.db, {
      target: account.id,
      provider: 'sim',
      revision: 'rev-3',
      fingerprints: { a: '1' },
    })
    const record = (await appliedStates(test.store.db, [account.id, 'unknown'])).get(account.id)
    expect(record).toMatchObject({ revision: 'rev-3', fingerprints: { a: '1' }, intended: null })
    expect(record?.appliedAt).toBeInstanceOf(Date)
    expect((await appliedStates(test.store.db, ['unknown'])).size).toBe(0)
  })
})
