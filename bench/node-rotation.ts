// Rotating every node of the simulated fleet's clusters (a Kubernetes version upgrade), at zero
// latency on the embedded store: nodes rotated per second and the most pods under
// PodDisruptionBudgets that were unavailable at once, against what the budgets allow.

import type { ClusterNodes, NodePoolState } from '../src/core/model/desired-state.ts'
import type { Fleet, Target } from '../src/core/model/fleet-model.ts'
import { rotationLimits } from '../src/core/model/node-rotation.ts'
import type { SimNodeInfo } from '../src/providers/sim/kubernetes/node-pools.ts'
import { simDatabase } from '../src/providers/sim/sim-database.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { openDatabase, type StoreConfig } from '../src/store/database.ts'
import { migrateToLatest } from '../src/store/migrate.ts'

/** What one rotation run took and saw. */
export interface RotationResult {
  readonly clusters: number
  readonly nodes: number
  readonly ms: number
  readonly failed: number
  /** Over all clusters: the most budgeted pods unavailable at once in one cluster, and what its budgets allowed then. */
  readonly peakUnavailable: number
  readonly peakAllowed: number
  /** Looks at which a budget had fewer healthy pods than it needs (should be 0). */
  readonly budgetViolations: number
}

/** `nodesPerCluster` nodes in two pools: a system pool of 4 and a worker pool with the rest. */
function pools(nodesPerCluster: number, production: boolean): NodePoolState[] {
  return [
    { name: 'system', profile: 'system', instanceTypes: ['m6i.large'], min: 4, max: 8 },
    {
      name: 'default-worker',
      profile: 'worker',
      instanceTypes: [production ? 'm6i.2xlarge' : 'm6i.xlarge'],
      min: nodesPerCluster - 4,
      max: nodesPerCluster * 2,
    },
  ]
}

/**
 * Seeds every ready cluster of `fleet` on Kubernetes 1.31 with its share of `totalNodes` nodes,
 * applies its manifests, then times upgrading all of them to 1.32, `concurrency` clusters at a time.
 */
export async function rotateFleet(
  fleet: Fleet,
  config: StoreConfig,
  totalNodes: number,
  concurrency: number,
  /**
   * The simulator's pace. Above 0, the simulator runs on a virtual clock that each look at a
   * cluster moves on by half a second: boots and pod starts take their simulated time, which is
   * what makes budgets matter, without the benchmark waiting for them. @default 0
   */
  latencyScale = 0,
): Promise<RotationResult> {
  const store = await openDatabase(config)
  try {
    await migrateToLatest(store.db)
    let clock = Date.parse('2026-11-10T10:00:00Z')
    const sim = new SimProvider({ db: store.db, now: () => new Date(clock) })
    await sim.updateSettings({ latencyScale })
    const clusters = fleet.targets.filter((t) => t.kind === 'cluster' && t.lifecycle === 'ready')
    const nodesPerCluster = Math.ceil(totalNodes / clusters.length)
    const shapes = new Map(
      clusters.map((c) => [
        c.id,
        { kubernetesVersion: '1.31', nodePools: pools(nodesPerCluster, c.environment === 'production') },
      ]),
    )
    await sim.seed(fleet.targets, shapes)
    const desiredOf = (cluster: Target, version: string): ClusterNodes => ({
      kubernetesVersion: version,
      pools: shapes.get(cluster.id)!.nodePools,
      rotation: rotationLimits(fleet.settings.nodeRotation, cluster.environment),
    })
    const applyAll = async (version: string) => {
      let next = 0
      let failed = 0
      const worker = async () => {
        while (next < clusters.length) {
          const cluster = clusters[next++]!
          const desired = fleet.desired.get(cluster.id)!
          await sim.apply({
            target: cluster,
            desired: { ...desired, nodes: desiredOf(cluster, version) },
            plan: undefined,
            approvedDestruction: new Set(),
            revision: version,
          })
          for (let look = 0; ; look++) {
            const status = await sim.settled(cluster)
            clock += latencyScale > 0 ? 500 : 0
            if (status.state === 'failed') failed++
            if (status.state !== 'in-progress') break
            if (look > 10_000)
              throw new Error(`${cluster.id} does not settle: ${JSON.stringify(status.items)}`)
          }
        }
      }
      await Promise.all(Array.from({ length: concurrency }, worker))
      return failed
    }
    await applyAll('1.31')
    // Every cluster's pods exist and run before the upgrade (observing runs the controllers).
    await sim.observe(clusters)
    if (latencyScale > 0) {
      // …and have started: a minute later every pod is ready.
      clock += 60_000
      await sim.observe(clusters)
    }
    const start = performance.now()
    const failed = await applyAll('1.32')
    const ms = performance.now() - start
    const rows = await (await simDatabase(store.db))
      .selectFrom('sim_targets')
      .select('info')
      .where('kind', '=', 'cluster')
      .execute()
    let peakUnavailable = 0
    let peakAllowed = 0
    let budgetViolations = 0
    let nodes = 0
    for (const row of rows) {
      const rotation = (row.info as unknown as SimNodeInfo).rotation
      if (!rotation) continue
      nodes += rotation.nodesRemoved
      budgetViolations += rotation.budgetViolations
      if (rotation.peakUnavailable >= peakUnavailable) {
        peakUnavailable = rotation.peakUnavailable
        peakAllowed = rotation.peakAllowed
      }
    }
    return {
      clusters: clusters.length,
      nodes,
      ms,
      failed,
      peakUnavailable,
      peakAllowed,
      budgetViolations,
    }
  } finally {
    await store.close()
  }
}
