/**
 * `flotilla plan --cloud-preview` with the example fleet's accounts on the `aws` provider: change
 * sets made through the AWS SDK against the simulated fleet's AWS-compatible endpoint, merged
 * into the plan, deleted afterwards; disagreements found; throttling survived; concurrency bounded.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Fleet } from '../src/core/model/fleet-model.ts'
import type { Plan } from '../src/core/model/plan.ts'
import { fleetState } from '../src/core/plan/plan-fleet.ts'
import type { Provider } from '../src/core/provider/port.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { applyFleet, BOOTSTRAP_POLICY_TIME } from '../src/operations/apply-fleet.ts'
import { previewInCloud } from '../src/operations/cloud-preview.ts'
import { planAgainstObserved } from '../src/operations/observed-fleet.ts'
import { type AwsServer, startAwsServer } from '../src/providers/sim/aws/aws-server.ts'
import { simDatabase } from '../src/providers/sim/sim-database.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { loadCommit } from '../src/rollout/runner.ts'
import { DATABASE_URL_VARIABLE, openDatabase } from '../src/store/database.ts'
import { migrateToLatest } from '../src/store/migrate.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import { accountsOnAws, commitAll, exampleRepo } from './support/rollout-fleet.ts'
import { simAwsProvider } from './support/sim-aws.ts'
import { NOW, type SimFleet, simFleet, spawnCli } from './support/sim-cli.ts'

// The preview's path is the AWS SDK against the simulated endpoint, whatever store stands behind
// it: one store (PostgreSQL when there is one) is enough; the command itself runs on both below.
describe.each(testBackends.slice(-1))('plan --cloud-preview with provider aws, on %s', (backend) => {
  const testStore = useTestStore(backend)
  let repo = ''
  let dispose = () => {}
  let server: AwsServer
  let sim: SimProvider
  let aws: Provider
  let registry: ProviderRegistry
  let empty: Fleet
  const draws: number[] = []

  beforeAll(async () => {
    ;({ repo, dispose } = await exampleRepo())
    accountsOnAws(repo)
    empty = await loadCommit(repo, await commitAll(repo, 'Accounts on AWS'))
    const db = testStore.store.db
    sim = new SimProvider({ db })
    await sim.updateSettings({ latencyScale: 0 })
    // Every draw under a fault with a rate is kept: a draw under the rate is a call that failed.
    server = await startAwsServer({
      db,
      sim,
      random: () => {
        const draw = Math.random()
        draws.push(draw)
        return draw
      },
    })
    aws = simAwsProvider(server.url, db, empty.targets.find((t) => t.kind === 'account')!.id)
    registry = new ProviderRegistry([sim, aws])
    await sim.seed(empty.targets)
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    dispose()
  })

  /**
   * Plans `head` against the observed fleet and previews it in the (simulated) cloud, with
   * `before` run in between (a fault meant for the preview's calls only).
   */
  async function preview(
    head: Fleet,
    options: { concurrency?: number; registry?: ProviderRegistry; before?: () => Promise<unknown> } = {},
  ) {
    const use = options.registry ?? registry
    const { observed, outcome } = await planAgainstObserved(head, use, testStore.store.db, {
      now: BOOTSTRAP_POLICY_TIME,
    })
    if (!outcome.ok) throw new Error('invalid')
    await options.before?.()
    return previewInCloud(outcome.plan, fleetState(head), observed.state, use, {
      concurrency: options.concurrency ?? 4,
      retry: { baseMs: 20, maxMs: 200 },
    })
  }

  const changeSetsLeft = async () =>
    (await simDatabase(testStore.store.db))
      .selectFrom('sim_change_sets')
      .where('name', 'like', 'flotilla-preview-%')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
      .then((row) => Number(row.n))

  const cloudFindings = (plan: Plan) => plan.findings.filter((f) => f.rule === 'cloud-preview')

  test('an empty fleet: every stack previewed as a creation, as predicted; nothing left behind in the cloud', async () => {
    const plan = await preview(empty)
    const accounts = plan.targets.filter((t) => t.kind === 'account')
    const stacks = new Set(
      accounts.flatMap((t) => t.changes.map((c) => c.address.split('/').slice(0, 3).join('/'))),
    )
    expect(plan.cloudPreview).toMatchObject({
      stacks: stacks.size,
      accounts: accounts.length,
      disagreements: 0,
    })
    expect(plan.cloudPreview!.agreed).toBeGreaterThan(stacks.size)
    const resources = accounts
      .flatMap((t) => t.changes)
      .filter((c) => c.type !== 'AWS::CloudFormation::Stack')
    expect(resources.every((c) => c.action === 'create' && c.cloud?.action === 'Add')).toBe(true)
    expect(cloudFindings(plan)).toEqual([])
    // Change sets deleted, and the stacks CloudFormation made for them gone: nothing observed.
    expect(await changeSetsLeft()).toBe(0)
    const observed = await aws.observe(empty.targets.filter((t) => t.kind === 'account'))
    expect([...observed.values()].flatMap((o) => o.stacks)).toEqual([])
  }, 120_000)

  test('updates in place agree; a cloud that replaces what Flotilla updates in place denies, named by address', async () => {
    const bootstrap = await applyFleet({
      head: empty,
      registry,
      db: testStore.store.db,
      revision: 'bootstrap',
      now: BOOTSTRAP_POLICY_TIME,
      concurrency: 4,
      timeoutMs: 60_000,
    })
    expect(bootstrap.failed).toEqual(new Map())
    const zones = join(repo, 'stacks', 'route53-hostedzones.yaml')
    writeFileSync(
      zones,
      readFileSync(zones, 'utf8').replace('managed by Flotilla', 'managed by Flotilla (v2)'),
    )
    const head = await loadCommit(repo, await commitAll(repo, 'Zone comments'))
    const zoned = head.targets.filter(
      (t) =>
        t.kind === 'account' &&
        head.desired.get(t.id)!.stacks.some((s) => s.stackName === 'route53-hostedzones'),
    )
    expect(zoned.length).toBeGreaterThan(2)

    const agreeing = await preview(head)
    expect(cloudFindings(agreeing)).toEqual([])
    expect(agreeing.cloudPreview).toMatchObject({
      stacks: zoned.length,
      accounts: zoned.length,
      disagreements: 0,
    })
    const zoneChanges = agreeing.targets
      .flatMap((t) => t.changes)
      .filter((c) => c.type === 'AWS::Route53::HostedZone')
    expect(zoneChanges).toHaveLength(zoned.length)
    expect(zoneChanges.every((c) => c.action === 'update' && !c.mayReplace)).toBe(true)
    expect(zoneChanges.map((c) => c.cloud)).toEqual(
      zoned.map(() => ({ action: 'Modify', replacement: 'False' })),
    )
    expect(agreeing.verdict).toBe('allowed')

    const victim = zoned[0]!
    await sim.addFault({ scope: { kind: 'target', id: victim.id }, kind: 'surprise-replacement' })
    try {
      const denied = await preview(head)
      expect(denied.verdict).toBe('denied')
      const findings = cloudFindings(denied)
      expect(findings).toHaveLength(1)
      const address = `${victim.id}/global/route53-hostedzones/HostedZone`
      expect(findings[0]).toMatchObject({ effect: 'deny', addresses: [address] })
      expect(findings[0]!.message).toContain(
        'CloudFormation would replace (ReplaceAndDelete) AWS::Route53::HostedZone HostedZone of stack route53-hostedzones, which the plan shows as an update in place',
      )
      const change = denied.targets
        .find((t) => t.id === victim.id)!
        .changes.find((c) => c.address === address)
      expect(change?.cloud).toEqual({
        action: 'Modify',
        replacement: 'True',
        policyAction: 'ReplaceAndDelete',
      })
      expect(denied.cloudPreview?.disagreements).toBe(1)
      expect(await changeSetsLeft()).toBe(0)
    } finally {
      await sim.clearFaults({ scope: { kind: 'target', id: victim.id } })
    }
  }, 240_000)

  test('a change CloudFormation would refuse denies; throttled calls are retried; at most --preview-concurrency change sets at once', async () => {
    // A typo in a parameter's constraints: Flotilla does not check them, CloudFormation does.
    const roles = join(repo, 'stacks', 'iam-roles.yaml')
    const original = readFileSync(roles, 'utf8')
    writeFileSync(
      roles,
      original.replace('AllowedValues: [tier-1, tier-2, tier-3]', 'AllowedValues: [tier-1, tier-2, tier3]'),
    )
    const head = await loadCommit(repo, await commitAll(repo, 'Criticalities, with a typo'))
    const refused = head.targets
      .filter((t) => t.kind === 'account' && t.criticality === 'tier-3')
      .flatMap((t) => head.desired.get(t.id)!.stacks.filter((s) => s.stackName === 'iam-roles'))
      .map((s) => s.address)
      .sort()
    expect(refused.length).toBeGreaterThan(0)
    let inFlight = 0
    let most = 0
    const counting: Provider = {
      name: 'aws',
      observe: (targets) => aws.observe(targets),
      apply: (request) => aws.apply(request),
      settled: (target) => aws.settled(target),
      health: (target) => aws.health(target),
      snapshots: () => aws.snapshots(),
      restore: (id) => aws.restore(id),
      preview: async (target, stack, exists) => {
        most = Math.max(most, ++inFlight)
        try {
          return await aws.preview!(target, stack, exists)
        } finally {
          inFlight--
        }
      },
    }
    try {
      const plan = await preview(head, {
        concurrency: 3,
        registry: new ProviderRegistry([sim, counting]),
        before: () => sim.addFault({ scope: { kind: 'fleet' }, kind: 'throttling', rate: 0.3 }),
      })
      expect(most).toBe(3)
      const throttled = draws.filter((draw) => draw < 0.3).length
      expect(throttled).toBeGreaterThan(5) // and every throttled call was retried: nothing failed
      const findings = cloudFindings(plan)
      expect(findings).toHaveLength(1)
      expect(findings[0]!.effect).toBe('deny')
      expect(findings[0]!.message).toContain("Parameter 'Criticality' must be one of AllowedValues")
      expect(findings[0]!.addresses).toEqual(refused)
      expect(plan.verdict).toBe('denied')
      // Every other changed stack was previewed (the zones' comments of the last test too).
      const changedStacks = new Set(
        plan.targets.flatMap((t) => t.changes.map((c) => c.address.split('/').slice(0, 3).join('/'))),
      )
      expect(plan.cloudPreview!.stacks).toBe(changedStacks.size - refused.length)
    } finally {
      await sim.clearFaults({ scope: { kind: 'fleet' } })
      writeFileSync(roles, original)
      await commitAll(repo, 'Back')
    }
    expect(await changeSetsLeft()).toBe(0)
  }, 240_000)
})

describe.each(testBackends)('flotilla plan --cloud-preview, on %s', (backend) => {
  let fleet: SimFleet
  beforeAll(async () => {
    fleet = await simFleet(backend)
  }, 60_000)
  afterAll(() => fleet?.dispose())

  test('refuses --base; on the simulated fleet it says there was no cloud to ask', async () => {
    const withBase = await fleet.cli('plan', '--cloud-preview', '--base', 'HEAD')
    expect(withBase.code).toBe(1)
    expect(withBase.stderr).toContain('plan against the observed fleet (without --base)')
    const text = await fleet.cli('plan', '--cloud-preview', '--now', NOW)
    expect(text.code).toBe(2)
    expect(text.stdout).toMatch(
      /\nCloud preview: 0 stacks in 0 accounts; 0 changes as predicted, 0 disagreements; not previewed: \d+ accounts on provider sim, which has no cloud to ask\.\n/,
    )
  }, 120_000)

  // A second process shares the store only on PostgreSQL (the embedded one is locked by its user).
  test.runIf(backend === 'postgres')(
    'the command with provider aws: settings from the environment, change sets through the SDK, the JSON plan with the cloud view',
    async () => {
      accountsOnAws(fleet.repo)
      const store = await openDatabase({ kind: 'postgres', url: fleet.env[DATABASE_URL_VARIABLE]! })
      await migrateToLatest(store.db)
      const server = await startAwsServer({ db: store.db, sim: new SimProvider({ db: store.db }) })
      try {
        const account = fleet.fleet.targets.find((t) => t.kind === 'account')!
        const run = spawnCli(
          [
            'plan',
            '--cloud-preview',
            '--preview-concurrency',
            '4',
            '--format',
            'json',
            '--now',
            NOW,
            '--repo',
            fleet.repo,
          ],
          {
            ...fleet.env,
            FLOTILLA_AWS_ENDPOINT: server.url,
            AWS_REGION: 'eu-central-1',
            AWS_ACCESS_KEY_ID: `AKIA${account.id}BASE`,
            AWS_SECRET_ACCESS_KEY: 'any',
            AWS_PROFILE: undefined,
          },
        )
        const end = await run.waitForExit(120_000)
        expect(run.stderr()).not.toMatch(/error/i)
        expect(end.code).toBe(2)
        const plan = JSON.parse(run.stdout()) as Plan
        const stacks = new Set(
          plan.targets
            .filter((t) => t.kind === 'account')
            .flatMap((t) => t.changes.map((c) => c.address.split('/').slice(0, 3).join('/'))),
        )
        expect(plan.cloudPreview).toMatchObject({ stacks: stacks.size, disagreements: 0, skipped: [] })
        expect(plan.targets.flatMap((t) => t.changes).some((c) => c.cloud?.action === 'Add')).toBe(true)
      } finally {
        await server.close()
        await store.close()
      }
    },
    180_000,
  )
})
