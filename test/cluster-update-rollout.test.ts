/**
 * A Kubernetes version upgrade of every cluster of the example fleet, rolled out by the engine
 * stage by stage on the simulated fleet: each cluster's step upgrades its control plane and
 * rotates every node, system pool first, and reports the rotation as provider events.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Target } from '../src/core/model/fleet-model.ts'
import { approveStage } from '../src/rollout/controls.ts'
import { rolloutStatus } from '../src/rollout/engine.ts'
import { listRolloutEvents } from '../src/store/events.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import {
  commitAll,
  type EngineHarness,
  editRollout,
  exampleRepo,
  openEngine,
  quickStages,
} from './support/rollout-fleet.ts'

const bob = { actor: 'bob', source: 'test' }

/** Every cluster's `kubernetesVersion` one minor version up. */
function upgradeEveryCluster(repo: string): void {
  const path = join(repo, 'inventory/clusters.yaml')
  const text = readFileSync(path, 'utf8')
  writeFileSync(
    path,
    text.replace(
      /kubernetesVersion: "1\.(\d+)"/g,
      (_, minor: string) => `kubernetesVersion: "1.${Number(minor) + 1}"`,
    ),
  )
}

describe('a Kubernetes version upgrade rolled out to the simulated fleet', () => {
  const testStore = useTestStore(testBackends.at(-1)!)
  let repo: string
  let dispose = () => {}
  let engine: EngineHarness
  let clusters: Target[]

  beforeAll(async () => {
    ;({ repo, dispose } = await exampleRepo({ accounts: 10, clusters: 5 }))
    editRollout(repo, quickStages)
    const base = await commitAll(repo, 'Rollouts without bakes and the Prometheus gate')
    engine = await openEngine(repo, testStore.store.db, { seedCommit: base })
    clusters = (await engine.deps.loadRevision(base)).targets.filter((t) => t.kind === 'cluster')
    const id = await engine.start(base, 'alice')
    expect(await engine.run(id)).toBe('waiting-approval')
    await approveStage(testStore.store.db, id, bob)
    expect(await engine.run(id)).toBe('succeeded')
  })
  afterAll(async () => {
    await engine?.close()
    dispose()
  })

  test('every cluster ends on the new version, every node replaced, stage by stage, with the rotation in its events', async () => {
    const before = await engine.sim.observe(clusters)
    const oldNodes = new Set(
      [...before.values()].flatMap((o) => o.nodes?.pools.flatMap((p) => p.nodes!.map((n) => n.name)) ?? []),
    )
    expect(oldNodes.size).toBeGreaterThan(clusters.length)
    upgradeEveryCluster(repo)
    const commit = await commitAll(repo, 'Kubernetes: every cluster one minor version up')
    const id = await engine.start(commit, 'alice')
    expect(await engine.run(id)).toBe('waiting-approval')
    await approveStage(testStore.store.db, id, bob)
    expect(await engine.run(id)).toBe('succeeded')

    const status = await rolloutStatus(testStore.store.db, id)
    const scheduled = status.stages.flatMap((s) => s.waves.flatMap((w) => w.targets))
    expect(scheduled.map((t) => t.id).sort()).toEqual(clusters.map((c) => c.id).sort())
    const after = await engine.sim.observe(clusters)
    const head = await engine.deps.loadRevision(commit)
    for (const cluster of clusters) {
      const version = head.clusters.get(cluster.id)!.kubernetesVersion
      const nodes = after.get(cluster.id)!.nodes!
      expect(nodes.kubernetesVersion).toBe(version)
      for (const pool of nodes.pools) {
        expect(pool.nodes!.length, `${cluster.id} ${pool.name}`).toBeGreaterThanOrEqual(pool.min)
        for (const node of pool.nodes!) {
          expect(node.version).toBe(version)
          expect(oldNodes.has(node.name)).toBe(false)
        }
      }
    }
    // The rollout says what each cluster's step did: one rotation per pool that had nodes, the
    // system pool first.
    const events = await listRolloutEvents(testStore.store.db, id)
    for (const cluster of clusters) {
      const rotations = events
        .filter((e) => e.target === cluster.id && e.type === 'provider-event')
        .map((e) => e.detail as { address: string; status: string })
        .filter((d) => d.status === 'rotation-started')
      const pools = before.get(cluster.id)!.nodes!.pools.filter((p) => p.nodes!.length > 0)
      expect(rotations.map((r) => r.address.split('/').at(-1)).sort()).toEqual(
        pools.map((p) => p.name).sort(),
      )
      expect(rotations[0]!.address).toBe(`${cluster.id}/_/NodePool/system`)
    }
    // The observed fleet now plans no node changes.
    await expect(engine.start(commit, 'alice')).rejects.toThrow('changes nothing')
  })
})
