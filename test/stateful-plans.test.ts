import { describe, expect, test } from 'vitest'
import { formatDiagnostic } from '../src/core/diagnostics.ts'
import { loadFleet } from '../src/core/load/load-fleet.ts'
import type { Fleet } from '../src/core/model/fleet-model.ts'
import type { Change, Plan } from '../src/core/model/plan.ts'
import { memorySource } from '../src/core/model/source.ts'
import { fleetState, planFleet } from '../src/core/plan/plan-fleet.ts'
import { parseApproval } from '../src/core/policy/approvals.ts'
import { policyRegistry } from '../src/core/policy/policy-rules.ts'
import { generateExampleFleet } from '../src/example/generate-example.ts'

/**
 * What stateful means, on the example fleet (`flotilla init --example`, 20 accounts): a stack of
 * data and identity (one resource of each class the issue names, and a topic that holds nothing)
 * in every application account, and the edits that would destroy what it holds.
 */
const DATA = 'stacks/app-data.yaml'
const DATA_STACK = `AWSTemplateFormatVersion: "2010-09-09"
Description: What an application keeps, per account
Metadata:
  StackName: app-data
  Scope: { Type: global }
  Select: account.group != 'ops'
Resources:
  Database:
    Type: AWS::RDS::DBCluster
    Properties:
      DBClusterIdentifier: "{{ account.name }}-db"
      Engine: aurora-postgresql
      ManageMasterUserPassword: true
      MasterUsername: app
  Documents:
    Type: AWS::DocDB::DBCluster
    Properties:
      DBClusterIdentifier: "{{ account.name }}-docs"
      MasterUsername: app
  Graph:
    Type: AWS::Neptune::DBCluster
    Properties:
      DBClusterIdentifier: "{{ account.name }}-graph"
  Sessions:
    Type: AWS::DynamoDB::GlobalTable
    Properties:
      TableName: "{{ account.name }}-sessions"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
      Replicas: [{ Region: eu-central-1 }]
  Files:
    Type: AWS::EFS::FileSystem
    Properties:
      Encrypted: true
      PerformanceMode: generalPurpose
  Users:
    Type: AWS::Cognito::UserPool
    Properties:
      UserPoolName: "{{ account.name }}-users"
  Credentials:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: "{{ account.name }}/api"
  Key:
    Type: AWS::KMS::Key
    Properties:
      Description: Application data
      KeySpec: SYMMETRIC_DEFAULT
  Events:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: "{{ account.name }}-events"
      ShardCount: 1
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ account.name }}-jobs"
      VisibilityTimeout: 30
  Search:
    Type: AWS::OpenSearchService::Domain
    Properties:
      DomainName: "{{ account.name }}"
  Broker:
    Type: AWS::AmazonMQ::Broker
    Properties:
      BrokerName: "{{ account.name }}-mq"
      DeploymentMode: SINGLE_INSTANCE
      EngineType: ACTIVEMQ
      HostInstanceType: mq.t3.micro
      PubliclyAccessible: false
      Users: [{ Username: app, Password: "{{resolve:secretsmanager:mq-app}}" }]
  Audit:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: "/{{ account.name }}/audit"
      RetentionInDays: 365
  Notifications:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: "{{ account.name }}-notifications"
`

const example = generateExampleFleet({ accounts: 20, clusters: 0 })
const BASE = new Map([...example, [DATA, DATA_STACK]])

function load(files: ReadonlyMap<string, string>): Fleet {
  const result = loadFleet(memorySource(files))
  if (!result.ok) expect.fail(result.errors.map(formatDiagnostic).join('\n'))
  return result.fleet
}

const baseFleet = load(BASE)
const baseState = fleetState(baseFleet)

/** Plans the base (the example with the data stack) against the data stack as `edit` leaves it. */
function planEdit(edit: (text: string) => string, approve: readonly string[] = []): Plan {
  const text = edit(DATA_STACK)
  expect(text, 'the edit changed nothing').not.toBe(DATA_STACK)
  const head = load(new Map([...BASE, [DATA, text]]))
  const outcome = planFleet({
    base: baseState,
    head: fleetState(head),
    limits: head.settings.limits,
    protect: head.settings.protect,
    rules: policyRegistry(head),
    // A Tuesday outside the example's Cyber Week freeze: these plans are about the built-in rules.
    now: new Date('2026-11-10T10:00:00Z'),
    approvals: approve.map(parseApproval),
  })
  if (!outcome.ok) expect.fail(outcome.errors.map(formatDiagnostic).join('\n'))
  return outcome.plan
}

const changes = (plan: Plan): Change[] => plan.targets.flatMap((t) => t.changes)
const finding = (plan: Plan, rule: string) => plan.findings.find((f) => f.rule === rule)

/** Removes the resource `name` (its whole block) from the data stack. */
function withoutResource(name: string): (text: string) => string {
  return (text) => text.replace(new RegExp(`\\n  ${name}:\\n(    .*\\n)+`), '\n')
}

const accountsWithStack = [...baseFleet.desired.values()].filter((d) =>
  d.stacks.some((s) => s.address.endsWith('/global/app-data')),
).length

describe('every type that holds data or identity is protected, on the example fleet', () => {
  test('the data stack reaches the application accounts, more of them than the delete budget', () => {
    expect(accountsWithStack).toBeGreaterThan(baseFleet.settings.limits.maxDeletes)
  })

  test.each([
    ['Database', 'AWS::RDS::DBCluster'],
    ['Documents', 'AWS::DocDB::DBCluster'],
    ['Graph', 'AWS::Neptune::DBCluster'],
    ['Sessions', 'AWS::DynamoDB::GlobalTable'],
    ['Files', 'AWS::EFS::FileSystem'],
    ['Users', 'AWS::Cognito::UserPool'],
    ['Credentials', 'AWS::SecretsManager::Secret'],
    ['Key', 'AWS::KMS::Key'],
    ['Events', 'AWS::Kinesis::Stream'],
    ['Jobs', 'AWS::SQS::Queue'],
    ['Search', 'AWS::OpenSearchService::Domain'],
    ['Broker', 'AWS::AmazonMQ::Broker'],
    ['Audit', 'AWS::Logs::LogGroup'],
  ])('deleting %s (%s) in every account needs an approval of each address', (name, type) => {
    const plan = planEdit(withoutResource(name))
    const deleted = changes(plan).filter((c) => c.action === 'delete')
    expect(deleted.length).toBe(accountsWithStack)
    expect(deleted.every((c) => c.type === type && c.protected)).toBe(true)
    expect(plan.verdict).toBe('requires-approval')
    const destroy = finding(plan, 'protected-destroy')!
    expect(destroy.message).toContain(`${accountsWithStack} × ${type}`)
    expect([...destroy.addresses].sort()).toEqual(deleted.map((c) => c.address).sort())
    expect(plan.summary.protectedDestroyed).toBe(accountsWithStack)
    // Approved address by address (and, that many deletions being over the budget, by the
    // budget's pattern with its count), the plan goes through.
    const budget = finding(plan, 'delete-budget')
    expect(budget?.pattern?.expectedCount).toBe(accountsWithStack)
    expect(planEdit(withoutResource(name), destroy.addresses).approvals!.unmet).toEqual([
      `*/global/app-data/${name} (expected ${accountsWithStack})`,
    ])
    const approvals = [...destroy.addresses, `*/global/app-data/${name} (expected ${accountsWithStack})`]
    expect(planEdit(withoutResource(name), approvals).verdict).toBe('allowed')
  })

  test('a topic holds nothing: deleting it in every account needs no protected-destroy approval', () => {
    const plan = planEdit(withoutResource('Notifications'))
    expect(changes(plan).filter((c) => c.action === 'delete')).toHaveLength(accountsWithStack)
    expect(finding(plan, 'protected-destroy')).toBeUndefined()
  })

  test('an in-place update of a stateful resource is shown as protected and needs nothing', () => {
    const plan = planEdit((t) => t.replace('VisibilityTimeout: 30', 'VisibilityTimeout: 60'))
    const updated = changes(plan)
    expect(updated.length).toBe(accountsWithStack)
    expect(updated.every((c) => c.action === 'update' && c.protected && !c.mayReplace)).toBe(true)
    expect(plan.verdict).toBe('allowed')
  })
})

describe('delete-budget counts replacements, on the example fleet', () => {
  // Renaming the queue and the secret replaces both in every account: 2 × accounts deletions.
  const rename = (t: string) =>
    t
      .replace('"{{ account.name }}-jobs"', '"{{ account.name }}-work"')
      .replace('"{{ account.name }}/api"', '"{{ account.name }}/api-v2"')

  test('replacing resources in every account spends the budget: a pattern approval with the exact count', () => {
    const plan = planEdit(rename)
    const replaced = changes(plan).filter((c) => c.action === 'replace')
    expect(replaced.length).toBe(2 * accountsWithStack)
    expect(replaced.length).toBeGreaterThan(baseFleet.settings.limits.maxDeletes)
    const budget = finding(plan, 'delete-budget')!
    expect(budget.effect).toBe('require-approval')
    expect(budget.pattern).toEqual({ glob: '*/global/app-data/*', expectedCount: replaced.length })
    expect(budget.message).toBe(
      `${replaced.length} deletions in one plan (all replacements), more than limits.maxDeletes (${baseFleet.settings.limits.maxDeletes}); approve them with the pattern "*/global/app-data/*" and the exact count ${replaced.length}, or split the change`,
    )
    expect(plan.approvalsRequired).toContain(`*/global/app-data/* (expected ${replaced.length})`)
    expect(finding(plan, 'protected-destroy')!.addresses).toHaveLength(replaced.length)

    // The pattern spends the budget; each protected replacement still needs its exact address.
    const pattern = `*/global/app-data/* (expected ${replaced.length})`
    const byPattern = planEdit(rename, [pattern])
    expect(byPattern.verdict).toBe('requires-approval')
    expect([...byPattern.approvals!.unmet].sort()).toEqual(replaced.map((c) => c.address).sort())
    expect(finding(byPattern, 'approval-not-exact')).toMatchObject({ effect: 'warn' })
    expect(planEdit(rename, [pattern, ...replaced.map((c) => c.address)]).verdict).toBe('allowed')
    const wrong = planEdit(rename, [`*/global/app-data/* (expected ${replaced.length - 1})`])
    expect(wrong.verdict).toBe('denied')
    expect(finding(wrong, 'approval-mismatch')).toBeDefined()
  })

  test('one replacement per account: the budget fires exactly when the replacements exceed it', () => {
    const few = planEdit((t) => t.replace('"{{ account.name }}-jobs"', '"{{ account.name }}-work"'))
    const replaced = changes(few).filter((c) => c.action === 'replace').length
    expect(replaced).toBe(accountsWithStack)
    expect(finding(few, 'delete-budget') === undefined).toBe(replaced <= baseFleet.settings.limits.maxDeletes)
  })

  test('the budget pattern also matching a protected resource that may be replaced still approves with its count', () => {
    // A new master user name may replace the database cluster (the specification says
    // "conditional"): protected-destroy holds the clusters, but they are not deletions for the budget.
    const edit = (t: string) =>
      rename(t).replace('MasterUsername: app\n  Documents', 'MasterUsername: admin\n  Documents')
    const plan = planEdit(edit)
    const clusters = changes(plan).filter((c) => c.type === 'AWS::RDS::DBCluster')
    expect(clusters).toHaveLength(accountsWithStack)
    expect(clusters.every((c) => c.action === 'update' && c.mayReplace && c.protected)).toBe(true)
    const budget = finding(plan, 'delete-budget')!
    expect(budget.addresses).toHaveLength(2 * accountsWithStack)
    const pattern = `*/global/app-data/* (expected ${budget.addresses.length})`
    const approved = planEdit(edit, [pattern])
    expect(approved.findings.filter((f) => f.effect === 'deny')).toEqual([])
    // The clusters and the protected replacements the budget counts need their exact addresses.
    const protectedDestroyed = finding(plan, 'protected-destroy')!.addresses
    expect(protectedDestroyed).toEqual(expect.arrayContaining(clusters.map((c) => c.address)))
    expect([...approved.approvals!.unmet].sort()).toEqual([...protectedDestroyed].sort())
    expect(planEdit(edit, [pattern, ...protectedDestroyed]).verdict).toBe('allowed')
  })
})
