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
import {
  ChangeResourceRecordSetsCommand,
  ListHostedZonesByNameCommand,
  Route53Client,
} from '@aws-sdk/client-route-53'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Fleet, Target } from '../src/core/model/fleet-model.ts'
import { type Approval, parseApproval } from '../src/core/policy/approvals.ts'
import { operatorClock } from '../src/core/policy/policy-time.ts'
import type { ProviderEvent } from '../src/core/provider/port.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { applyTarget } from '../src/operations/apply-target.ts'
import { planAgainstObserved } from '../src/operations/observed-fleet.ts'
import type { AwsProvider } from '../src/providers/aws/aws-provider.ts'
import { type AwsServer, startAwsServer } from '../src/providers/sim/aws/aws-server.ts'
import { queryZones } from '../src/providers/sim/dns-server.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { loadCommit } from '../src/rollout/runner.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import { commitAll, exampleRepo, setLogExpiry } from './support/rollout-fleet.ts'
import { simAwsProvider } from './support/sim-aws.ts'
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

  const providerFor = (roleArn: string) => simAwsProvider(server.url, testStore.store.db, other.id, roleArn)
  const apply = (
    target: Target,
    provider: AwsProvider = aws,
    head: Fleet = fleet,
    approvals: Approval[] = [],
    events: ProviderEvent[] = [],
  ) =>
    applyTarget({
      onEvent: (event) => events.push(event),
      head,
      target,
      approvals,
      registry: new ProviderRegistry([sim, provider]),
      db: testStore.store.db,
      revision: 'test',
      clock: operatorClock(new Date(NOW)),
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
    // Which calls a fault with a rate fails: one draw in six falls under the throttling test's rate,
    // so calls are throttled, and a call's retries (six attempts, backing off while other calls
    // draw) are never all throttled — as with Math.random they were, now and then, on a busy CI.
    let draw = 0
    const draws = [0.1, 0.5, 0.6, 0.7, 0.8, 0.9]
    server = await startAwsServer({
      db: testStore.store.db,
      sim,
      random: () => draws[draw++ % draws.length]!,
    })
    aws = providerFor('arn:aws:iam::{account}:role/flotilla-deployer')
  })
  afterAll(async () => {
    await server?.close()
    dispose()
  })

  test('creates every stack of an account through change sets; observed back, the plan has nothing left to change', async () => {
    expect(account.provider).toBe('aws')
    const events: ProviderEvent[] = []
    const result = await apply(account, aws, fleet, [], events)
    expect(result.outcome, result.reason).toBe('applied')
    const desired = fleet.desired.get(account.id)!.stacks
    // CloudFormation's stack events were reported as they came, each stack's ending complete.
    for (const stack of desired) {
      const own = events.filter((e) => e.address === stack.address).map((e) => e.status)
      expect(own[0], stack.address).toBe('CREATE_IN_PROGRESS')
      expect(own.at(-1), stack.address).toBe('CREATE_COMPLETE')
    }
    expect(
      events.some(
        (e) =>
          e.address ===
          `${desired[0]!.address}/${Object.keys((desired[0]!.template as { Resources: object }).Resources)[0]}`,
      ),
    ).toBe(true)
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
      const events: ProviderEvent[] = []
      const result = await apply(account, aws, head, [], events)
      expect(result.outcome, result.reason).toBe('applied')
      expect(result.report!.operations.map((o) => o.operation)).toEqual(expect.arrayContaining(['update']))
      // Only this update's events: none of the stack's creation again.
      const updated = result.report!.operations.find((o) => o.operation === 'update')!.address
      const own = events.filter((e) => e.address === updated).map((e) => e.status)
      expect(own.filter((s) => s.startsWith('CREATE_'))).toEqual([])
      expect(own).toContain('UPDATE_COMPLETE')
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

  test('a zone destroyed with approval is copied first, with the records external-dns wrote, and restored once its stack is back', async () => {
    const domain = String(account.config.dns_domain)
    const route53 = new Route53Client({
      region: 'us-east-1',
      endpoint: server.url,
      credentials: { accessKeyId: account.id, secretAccessKey: 'any' },
    })
    const zoneNamed = async () =>
      (await route53.send(new ListHostedZonesByNameCommand({ DNSName: `${domain}.` }))).HostedZones?.find(
        (z) => z.Name === `${domain}.`,
      )
    // What external-dns of the account's cluster writes: records that are in no template.
    const shop = `shop.kube-1.${domain}`
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: (await zoneNamed())!.Id,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: `${shop}.`,
                Type: 'A',
                TTL: 300,
                ResourceRecords: [{ Value: '203.0.113.9' }],
              },
            },
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: `${shop}.`,
                Type: 'TXT',
                TTL: 300,
                ResourceRecords: [{ Value: '"heritage=external-dns,external-dns/owner=kube-1"' }],
              },
            },
          ],
        },
      }),
    )
    // A new domain for the account: its zone is replaced, the old one destroyed.
    const file = join(repo, account.at.file)
    const before = readFileSync(file, 'utf8')
    const approvalsOf = async (head: Fleet) => {
      const planned = await planAgainstObserved(head, new ProviderRegistry([sim, aws]), testStore.store.db, {
        include: (t) => t.id === account.id,
        now: new Date(NOW),
      })
      if (!planned.outcome.ok) throw new Error('the plan is invalid')
      expect(planned.outcome.plan.verdict).toBe('requires-approval')
      return planned.outcome.plan.approvalsRequired.map(parseApproval)
    }
    writeFileSync(file, before.replace(`dns_domain: ${domain}`, `dns_domain: moved-${domain}`))
    const head = await loadCommit(repo, await commitAll(repo, `A new domain for ${account.name}`))
    const target = (f: Fleet) => f.targets.find((t) => t.id === account.id)!
    const moved = await apply(target(head), aws, head, await approvalsOf(head))
    expect(moved.outcome, moved.reason).toBe('applied')
    const [snapshot] = moved.report!.snapshots
    expect(snapshot).toMatchObject({
      provider: 'aws',
      address: `${account.id}/global/route53-hostedzones/HostedZone`,
      description: expect.stringMatching(
        new RegExp(`^zone ${domain}\\. with [2-9] record sets besides SOA and NS$`),
      ),
    })
    expect(await zoneNamed()).toBeUndefined()
    expect(queryZones(await sim.zones(), shop).rcode).not.toBe('NOERROR')
    expect((await aws.snapshots()).map((s) => s.id)).toContain(snapshot!.id)
    // Restoring needs the zone: until its stack has it again, it says so.
    await expect(aws.restore(snapshot!.id)).rejects.toThrow(
      `the zone ${domain}. does not exist in account ${account.id}`,
    )

    writeFileSync(file, before)
    const back = await loadCommit(repo, await commitAll(repo, `${account.name} back on its domain`))
    const returned = await apply(target(back), aws, back, await approvalsOf(back))
    expect(returned.outcome, returned.reason).toBe('applied')
    expect(queryZones(await sim.zones(), shop).rcode).not.toBe('NOERROR') // a new, empty zone
    const restored = await aws.restore(snapshot!.id)
    expect(restored.description).toMatch(new RegExp(`^[2-9] record sets written back into ${domain}\\.`))
    expect(queryZones(await sim.zones(), shop)).toEqual({ rcode: 'NOERROR', answers: ['203.0.113.9'] })
    fleet = back
  })

  test('a stack that the reviewed plan does not show deleted is never deleted, whatever the desired state says', async () => {
    const target = fleet.targets.find((t) => t.id === account.id)!
    const desired = fleet.desired.get(account.id)!
    // A desired state without the zone stack, but a plan that reviewed no deletion.
    const request = {
      target,
      desired: { ...desired, stacks: desired.stacks.filter((s) => s.stackName !== 'route53-hostedzones') },
      plan: undefined,
      approvedDestruction: new Set<string>(),
      revision: 'test',
    }
    await expect(aws.apply(request)).rejects.toThrow(
      `stack ${account.id}/global/route53-hostedzones is not deleted: the plan did not show ${account.id}/global/route53-hostedzones/`,
    )
    const described = await cfn().send(new DescribeStacksCommand({ StackName: 'route53-hostedzones' }))
    expect(described.Stacks![0]!.StackStatus).toMatch(/_COMPLETE$/)
  })
})
