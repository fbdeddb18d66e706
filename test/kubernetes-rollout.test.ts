/**
 * Rollouts of the example fleet with its clusters on the `kubernetes` provider, end to end: the
 * rollout engine, the provider's `@kubernetes/client-node` calls through a kubeconfig, and the
 * simulated fleet's Kubernetes-compatible API with its image registry. A container image the
 * registry lacks halts the rollout in its first stage, at once and naming the image, before any
 * target of a later stage is touched; an image pushed to the registry rolls out. The tests share
 * a store and a repository and build on each other in order.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Fleet, Target } from '../src/core/model/fleet-model.ts'
import { loadImageRegistry, pushImages } from '../src/providers/sim/kubernetes/image-registry.ts'
import { simDatabase } from '../src/providers/sim/sim-database.ts'
import { abortRollout, approveStage } from '../src/rollout/controls.ts'
import { rolloutStatus } from '../src/rollout/engine.ts'
import { git } from '../src/source/git.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import {
  clustersOnKubernetes,
  commitAll,
  type EngineHarness,
  editRollout,
  exampleRepo,
  openEngine,
  quickStages,
  type RolloutYaml,
  stageNamed,
} from './support/rollout-fleet.ts'
import { replaceOnce } from './support/sim-cli.ts'

const alice = { actor: 'alice', source: 'test' }
const bob = { actor: 'bob', source: 'test' }

/** The ingress controller's image, as `cluster/manifests/ingress-nginx/controller.yaml` renders it per channel. */
const RENDERED_IMAGE = 'registry.k8s.io/ingress-nginx/controller:{{ config.ingress_nginx_version }}'
/** A release that was never published: not in the simulated registry. */
const BAD_IMAGE = 'registry.k8s.io/ingress-nginx/controller:v1.13.0-never-pushed'
/** A release the test pushes to the simulated registry before it rolls it out. */
const GOOD_IMAGE = 'registry.k8s.io/ingress-nginx/controller:v1.13.0'

/**
 * One store, PostgreSQL when there is one: what this adds to the engine's own scenarios is the
 * kubernetes provider's path through the Kubernetes API, the same whatever store stands behind it.
 */
describe('rollouts with the clusters on the kubernetes provider', () => {
  const testStore = useTestStore(testBackends.at(-1)!)
  let repo: string
  let dispose = () => {}
  let engine: EngineHarness
  let base: string
  let fleet: Fleet
  let clusters: Target[]

  beforeAll(async () => {
    // 10 accounts and 5 clusters: one cluster in each of alpha, beta and stable, two in ops.
    ;({ repo, dispose } = await exampleRepo({ accounts: 10, clusters: 5 }))
    editRollout(repo, quickStages)
    clustersOnKubernetes(repo)
    base = await commitAll(repo, 'Rollouts without bakes and the Prometheus gate; clusters on kubernetes')
    engine = await openEngine(repo, testStore.store.db, { seedCommit: base })
    fleet = await engine.deps.loadRevision(base)
    clusters = fleet.targets.filter((t) => t.kind === 'cluster')
  })
  afterAll(async () => {
    await engine?.close()
    dispose()
  })

  const db = () => testStore.store.db
  const stageOf = (target: Target) => fleet.stageOf.get(target.id)
  /** The image of each cluster's ingress controller, as the kubernetes provider observes it. */
  const ingressImages = async (of: readonly Target[] = clusters): Promise<Record<string, string>> => {
    const seen = await engine.clusters.observe(of)
    return Object.fromEntries(
      of.map((cluster) => {
        const deployment = seen
          .get(cluster.id)
          ?.manifests.find((m) => m.component === 'ingress-nginx' && m.object.kind === 'Deployment')
        const spec = deployment?.object.spec as
          | { template: { spec: { containers: { image: string }[] } } }
          | undefined
        return [cluster.id, spec?.template.spec.containers[0]?.image ?? 'none']
      }),
    )
  }
  /** The objects of clusters as the simulated fleet stores them, with their resource versions. */
  const storedObjects = async (of: readonly Target[]) =>
    (await simDatabase(db()))
      .selectFrom('sim_objects')
      .select(['address', 'object', 'resource_version', 'uid'])
      .where(
        'cluster',
        'in',
        of.map((t) => t.id),
      )
      .orderBy('address')
      .execute()
  /** Commits the ingress controller's image for every cluster (on top of `base`'s rollout.yaml). */
  const commitImage = async (image: string, message: string, editStages?: (rollout: RolloutYaml) => void) => {
    await git(repo, [
      'checkout',
      base,
      '--',
      'rollout.yaml',
      'cluster/manifests/ingress-nginx/controller.yaml',
    ])
    replaceOnce(repo, 'cluster/manifests/ingress-nginx/controller.yaml', RENDERED_IMAGE, image)
    if (editStages) editRollout(repo, editStages)
    return commitAll(repo, message)
  }
  let before: Record<string, string>

  test('bootstraps the fleet, its clusters through the Kubernetes API', async () => {
    expect(clusters.map((t) => engine.deps.registry.forTarget(t).name)).toEqual(
      clusters.map(() => 'kubernetes'),
    )
    expect(engine.clusters.name).toBe('kubernetes')
    expect(clusters.map(stageOf).sort()).toEqual(['alpha', 'beta', 'ops', 'ops', 'stable'])
    const id = await engine.start(base, 'alice')
    expect(await engine.run(id)).toBe('waiting-approval')
    expect(await approveStage(db(), id, bob)).toBe('stable')
    expect(await engine.run(id)).toBe('succeeded')
    const status = await rolloutStatus(db(), id)
    const scheduled = status.stages.flatMap((s) => s.waves.flatMap((w) => w.targets))
    for (const cluster of clusters)
      expect(scheduled.find((t) => t.id === cluster.id)).toEqual({
        id: cluster.id,
        state: 'succeeded',
        attempts: 1,
        reason: null,
      })
    // Read back through the Kubernetes API, every cluster is what the revision renders.
    await expect(engine.start(base, 'alice')).rejects.toThrow('changes nothing')
    before = await ingressImages()
    for (const cluster of clusters) {
      expect(before[cluster.id]).toBe(
        `registry.k8s.io/ingress-nginx/controller:${String(cluster.config.ingress_nginx_version)}`,
      )
      expect(await engine.clusters.settled(cluster)).toEqual({ state: 'settled', items: [] })
    }
    const registry = await loadImageRegistry(await simDatabase(db()))
    expect(Object.values(before).every((image) => registry.has(image))).toBe(true)
    expect(registry.has(BAD_IMAGE)).toBe(false)
  })

  /**
   * Starts a rollout of `commit` and runs it until it stops; checks that it stopped in its first
   * stage (alpha) on the image, with the clusters of later stages untouched. Returns its id and
   * the alpha cluster.
   */
  const haltsInFirstStage = async (
    commit: string,
    ending: 'halted' | 'rolled-back',
    targetState: 'failed' | 'rolled-back',
  ) => {
    const later = clusters.filter((t) => stageOf(t) !== 'alpha')
    const storedBefore = await storedObjects(later)
    expect(storedBefore.length).toBeGreaterThan(later.length)
    const id = await engine.start(commit)
    expect(await engine.run(id)).toBe(ending)
    const status = await rolloutStatus(db(), id)
    expect(status.state).toBe(ending)
    expect(status.stages.map((s) => [s.name, s.state])).toEqual([
      ['alpha', 'failed'],
      ['ops', 'pending'],
      ['beta', 'pending'],
      ['stable', 'pending'],
    ])
    const [alpha, ...rest] = status.stages
    const [first] = alpha!.waves.flatMap((w) => w.targets)
    expect(alpha!.waves.flatMap((w) => w.targets)).toHaveLength(1)
    const cluster = clusters.find((t) => t.id === first!.id)!
    expect(stageOf(cluster)).toBe('alpha')
    expect(first).toMatchObject({ state: targetState, attempts: 1 })
    // Failed at once on the pull, not after waiting out the settle timeout.
    expect(first!.reason).toMatch(/^failed: /)
    expect(first!.reason).toContain(`image ${BAD_IMAGE} cannot be pulled (ImagePullBackOff)`)
    expect(status.haltReason).toMatch(
      new RegExp(`^1 target failed in stage alpha \\(tolerance 0\\): ${cluster.id}: failed: `),
    )
    expect(status.haltReason).toContain(`image ${BAD_IMAGE} cannot be pulled (ImagePullBackOff)`)
    // No target of a later stage was started, and their clusters were not written to.
    for (const stage of rest)
      for (const target of stage.waves.flatMap((w) => w.targets))
        expect(target).toEqual({ id: target.id, state: 'pending', attempts: 0, reason: null })
    expect(rest.flatMap((s) => s.waves.flatMap((w) => w.targets.map((t) => t.id))).sort()).toEqual(
      later.map((t) => t.id).sort(),
    )
    expect(await storedObjects(later)).toEqual(storedBefore)
    const laterImages = await ingressImages(later)
    for (const target of later) expect(laterImages[target.id]).toBe(before[target.id])
    return { id, cluster }
  }

  test('a bad image is rolled back in the first stage, as rollout.yaml says by default; later stages are not touched', async () => {
    const commit = await commitImage(BAD_IMAGE, 'An ingress controller that was never published')
    const { cluster } = await haltsInFirstStage(commit, 'rolled-back', 'rolled-back')
    // Rolled back: the alpha cluster runs its previous image again, and has settled.
    expect(await ingressImages([cluster])).toEqual({ [cluster.id]: before[cluster.id] })
    expect(await engine.clusters.settled(cluster)).toEqual({ state: 'settled', items: [] })
    expect((await engine.clusters.health(cluster)).healthy).toBe(true)
  })

  test('a bad image halts the first stage, naming the image; later stages are not touched', async () => {
    const commit = await commitImage(
      BAD_IMAGE,
      'The same image; the alpha stage halts on failure',
      (rollout) => {
        stageNamed(rollout, 'alpha').onFailure = 'halt'
      },
    )
    const { id, cluster } = await haltsInFirstStage(commit, 'halted', 'failed')
    // Halted, the alpha cluster is left as the failed step left it: on the image it cannot pull.
    expect(await ingressImages([cluster])).toEqual({ [cluster.id]: BAD_IMAGE })
    const settled = await engine.clusters.settled(cluster)
    expect(settled.state).toBe('failed')
    expect(settled.items.map((i) => i.reason).join('\n')).toContain(BAD_IMAGE)
    await abortRollout(db(), id, alice)
  })

  test('an image pushed to the registry rolls out through the first stage and on to production', async () => {
    expect((await loadImageRegistry(await simDatabase(db()))).has(GOOD_IMAGE)).toBe(false)
    await pushImages(await simDatabase(db()), [GOOD_IMAGE])
    expect((await loadImageRegistry(await simDatabase(db()))).has(GOOD_IMAGE)).toBe(true)
    const commit = await commitImage(GOOD_IMAGE, 'The next ingress controller, published')
    const id = await engine.start(commit)
    expect(await engine.run(id)).toBe('waiting-approval')
    const waiting = await rolloutStatus(db(), id)
    expect(waiting.stages.map((s) => [s.name, s.state])).toEqual([
      ['alpha', 'succeeded'],
      ['ops', 'succeeded'],
      ['beta', 'succeeded'],
      ['stable', 'waiting-approval'],
    ])
    const images = await ingressImages()
    for (const cluster of clusters)
      expect(images[cluster.id], cluster.id).toBe(
        stageOf(cluster) === 'stable' ? before[cluster.id] : GOOD_IMAGE,
      )
    expect(await approveStage(db(), id, bob)).toBe('stable')
    expect(await engine.run(id)).toBe('succeeded')
    expect(Object.values(await ingressImages())).toEqual(clusters.map(() => GOOD_IMAGE))
    for (const cluster of clusters) {
      expect(await engine.clusters.settled(cluster)).toEqual({ state: 'settled', items: [] })
      expect((await engine.clusters.health(cluster)).healthy).toBe(true)
    }
  })
})
