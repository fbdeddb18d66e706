import { Resolver } from 'node:dns/promises'
import { describe, expect, it } from 'vitest'
import { loadFleet } from '../../core/load/load-fleet.ts'
import type { Fleet, Target } from '../../core/model/fleet-model.ts'
import { memorySource } from '../../core/model/source.ts'
import { generateExampleFleet } from '../../example/generate-example.ts'
import { testBackends, useTestStore } from '../../store/test-store.ts'
import { SimControl } from './sim-control.ts'
import { SimProvider } from './sim-provider.ts'

function loadExample(): Fleet {
  const result = loadFleet(memorySource(generateExampleFleet({ accounts: 20, clusters: 15, seed: '7' })))
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return result.fleet
}

/** A production account with a cluster that runs its shop. */
function shopAccount(fleet: Fleet): { account: Target; cluster: Target } {
  for (const account of fleet.targets) {
    if (account.kind !== 'account' || account.environment !== 'production' || account.group === 'ops')
      continue
    if (account.lifecycle !== 'active') continue
    const cluster = fleet.targets.find(
      (t) =>
        t.kind === 'cluster' &&
        t.account === account.id &&
        (fleet.desired.get(t.id)?.manifests.length ?? 0) > 0,
    )
    if (cluster) return { account, cluster }
  }
  throw new Error('the example has no production account with a cluster')
}

/** Applies a target's desired state straight through the provider (every change reviewed). */
async function applyAll(sim: SimProvider, fleet: Fleet, target: Target): Promise<void> {
  const desired = fleet.desired.get(target.id)!
  await sim.apply({ target, desired, plan: undefined, approvedDestruction: new Set(), revision: 'r1' })
}

describe.each(testBackends)('the sim provider behind the port on %s', (backend) => {
  const test = useTestStore(backend)
  const fleet = loadExample()
  const { account, cluster } = shopAccount(fleet)
  const domain = String(account.config.dns_domain)

  async function freshSim(): Promise<SimProvider> {
    const sim = new SimProvider({ db: test.store.db })
    await sim.control.reset()
    await sim.control.updateSettings({ latencyScale: 0 })
    return sim
  }

  it('prepares the targets it is asked about from the targets alone, without a seed step', async () => {
    const sim = await freshSim()
    expect((await sim.control.status()).targets).toEqual({ accounts: 0, clusters: 0 })
    // A cluster comes with its node pools from its inventory entry.
    const observed = (await sim.observe([cluster])).get(cluster.id)!
    expect(observed.nodes?.kubernetesVersion).toBe(cluster.kubernetesVersion)
    expect(observed.nodes?.pools.map((pool) => pool.name)).toEqual(
      cluster.nodePools?.map((pool) => pool.name),
    )
    // An account asked about alone knows the cluster its shop runs in (from its target).
    await applyAll(sim, fleet, account)
    const health = await sim.health(account)
    expect(health.checks).toContainEqual({
      name: 'service shop',
      healthy: true,
      detail: `not deployed yet (cluster ${cluster.id} has nothing applied)`,
    })
    expect((await sim.control.status()).targets).toEqual({ accounts: 1, clusters: 1 })
    // Known and unchanged: nothing is new to the fleet.
    expect(await sim.control.prepare([account, cluster])).toBe(0)
  })

  it('prepares again what a reset in another instance forgot', async () => {
    const sim = await freshSim()
    await sim.observe([account])
    await new SimControl({ db: test.store.db }).reset()
    await sim.observe([account])
    expect((await sim.control.status()).targets).toEqual({ accounts: 1, clusters: 0 })
  })

  it.runIf(backend === 'postgres')('prepares the same targets from two processes at once', async () => {
    await (await freshSim()).close()
    const other = await test.openAnother()
    const one = new SimProvider({ db: test.store.db })
    const two = new SimProvider({ db: other.db })
    await Promise.all([one.observe(fleet.targets), two.observe(fleet.targets), one.observe(fleet.targets)])
    const accounts = fleet.targets.filter((t) => t.kind === 'account').length
    expect((await one.control.status()).targets).toEqual({
      accounts,
      clusters: fleet.targets.length - accounts,
    })
  })

  it('gives its targets a DNS server that answers from the zones as they are at each call', async () => {
    const sim = await freshSim()
    try {
      const before = await sim.gateEndpoints(account)
      expect(before.dnsServers).toHaveLength(1)
      const resolver = new Resolver({ timeout: 2_000, tries: 1 })
      resolver.setServers([...before.dnsServers!])
      await expect(resolver.resolveSoa(domain)).rejects.toThrow(/REFUSED/)
      await applyAll(sim, fleet, account)
      const after = await sim.gateEndpoints(account)
      expect(after).toEqual(before) // one server, started once
      expect((await resolver.resolveSoa(domain)).nsname).toBe('ns-1.sim.flotilla')
    } finally {
      await sim.close()
    }
  })

  it('rejects with the reason of an aborted signal', async () => {
    const sim = await freshSim()
    const reason = new Error('the worker stops')
    const signal = AbortSignal.abort(reason)
    await expect(sim.observe([account], { signal })).rejects.toBe(reason)
    await expect(sim.settled(account, undefined, { signal })).rejects.toBe(reason)
    await expect(sim.health(account, { signal })).rejects.toBe(reason)
    const desired = fleet.desired.get(account.id)!
    await expect(
      sim.apply({
        target: account,
        desired,
        plan: undefined,
        approvedDestruction: new Set(),
        revision: 'r1',
        signal,
      }),
    ).rejects.toBe(reason)
    expect((await sim.observe([account])).get(account.id)?.stacks).toEqual([])
  })
})
