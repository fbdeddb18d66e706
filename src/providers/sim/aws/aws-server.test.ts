import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  ListStacksCommand,
  SetStackPolicyCommand,
  UpdateTerminationProtectionCommand,
  waitUntilStackCreateComplete,
  waitUntilStackDeleteComplete,
  waitUntilStackUpdateComplete,
} from '@aws-sdk/client-cloudformation'
import {
  ChangeResourceRecordSetsCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53'
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testBackends, useTestStore } from '../../../store/test-store.ts'
import { queryZones } from '../dns-server.ts'
import { simDatabase } from '../sim-database.ts'
import { SimProvider } from '../sim-provider.ts'
import { type AwsServer, startAwsServer } from './aws-server.ts'

const REGION = 'eu-central-1'
const ACCOUNT = '111111111111'
const OTHER = '222222222222'

/** A stack with a hosted zone (its name a parameter) and a record set in it. */
function zoneTemplate(ttl = 300): string {
  return JSON.stringify({
    Description: 'zone of the API test',
    Parameters: { Domain: { Type: 'String' } },
    Resources: {
      Zone: { Type: 'AWS::Route53::HostedZone', Properties: { Name: { Ref: 'Domain' } } },
      Www: {
        Type: 'AWS::Route53::RecordSet',
        Properties: {
          HostedZoneId: { Ref: 'Zone' },
          Name: { 'Fn::Sub': 'www.${Domain}' },
          Type: 'A',
          TTL: ttl,
          ResourceRecords: ['192.0.2.10'],
        },
      },
    },
    Outputs: { ZoneId: { Value: { Ref: 'Zone' } } },
  })
}

/** Waiters poll each second at most for this long; the simulated operations take well under it. */
const WAIT = { minDelay: 1, maxDelay: 1, maxWaitTime: 30 }

describe.each(testBackends)('the simulated AWS endpoint on %s', (backend) => {
  const test = useTestStore(backend)
  let server: AwsServer
  let sim: SimProvider
  /** What the server's fault rates draw next; 0.99 (no fault fires below rate 0.99) once used up. */
  const draws: number[] = []

  beforeAll(async () => {
    sim = new SimProvider({ db: test.store.db })
    // Fast enough for a test, slow enough that CREATE_IN_PROGRESS is seen before it settles.
    await sim.updateSettings({ latencyScale: 0.2 })
    const info = (regions: string[]) =>
      JSON.stringify({ regions, environment: 'production', group: 'shop', services: [] })
    await (await simDatabase(test.store.db))
      .insertInto('sim_targets')
      .values([
        { id: ACCOUNT, kind: 'account', name: 'team-a', account: ACCOUNT, info: info([REGION]) },
        { id: OTHER, kind: 'account', name: 'team-b', account: OTHER, info: info([REGION]) },
      ])
      .execute()
    server = await startAwsServer({
      db: test.store.db,
      sim,
      host: '127.0.0.1',
      random: () => draws.shift() ?? 0.99,
    })
  })
  afterAll(async () => {
    await server?.close()
  })

  const config = (accessKeyId: string, sessionToken?: string, maxAttempts = 3) => ({
    endpoint: server.url,
    region: REGION,
    maxAttempts,
    credentials: { accessKeyId, secretAccessKey: 'any-secret', ...(sessionToken ? { sessionToken } : {}) },
  })
  const cfn = (key = ACCOUNT, maxAttempts = 3) =>
    new CloudFormationClient(config(key, undefined, maxAttempts))

  async function createStack(name: string, domain: string): Promise<void> {
    const client = cfn()
    await client.send(
      new CreateChangeSetCommand({
        StackName: name,
        ChangeSetName: 'create',
        ChangeSetType: 'CREATE',
        TemplateBody: zoneTemplate(),
        Parameters: [{ ParameterKey: 'Domain', ParameterValue: domain }],
      }),
    )
    await client.send(new ExecuteChangeSetCommand({ StackName: name, ChangeSetName: 'create' }))
    await waitUntilStackCreateComplete({ client, ...WAIT }, { StackName: name })
  }

  async function changeDomain(name: string, changeSet: string, domain: string, ttl = 300) {
    const client = cfn()
    await client.send(
      new CreateChangeSetCommand({
        StackName: name,
        ChangeSetName: changeSet,
        ChangeSetType: 'UPDATE',
        TemplateBody: zoneTemplate(ttl),
        Parameters: [{ ParameterKey: 'Domain', ParameterValue: domain }],
      }),
    )
    return client.send(new DescribeChangeSetCommand({ StackName: name, ChangeSetName: changeSet }))
  }

  it('creates a stack through a CREATE change set, which settles as the simulator settles it', async () => {
    const client = cfn()
    const created = await client.send(
      new CreateChangeSetCommand({
        StackName: 'dns',
        ChangeSetName: 'first',
        ChangeSetType: 'CREATE',
        TemplateBody: zoneTemplate(),
        Parameters: [{ ParameterKey: 'Domain', ParameterValue: 'api.example.org' }],
      }),
    )
    expect(created.Id).toMatch(/^arn:aws:cloudformation:eu-central-1:111111111111:changeSet\/first\//)
    const described = await client.send(
      new DescribeChangeSetCommand({ StackName: 'dns', ChangeSetName: 'first' }),
    )
    expect(described.Status).toBe('CREATE_COMPLETE')
    expect(described.ExecutionStatus).toBe('AVAILABLE')
    expect(described.StackId).toBe(created.StackId)
    expect(
      described.Changes?.map((c) => [c.ResourceChange?.Action, c.ResourceChange?.LogicalResourceId]),
    ).toEqual([
      ['Add', 'Www'],
      ['Add', 'Zone'],
    ])
    const review = await client.send(new DescribeStacksCommand({ StackName: 'dns' }))
    expect(review.Stacks?.[0]?.StackStatus).toBe('REVIEW_IN_PROGRESS')

    await client.send(new ExecuteChangeSetCommand({ StackName: 'dns', ChangeSetName: 'first' }))
    const started = await client.send(new DescribeStacksCommand({ StackName: 'dns' }))
    expect(started.Stacks?.[0]?.StackStatus).toBe('CREATE_IN_PROGRESS')
    expect(started.Stacks?.[0]?.StackId).toBe(created.StackId)
    await waitUntilStackCreateComplete({ client, ...WAIT }, { StackName: 'dns' })

    const stack = (await client.send(new DescribeStacksCommand({ StackName: 'dns' }))).Stacks?.[0]
    expect(stack?.StackStatus).toBe('CREATE_COMPLETE')
    expect(stack?.EnableTerminationProtection).toBe(false)
    expect(stack?.Parameters).toEqual([{ ParameterKey: 'Domain', ParameterValue: 'api.example.org' }])
    expect(stack?.Outputs?.[0]?.OutputValue).toMatch(/^Z[A-Z0-9]{13}$/)
    // The simulator's own view: the same stack, complete, and its zone answering DNS.
    expect((await sim.status()).stacks).toMatchObject({ CREATE_COMPLETE: 1 })
    expect(queryZones(await sim.zones(), 'www.api.example.org').answers).toEqual(['192.0.2.10'])
    const done = await client.send(new DescribeChangeSetCommand({ StackName: 'dns', ChangeSetName: 'first' }))
    expect(done.ExecutionStatus).toBe('EXECUTE_COMPLETE')

    const events = await client.send(new DescribeStackEventsCommand({ StackName: 'dns' }))
    const statuses = (events.StackEvents ?? []).map((e) => `${e.LogicalResourceId} ${e.ResourceStatus}`)
    expect(statuses[0]).toBe('dns CREATE_COMPLETE')
    expect(statuses).toContain('Zone CREATE_COMPLETE')
    expect(statuses).toContain('dns CREATE_IN_PROGRESS')

    const template = await client.send(new GetTemplateCommand({ StackName: 'dns' }))
    expect(JSON.parse(template.TemplateBody ?? '{}')).toEqual(JSON.parse(zoneTemplate()))
    const listed = await client.send(new ListStacksCommand({ StackStatusFilter: ['CREATE_COMPLETE'] }))
    expect(listed.StackSummaries?.map((s) => s.StackName)).toEqual(['dns'])
  })

  it('describes an UPDATE change set with the replacement the resource schemas decide', async () => {
    await createStack('update-me', 'update.example.org')
    const described = await changeDomain('update-me', 'rename', 'renamed.example.org', 60)
    const changes = Object.fromEntries(
      (described.Changes ?? []).map((c) => [c.ResourceChange?.LogicalResourceId, c.ResourceChange]),
    )
    // HostedZone.Name is immutable: the zone is replaced; the record's TTL is not.
    expect(changes.Zone).toMatchObject({
      Action: 'Modify',
      Replacement: 'True',
      PolicyAction: 'ReplaceAndDelete',
      ResourceType: 'AWS::Route53::HostedZone',
      Scope: ['Properties'],
    })
    expect(changes.Zone?.Details?.[0]?.Target).toMatchObject({ Name: 'Name', RequiresRecreation: 'Always' })
    expect(changes.Www).toMatchObject({ Action: 'Modify', ResourceType: 'AWS::Route53::RecordSet' })
    expect(changes.Www?.PhysicalResourceId).toMatch(/^Www-/)

    const client = cfn()
    await client.send(new ExecuteChangeSetCommand({ StackName: 'update-me', ChangeSetName: 'rename' }))
    await waitUntilStackUpdateComplete({ client, ...WAIT }, { StackName: 'update-me' })
    const zones = await sim.zones()
    expect(queryZones(zones, 'www.renamed.example.org').answers).toEqual(['192.0.2.10'])
    expect(queryZones(zones, 'www.update.example.org').rcode).toBe('REFUSED')

    const unchanged = await changeDomain('update-me', 'nothing', 'renamed.example.org', 60)
    expect(unchanged.Status).toBe('FAILED')
    expect(unchanged.StatusReason).toMatch(/didn't contain changes/)
  })

  it('refuses DeleteStack under termination protection, and deletes once it is off', async () => {
    await createStack('protected', 'protected.example.org')
    const client = cfn()
    await client.send(
      new UpdateTerminationProtectionCommand({ StackName: 'protected', EnableTerminationProtection: true }),
    )
    await expect(client.send(new DeleteStackCommand({ StackName: 'protected' }))).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'Stack [protected] cannot be deleted while TerminationProtection is enabled',
      $metadata: { httpStatusCode: 400 },
    })
    expect(
      (await client.send(new DescribeStacksCommand({ StackName: 'protected' }))).Stacks?.[0]?.StackStatus,
    ).toBe('CREATE_COMPLETE')
    await client.send(
      new UpdateTerminationProtectionCommand({ StackName: 'protected', EnableTerminationProtection: false }),
    )
    await client.send(new DeleteStackCommand({ StackName: 'protected' }))
    await waitUntilStackDeleteComplete({ client, ...WAIT }, { StackName: 'protected' })
    expect(queryZones(await sim.zones(), 'www.protected.example.org').rcode).toBe('REFUSED')
  })

  it('enforces a stack policy that denies replacing a resource', async () => {
    await createStack('guarded', 'guarded.example.org')
    const client = cfn()
    await client.send(
      new SetStackPolicyCommand({
        StackName: 'guarded',
        StackPolicyBody: JSON.stringify({
          Statement: [
            { Effect: 'Allow', Action: 'Update:*', Principal: '*', Resource: '*' },
            {
              Effect: 'Deny',
              Action: ['Update:Replace', 'Update:Delete'],
              Principal: '*',
              Resource: 'LogicalResourceId/Zone',
            },
          ],
        }),
      }),
    )
    await changeDomain('guarded', 'replace-zone', 'elsewhere.example.org')
    await client.send(new ExecuteChangeSetCommand({ StackName: 'guarded', ChangeSetName: 'replace-zone' }))
    const stack = (await client.send(new DescribeStacksCommand({ StackName: 'guarded' }))).Stacks?.[0]
    expect(stack?.StackStatus).toBe('UPDATE_ROLLBACK_COMPLETE')
    expect(stack?.StackStatusReason).toMatch(
      /Action denied by stack policy.*Update:Replace.*LogicalResourceId\/Zone/,
    )
    const events = await client.send(new DescribeStackEventsCommand({ StackName: 'guarded' }))
    expect(events.StackEvents?.find((e) => e.ResourceStatus === 'UPDATE_FAILED')?.LogicalResourceId).toBe(
      'Zone',
    )
    // Nothing was replaced: the zone still answers under its name.
    expect(queryZones(await sim.zones(), 'www.guarded.example.org').answers).toEqual(['192.0.2.10'])
    // A change the policy allows still goes through.
    await changeDomain('guarded', 'ttl-only', 'guarded.example.org', 120)
    await client.send(new ExecuteChangeSetCommand({ StackName: 'guarded', ChangeSetName: 'ttl-only' }))
    await waitUntilStackUpdateComplete({ client, ...WAIT }, { StackName: 'guarded' })
  })

  it('lists a zone by name, its records, and changes them as the DNS server then answers', async () => {
    await createStack('records', 'records.example.org')
    const route53 = new Route53Client(config(ACCOUNT))
    const listed = await route53.send(new ListHostedZonesByNameCommand({ DNSName: 'records.example.org' }))
    const zone = listed.HostedZones?.[0]
    expect(zone?.Name).toBe('records.example.org.')
    const zoneId = zone!.Id!
    expect(zoneId).toMatch(/^\/hostedzone\/Z/)
    expect(
      (await route53.send(new GetHostedZoneCommand({ Id: zoneId }))).DelegationSet?.NameServers,
    ).toHaveLength(2)
    const records = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))
    expect(records.ResourceRecordSets?.map((r) => `${r.Name} ${r.Type}`)).toEqual([
      'records.example.org. NS',
      'records.example.org. SOA',
      'www.records.example.org. A',
    ])

    const api = {
      Name: 'api.records.example.org',
      Type: 'A' as const,
      TTL: 60,
      ResourceRecords: [{ Value: '192.0.2.20' }],
    }
    const changed = await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: api }] },
      }),
    )
    expect(changed.ChangeInfo?.Status).toBe('INSYNC')
    expect(queryZones(await sim.zones(), 'api.records.example.org').answers).toEqual(['192.0.2.20'])

    await expect(
      route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: api }] },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidChangeBatch', message: expect.stringMatching(/already exists/) })
    await expect(
      route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Changes: [
              { Action: 'DELETE', ResourceRecordSet: { ...api, ResourceRecords: [{ Value: '192.0.2.99' }] } },
            ],
          },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidChangeBatch', message: expect.stringMatching(/do not match/) })
    await expect(
      route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: {
            Changes: [{ Action: 'UPSERT', ResourceRecordSet: { ...api, Name: 'api.elsewhere.example.com' } }],
          },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidChangeBatch',
      message: expect.stringMatching(/not permitted in zone/),
    })

    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            { Action: 'DELETE', ResourceRecordSet: api },
            { Action: 'UPSERT', ResourceRecordSet: { ...api, Name: 'shop.records.example.org' } },
          ],
        },
      }),
    )
    const zones = await sim.zones()
    expect(queryZones(zones, 'api.records.example.org').rcode).toBe('NXDOMAIN')
    expect(queryZones(zones, 'shop.records.example.org').answers).toEqual(['192.0.2.20'])
    // Another account does not see the zone.
    const other = new Route53Client(config(OTHER))
    await expect(other.send(new GetHostedZoneCommand({ Id: zoneId }))).rejects.toMatchObject({
      name: 'NoSuchHostedZone',
      $metadata: { httpStatusCode: 404 },
    })
  })

  it('assumes a role in another account and calls as that account', async () => {
    const sts = new STSClient(config(`AKIA${ACCOUNT}TEST`))
    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe(ACCOUNT)
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${OTHER}:role/flotilla-deploy`,
        RoleSessionName: 'rollout-1',
      }),
    )
    const credentials = assumed.Credentials!
    expect(credentials.AccessKeyId).toMatch(new RegExp(`^ASIA${OTHER}`))
    expect(assumed.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${OTHER}:assumed-role/flotilla-deploy/rollout-1`)
    const asOther = config(credentials.AccessKeyId!, credentials.SessionToken!)
    const identity = await new STSClient(asOther).send(new GetCallerIdentityCommand({}))
    expect(identity).toMatchObject({
      Account: OTHER,
      Arn: `arn:aws:sts::${OTHER}:assumed-role/flotilla-deploy/rollout-1`,
    })
    // The other account has none of the first one's stacks.
    const stacks = await new CloudFormationClient(asOther).send(new ListStacksCommand({}))
    expect(stacks.StackSummaries ?? []).toEqual([])
    // Without its session token the temporary key is refused.
    await expect(
      new STSClient(config(credentials.AccessKeyId!)).send(new GetCallerIdentityCommand({})),
    ).rejects.toMatchObject({ name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } })
  })

  it('refuses an account the simulated fleet does not have', async () => {
    await expect(cfn('999999999999').send(new ListStacksCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
      message: expect.stringMatching(/account 999999999999 is not an account of the simulated fleet/),
      $metadata: { httpStatusCode: 403 },
    })
    await expect(cfn('not-an-account').send(new ListStacksCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
    })
    await expect(
      new STSClient(config(ACCOUNT)).send(
        new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::999999999999:role/x', RoleSessionName: 'nope' }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })
  })

  it('throttles under a throttling fault, and the SDK retries', async () => {
    const added = await sim.addFault({
      scope: { kind: 'target', id: ACCOUNT },
      kind: 'throttling',
      rate: 0.5,
    })
    try {
      // The first call draws below the rate (throttled), the retry above it.
      draws.push(0.1)
      const retried = await cfn(ACCOUNT, 3).send(new ListStacksCommand({}))
      expect(retried.$metadata.attempts).toBe(2)
      draws.push(0.1, 0.1)
      const error = await cfn(ACCOUNT, 2)
        .send(new ListStacksCommand({}))
        .catch((e: unknown) => e)
      expect(error).toMatchObject({
        name: 'Throttling',
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400, attempts: 2 },
      })
      // Another account is not under the fault.
      draws.push(0.1)
      expect((await cfn(OTHER, 1).send(new ListStacksCommand({}))).$metadata.attempts).toBe(1)
    } finally {
      await sim.clearFaults({ id: added.fault!.id })
      draws.length = 0
    }
  }, 20_000)
})
