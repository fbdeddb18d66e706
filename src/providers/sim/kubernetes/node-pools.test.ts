import { describe, expect, it } from 'vitest'
import { loadFleet } from '../../../core/load/load-fleet.ts'
import type { Fleet, Target } from '../../../core/model/fleet-model.ts'
import { memorySource } from '../../../core/model/source.ts'
import { planFleet } from '../../../core/plan/plan-fleet.ts'
import type { ProviderEvent, SettleStatus } from '../../../core/provider/port.ts'
import { ProviderRegistry } from '../../../core/provider/registry.ts'
import { generateExampleFleet } from '../../../example/generate-example.ts'
import { observeFleet } from '../../../operations/observed-fleet.ts'
import { testBackends, useTestStore } from '../../../store/test-store.ts'
import { simDatabase } from '../sim-database.ts'
import { SimProvider } from '../sim-provider.ts'
import { loadClusterObjects } from './cluster-objects.ts'
import { budgetOf, ClusterView } from './cluster-view.ts'
import { loadImageRegistry } from './image-registry.ts'

type Files = Map<string, string>

/** A StatefulSet on the stateful pool, with a budget, as a database team would run it. */
const STATEFUL_COMPONENT = `apiVersion: apps/v1
kind: StatefulSet
metadata: { name: ledger, namespace: default }
spec:
  replicas: 3
  serviceName: ledger
  selector: { matchLabels: { app: ledger } }
  template:
    metadata: { labels: { app: ledger } }
    spec:
      nodeSelector: { flotilla.dev/node-pool: stateful-worker }
      containers: [{ name: ledger, image: registry.k8s.io/pause:3.10 }]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: ledger, namespace: default }
spec:
  minAvailable: 2
  selector: { matchLabels: { app: ledger } }
`

function exampleFiles(): Files {
  const files = generateExampleFleet({ accounts: 20, clusters: 15, seed: '7' })
  files.set('cluster/manifests/ledger/statefulset.yaml', STATEFUL_COMPONENT)
  return files
}

function load(files: Files): Fleet {
  const result = loadFleet(memorySource(files))
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'))
  return result.fleet
}

/** A production cluster with a stateful pool (which the ledger component runs on). */
function statefulCluster(fleet: Fleet): Target {
  const cluster = fleet.targets.find(
    (t) =>
      t.kind === 'cluster' &&
      t.environment === 'production' &&
      t.lifecycle === 'ready' &&
      fleet.clusters.get(t.id)?.nodePools.some((p) => p.name === 'stateful-worker' && p.min >= 3),
  )
  if (!cluster) throw new Error('the example has no production cluster with a stateful pool')
  return cluster
}

/** The inventory with one cluster's Kubernetes version changed. */
function withVersion(files: Files, cluster: Target, from: string, to: string): Files {
  const next = new Map(files)
  for (const [path, text] of files) {
    if (!path.startsWith('inventory/clusters')) continue
    const at = text.indexOf(cluster.id)
    if (at < 0) continue
    const line = `kubernetesVersion: "${from}"`
    const versionAt = text.indexOf(line, at)
    next.set(
      path,
      `${text.slice(0, versionAt)}kubernetesVersion: "${to}"${text.slice(versionAt + line.length)}`,
    )
  }
  return next
}

class Clock {
  private at = new Date('2026-11-10T10:00:00Z').getTime()
  readonly now = (): Date => new Date(this.at)
  advance(ms: number): void {
    this.at += ms
  }
}

describe.each(testBackends)('cluster updates in the simulated fleet on %s', (backend) => {
  const test = useTestStore(backend)
  const files = exampleFiles()
  const base = load(files)
  const cluster = statefulCluster(base)
  const version = base.clusters.get(cluster.id)!.kubernetesVersion
  const nextVersion = `1.${Number(version.split('.')[1]) + 1}`
  const head = load(withVersion(files, cluster, version, nextVersion))

  async function deployed(latencyScale: number) {
    const clock = new Clock()
    const sim = new SimProvider({ db: test.store.db, now: clock.now, random: () => 0.5 })
    await sim.updateSettings({ latencyScale })
    await sim.seed(base.targets, base.clusters)
    const registry = new ProviderRegistry([sim])
    await applyOf(sim, base, 'r1')
    await settle(sim, clock)
    // Pods start after their objects are applied: wait until every one runs before changing anything.
    for (let i = 0; ; i++) {
      await sim.observe([cluster])
      const view = new ClusterView(
        await loadClusterObjects(await simDatabase(test.store.db), cluster.id),
        clock.now(),
        latencyScale,
        await loadImageRegistry(await simDatabase(test.store.db)),
      )
      const pods = view.ofKind('Pod')
      if (pods.length > 0 && pods.every((p) => view.isReady(p))) break
      if (i > 100) throw new Error('the pods never became ready')
      clock.advance(1000)
    }
    return { sim, clock, registry }
  }

  /** Applies what `fleet` renders for the cluster, reporting provider events to `onEvent`. */
  const applyOf = (sim: SimProvider, fleet: Fleet, revision: string, onEvent?: (e: ProviderEvent) => void) =>
    sim.apply({
      target: cluster,
      desired: fleet.desired.get(cluster.id)!,
      plan: undefined,
      approvedDestruction: new Set(),
      revision,
      ...(onEvent ? { onEvent } : {}),
    })

  async function settle(sim: SimProvider, clock: Clock, look?: () => Promise<void>): Promise<SettleStatus> {
    for (let i = 0; i < 2000; i++) {
      const status = await sim.settled(cluster)
      await look?.()
      if (status.state !== 'in-progress') return status
      clock.advance(500)
    }
    throw new Error('the cluster did not settle')
  }

  /** The plan of `fleet` against the observed cluster. */
  async function planOf(registry: ProviderRegistry, fleet: Fleet = head) {
    const observed = await observeFleet(fleet, registry, test.store.db, (t) => t.id === cluster.id)
    const outcome = planFleet({
      base: observed.state,
      head: { ...observed.state, side: fleet.source, desired: fleet.desired },
      limits: { maxDeletes: 10, maxShrinkPercent: 10 },
      protect: [],
      includeTarget: (t) => t.id === cluster.id,
    })
    if (!outcome.ok) throw new Error('invalid plan')
    return outcome.plan
  }

  it('plans a version upgrade as the control plane and a rotate of every node, system pool first', async () => {
    const { sim, registry } = await deployed(0)
    const changes = (await planOf(registry)).targets
      .flatMap((t) => t.changes)
      .filter((c) => c.type.startsWith('flotilla.dev/'))
    const observed = (await sim.observe([cluster])).get(cluster.id)!.nodes!
    expect(changes[0]).toMatchObject({
      action: 'update',
      address: `${cluster.id}/_/ControlPlane/control-plane`,
      properties: [{ path: 'kubernetesVersion', before: version, after: nextVersion }],
    })
    const rotations = changes.filter((c) => c.action === 'rotate')
    expect(rotations[0]!.address).toBe(`${cluster.id}/_/NodePool/system`)
    for (const pool of observed.pools.filter((p) => (p.nodes?.length ?? 0) > 0)) {
      const change = rotations.find((c) => c.address.endsWith(`/NodePool/${pool.name}`))!
      expect(change.rotation).toMatchObject({
        count: pool.nodes!.length,
        nodes: pool.nodes!.map((n) => n.name).sort(),
      })
    }
    expect(rotations.find((c) => c.address.endsWith('/stateful-worker'))!.rotation!.stateful).toBe(true)
  })

  it('rotates every node to the new version without ever violating a PodDisruptionBudget', async () => {
    const { sim, clock } = await deployed(1)
    const before = (await sim.observe([cluster])).get(cluster.id)!.nodes!
    const oldNodes = new Set(before.pools.flatMap((p) => p.nodes!.map((n) => n.name)))
    const registryOfImages = await loadImageRegistry(await simDatabase(test.store.db))
    let looks = 0
    let sawUnavailable = false
    const violations: string[] = []
    const events: ProviderEvent[] = []
    await applyOf(sim, head, 'r2', (e) => events.push(e))
    const status = await settle(sim, clock, async () => {
      looks++
      const view = new ClusterView(
        await loadClusterObjects(await simDatabase(test.store.db), cluster.id),
        clock.now(),
        1,
        registryOfImages,
      )
      for (const pdb of view.ofKind('PodDisruptionBudget')) {
        const budget = budgetOf(view, pdb)
        if (budget.currentHealthy < budget.expectedPods) sawUnavailable = true
        if (budget.currentHealthy < budget.desiredHealthy)
          violations.push(`${pdb.name}: ${budget.currentHealthy} healthy of ${budget.desiredHealthy} needed`)
      }
    })
    expect(status.state).toBe('settled')
    expect(violations).toEqual([])
    expect(sawUnavailable).toBe(true)
    expect(looks).toBeGreaterThan(10)
    const after = (await sim.observe([cluster])).get(cluster.id)!.nodes!
    expect(after.kubernetesVersion).toBe(nextVersion)
    for (const pool of after.pools) {
      const declared = before.pools.find((p) => p.name === pool.name)!
      expect(pool.nodes!.length).toBe(declared.nodes!.length)
      for (const node of pool.nodes!) {
        expect(node.version).toBe(nextVersion)
        expect(oldNodes.has(node.name)).toBe(false)
      }
    }
    expect(events.map((e) => e.status)).toContain('rotation-started')
    // Every pod runs again: the ledger's three on the new stateful nodes.
    const view = new ClusterView(
      await loadClusterObjects(await simDatabase(test.store.db), cluster.id),
      clock.now(),
      1,
      registryOfImages,
    )
    const ledger = view.ofKind('Pod').filter((p) => p.name.startsWith('ledger-'))
    expect(ledger.filter((p) => view.isReady(p))).toHaveLength(3)
  })

  it('skips a stateful pool over its monthly budget and reports it, in the plan and in the rollout', async () => {
    const { sim, clock, registry } = await deployed(0)
    // This month's one rotation of the stateful pool: an instance type change, rolled out.
    await applyOf(sim, head, 'r2')
    expect((await settle(sim, clock)).state).toBe('settled')
    const twice = load(
      withVersion(
        withVersion(files, cluster, version, nextVersion),
        cluster,
        nextVersion,
        `1.${Number(nextVersion.split('.')[1]) + 1}`,
      ),
    )
    const plan = await planOf(registry, twice)
    const stateful = plan.targets[0]!.changes.find((c) => c.address.endsWith('/NodePool/stateful-worker'))!
    expect(stateful.rotation).toMatchObject({ stateful: true, overBudget: true })
    expect(plan.findings.find((f) => f.rule === 'rotation-budget')?.addresses).toEqual([stateful.address])

    const events: ProviderEvent[] = []
    await applyOf(sim, twice, 'r3', (e) => events.push(e))
    expect((await settle(sim, clock)).state).toBe('settled')
    const skipped = events.find((e) => e.status === 'rotation-skipped')
    expect(skipped?.address).toBe(stateful.address)
    expect(skipped?.message).toMatch(/budget is 1/)
    const after = (await sim.observe([cluster])).get(cluster.id)!.nodes!
    const pools = new Map(after.pools.map((p) => [p.name, p]))
    expect(new Set(pools.get('stateful-worker')!.nodes!.map((n) => n.version))).toEqual(
      new Set([nextVersion]),
    )
    expect(new Set(pools.get('system')!.nodes!.map((n) => n.version))).toEqual(
      new Set([`1.${Number(nextVersion.split('.')[1]) + 1}`]),
    )
  })
})
