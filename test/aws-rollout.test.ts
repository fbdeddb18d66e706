/**
 * A rollout of the example fleet with its accounts on the `aws` provider: every stage, wave and
 * gate of the `sim` scenarios, the accounts' stacks applied through the AWS SDK against the
 * simulated fleet's AWS-compatible endpoint, the clusters on the simulated fleet.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { planAgainstObserved } from '../src/operations/observed-fleet.ts'
import { type AwsServer, startAwsServer } from '../src/providers/sim/aws/aws-server.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { approveStage } from '../src/rollout/controls.ts'
import { rolloutStatus, runRollout, startRollout } from '../src/rollout/engine.ts'
import { loadCommit, openRunner, type Runner } from '../src/rollout/runner.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import { commitAll, editRollout, exampleRepo, quickStages, setLogExpiry } from './support/rollout-fleet.ts'
import { simAwsProvider } from './support/sim-aws.ts'
import { NOW } from './support/sim-cli.ts'

describe.each(testBackends)('a rollout with provider aws, on %s', (backend) => {
  const testStore = useTestStore(backend)
  let repo = ''
  let dispose = () => {}
  let server: AwsServer
  let runner: Runner
  let registry: ProviderRegistry
  let commit = ''

  beforeAll(async () => {
    ;({ repo, dispose } = await exampleRepo())
    editRollout(repo, quickStages)
    const fleetYaml = join(repo, 'fleet.yaml')
    writeFileSync(fleetYaml, readFileSync(fleetYaml, 'utf8').replace(/^provider: sim/m, 'provider: aws'))
    // The clusters stay on the simulated fleet (a Kubernetes provider comes later).
    const clusters = join(repo, 'inventory', 'clusters.yaml')
    writeFileSync(
      clusters,
      readFileSync(clusters, 'utf8').replace(/^ {2}alias: /gm, '  provider: sim\n  alias: '),
    )
    commit = await commitAll(repo, 'Accounts on AWS')
    const db = testStore.store.db
    const fleet = await loadCommit(repo, commit)
    // The base credentials: a key of one of the fleet's accounts, which assumes the role in each.
    const first = fleet.targets.find((t) => t.kind === 'account')!
    const sim = new SimProvider({ db })
    await sim.updateSettings({ latencyScale: 0 })
    server = await startAwsServer({ db, sim })
    const aws = simAwsProvider(server.url, db, first.id)
    registry = new ProviderRegistry([sim, aws])
    runner = await openRunner({ repoDir: repo, db, registry, sim, settleTimeoutMs: 60_000 })
    await sim.seed(fleet.targets)
  }, 60_000)
  afterAll(async () => {
    await runner?.close()
    await server?.close()
    dispose()
  })

  test('every stage from an empty fleet: the accounts through CloudFormation change sets, gates passing, production after its approval', async () => {
    const deps = { ...runner.deps, retry: { baseMs: 50, maxMs: 500 } }
    const fleet = await deps.loadRevision(commit)
    expect(new Set(fleet.targets.filter((t) => t.kind === 'account').map((t) => t.provider))).toEqual(
      new Set(['aws']),
    )
    const started = await startRollout(deps, {
      commit,
      ref: 'main',
      approvals: [],
      actor: 'alice',
      policyNow: new Date(NOW),
    })
    expect(await runRollout(deps, started.id)).toBe('waiting-approval')
    await approveStage(deps.db, started.id, { actor: 'bob', source: 'test' })
    expect(await runRollout(deps, started.id)).toBe('succeeded')
    const status = await rolloutStatus(deps.db, started.id)
    expect(status.stages.every((s) => s.state === 'succeeded')).toBe(true)
    const stepped = status.stages.flatMap((s) => s.waves.flatMap((w) => w.targets))
    expect(stepped.every((t) => t.state === 'succeeded' && t.attempts === 1)).toBe(true)
    // What the providers observe now is what the revision says.
    const { outcome } = await planAgainstObserved(fleet, registry, deps.db, { now: new Date(NOW) })
    expect(outcome.ok && outcome.plan.verdict).toBe('no-changes')
  }, 240_000)

  test('a stack update that fails in CloudFormation halts the first stage and is rolled back there; production is not touched', async () => {
    const deps = { ...runner.deps, retry: { baseMs: 50, maxMs: 500 } }
    const base = await deps.loadRevision(commit)
    const dev = base.targets.filter((t) => t.kind === 'account' && base.stageOf.get(t.id) === 'dev')
    const production = base.targets.find((t) => t.kind === 'account' && base.stageOf.get(t.id) === 'stable')!
    const sim = registry.named('sim') as SimProvider
    await sim.addFault({ scope: { kind: 'target', id: dev[0]!.id }, kind: 'resource-failure' })
    try {
      setLogExpiry(repo, Object.fromEntries([...dev, production].map((t) => [t.id, 45])))
      const change = await commitAll(repo, 'Logs for 45 days')
      const started = await startRollout(deps, {
        commit: change,
        ref: 'main',
        approvals: [],
        actor: 'alice',
        policyNow: new Date(NOW),
      })
      expect(await runRollout(deps, started.id)).toBe('rolled-back')
      const status = await rolloutStatus(deps.db, started.id)
      expect(status.haltReason).toContain(`${dev[0]!.id}: `)
      expect(status.haltReason).toMatch(/UPDATE_ROLLBACK_COMPLETE|simulated failure/)
      const stable = status.stages.find((s) => s.name === 'stable')!
      expect(stable.waves.flatMap((w) => w.targets).every((t) => t.attempts === 0)).toBe(true)
    } finally {
      await sim.clearFaults({ scope: { kind: 'target', id: dev[0]!.id } })
    }
  }, 240_000)
})
