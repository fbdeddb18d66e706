/**
 * The `aws` provider end to end: the example fleet's stacks, with `provider: aws`, applied through
 * the official AWS SDK against the simulated fleet's AWS-compatible endpoint — the same code that
 * runs against real accounts, on both stores.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  CloudFormationClient,
  DescribeStacksCommand,
  GetStackPolicyCommand,
} from '@aws-sdk/client-cloudformation'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Fleet, Target } from '../src/core/model/fleet-model.ts'
import { parseApproval } from '../src/core/policy/approvals.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { applyTarget } from '../src/operations/apply-target.ts'
import { planAgainstObserved } from '../src/operations/observed-fleet.ts'
import { AwsProvider } from '../src/providers/aws/aws-provider.ts'
import { type AwsServer, startAwsServer } from '../src/providers/sim/aws/aws-server.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { loadCommit } from '../src/rollout/runner.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import { commitAll, exampleRepo, setLogExpiry } from './support/rollout-fleet.ts'
import { NOW } from './support/sim-cli.ts'

describe.each(testBackends)('the aws provider against the simulated AWS endpoint, on %s', (backend) => {
  const testStore = useTestStore(backend)
  let repo = ''
  let dispose = () => {}
  let server: AwsServer
  let sim: SimProvider
  let aws: AwsProvider
  let fleet: Fleet
  let account: Target
  let other: Target

  const providerFor = (roleArn: string) =>
    new AwsProvider(
      {
        roleArn,
        region: 'eu-central-1',
        endpoint: server.url,
        // The base credentials: a key of another account, which assumes the role in each.
        credentials: { accessKeyId: `AKIA${other.id}BASE`, secretAccessKey: 'any' },
        maxAttempts: 6,
      },
      { pollMs: 20 },
    )
  const apply = (target: Target, provider: AwsProvider = aws, head: Fleet = fleet) =>
    applyTarget({
      head,
      target,
      registry: new ProviderRegistry([sim, provider]),
      db: testStore.store.db,
      revision: 'test',
      now: new Date(NOW),
      actor: 'test',
      pollMs: 20,
      timeoutMs: 20_000,
      retry: { attempts: 6, baseMs: 10, maxMs: 100 },
    })
  const cfn = () =>
    new CloudFormationClient({
      region: account.regions[0]!,
      endpoint: server.url,
      credentials: { accessKeyId: account.id, secretAccessKey: 'any' },
    })

  beforeAll(async () => {
    ;({ repo, dispose } = await exampleRepo())
    const path = join(repo, 'fleet.yaml')
    writeFileSync(path, readFileSync(path, 'utf8').replace(/^provider: sim/m, 'provider: aws'))
    fleet = await loadCommit(repo, await commitAll(repo, 'Every target on AWS'))
    const withZone = (t: Target) =>
      fleet.desired.get(t.id)!.stacks.some((s) => s.stackName === 'route53-hostedzones')
    const accounts = fleet.targets.filter((t) => t.kind === 'account' && t.lifecycle === 'active')
    account = accounts.find((t) => t.environment === 'production' && t.group !== 'ops' && withZone(t))!
    other = accounts.find((t) => t.id !== account.id)!
    sim = new SimProvider({ db: testStore.store.db })
    await sim.updateSettings({ latencyScale: 0 })
    // Accounts of provider aws are seeded too: the endpoint knows them.
    await sim.seed(fleet.targets)
    expect(await sim.serviceStates()).not.toEqual([])
    server = await startAwsServer({ db: testStore.store.db, sim })
    aws = providerFor('arn:aws:iam::{account}:role/flotilla-deployer')
  })
  afterAll(async () => {
    await server?.close()
    dispose()
  })

  test('creates every stack of an account through change sets; observed back, the plan has nothing left to change', async () => {
    expect(account.provider).toBe('aws')
    const result = await apply(account)
    expect(result.outcome, result.reason).toBe('applied')
    const desired = fleet.desired.get(account.id)!.stacks
    expect(result.report!.operations).toEqual(
      desired.map((s) => ({ address: s.address, operation: 'create' })),
    )
    expect(result.health?.healthy).toBe(true)

    const described = await cfn().send(new DescribeStacksCommand({}))
    const zoneStack = described.Stacks!.find((s) => s.StackName === 'route53-hostedzones')!
    expect(zoneStack.StackStatus).toBe('CREATE_COMPLETE')
    expect(zoneStack.EnableTerminationProtection).toBe(true)
    expect(zoneStack.Tags).toContainEqual({ Key: 'flotilla:scope', Value: 'global' })
    const policy = await cfn().send(new GetStackPolicyCommand({ StackName: 'route53-hostedzones' }))
    expect(JSON.parse(policy.StackPolicyBody!).Statement).toContainEqual({
      Effect: 'Deny',
      Action: ['Update:Replace', 'Update:Delete'],
      Principal: '*',
      Resource: expect.arrayContaining(['LogicalResourceId/HostedZone', 'LogicalResourceId/Certificate']),
    })

    const { outcome } = await planAgainstObserved(
      fleet,
      new ProviderRegistry([sim, aws]),
      testStore.store.db,
      {
        include: (t) => t.id === account.id,
        now: new Date(NOW),
      },
    )
    expect(outcome.ok && outcome.plan.verdict).toBe('no-changes')
    expect((await apply(account)).outcome).toBe('no-changes')
  })

  test('updates in place through a change set, and survives throttling', async () => {
    await sim.addFault({ scope: { kind: 'target', id: account.id }, kind: 'throttling', rate: 0.3 })
    try {
      setLogExpiry(repo, { [account.id]: 90 })
      const head = await loadCommit(repo, await commitAll(repo, 'Logs for 90 days'))
      const result = await apply(account, aws, head)
      expect(result.outcome, result.reason).toBe('applied')
      expect(result.report!.operations.map((o) => o.operation)).toEqual(expect.arrayContaining(['update']))
      fleet = head
    } finally {
      await sim.clearFaults({ scope: { kind: 'target', id: account.id } })
    }
  })

  test('refuses to act for an account whose credentials are another account’s, before any write', async () => {
    const wrong = providerFor(`arn:aws:iam::${other.id}:role/flotilla-deployer`)
    // Refused when it first reads the account, before the plan: nothing was read, nothing written.
    await expect(apply(account, wrong)).rejects.toThrow(
      `the credentials for account ${account.id} (role arn:aws:iam::${other.id}:role/flotilla-deployer) are those of account ${other.id}`,
    )
    const inOther = new CloudFormationClient({
      region: account.regions[0]!,
      endpoint: server.url,
      credentials: { accessKeyId: other.id, secretAccessKey: 'any' },
    })
    expect((await inOther.send(new DescribeStacksCommand({}))).Stacks ?? []).toEqual([])
  })

  test('a hosted zone is never replaced while the provider cannot snapshot it, even approved', async () => {
    const domain = String(account.config.dns_domain)
    const file = join(repo, account.at.file)
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(`dns_domain: ${domain}`, `dns_domain: moved-${domain}`),
    )
    const head = await loadCommit(repo, await commitAll(repo, 'A new zone'))
    const zone = `${account.id}/global/route53-hostedzones/HostedZone`
    const certificate = `${account.id}/global/route53-hostedzones/Certificate`
    const result = await applyTarget({
      head,
      target: head.targets.find((t) => t.id === account.id)!,
      registry: new ProviderRegistry([sim, aws]),
      db: testStore.store.db,
      revision: 'test',
      now: new Date(NOW),
      actor: 'test',
      approvals: [zone, certificate].map(parseApproval),
      pollMs: 20,
      timeoutMs: 20_000,
    })
    expect(result.outcome, result.reason).toBe('failed')
    expect(result.reason).toContain(`the hosted zone ${zone}, and the aws provider cannot snapshot zones yet`)
    const described = await cfn().send(new DescribeStacksCommand({ StackName: 'route53-hostedzones' }))
    expect(described.Stacks![0]!.StackStatus).not.toMatch(/IN_PROGRESS|ROLLBACK/)
  })
})
