/**
 * The `aws` provider: an account's stacks through AWS CloudFormation, with the official SDK.
 *
 * - Every call runs as the deployment role of the target's own account, verified to be that
 *   account before anything is read or written (`account-sessions.ts`).
 * - A stack is only ever changed through a change set, which is checked against the reviewed
 *   plan before it runs. The cloud may not delete or replace anything the plan did not show as
 *   deleted or replaced, nor a protected resource whose destruction was not approved.
 * - Every stack it creates gets termination protection and a stack policy that denies replacing
 *   or deleting its protected resources. Only the destructions approved for one change are
 *   allowed, for that change.
 * - Stacks it manages carry the tag `flotilla:address`; other stacks in the account are left alone.
 *
 * - Before a change or a deletion destroys a hosted zone, every record set of it is copied into a
 *   snapshot (`zone-snapshots.ts`); without the copy, nothing runs.
 *
 * Not yet: moves (`MovedFrom`) are refused.
 */
import {
  type Change as CfnChange,
  type CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  type DescribeChangeSetCommandOutput,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  SetStackPolicyCommand,
  type Stack,
  UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation'
import type { Kysely } from 'kysely'
import { DiagnosticSink } from '../../core/diagnostics.ts'
import type { Target } from '../../core/model/fleet-model.ts'
import type { Change } from '../../core/plan/plan-model.ts'
import { stackFingerprint } from '../../core/provider/fingerprint.ts'
import {
  type AppliedOperation,
  type ApplyReport,
  type ApplyRequest,
  type Health,
  type ObservedTarget,
  type Provider,
  ProviderError,
  type RestoreReport,
  type SettleStatus,
  type SnapshotInfo,
  type UnsettledItem,
} from '../../core/provider/port.ts'
import type { RenderedStack } from '../../core/render/desired-state.ts'
import { toLongForm } from '../../core/yaml/cfn-tags.ts'
import { parseYamlFile } from '../../core/yaml/parse.ts'
import { listSnapshots } from '../../store/snapshots.ts'
import type { Database } from '../../store/tables.ts'
import { type AccountSession, AccountSessions } from './account-sessions.ts'
import type { AwsConfig } from './aws-config.ts'
import { providerErrorOf } from './aws-errors.ts'
import { restoreZone, snapshotZone } from './zone-snapshots.ts'

/** The tags that mark a stack as Flotilla's, and what it is to Flotilla. */
const TAG = {
  address: 'flotilla:address',
  scope: 'flotilla:scope',
  source: 'flotilla:source',
  /** The parameters Flotilla passes: CloudFormation reports the defaulted ones too. */
  parameters: 'flotilla:parameters',
} as const

/** Stack states a stack rests in after a good change. */
const GOOD = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE'])

/** How long to wait for CloudFormation to compute a change set. */
const CHANGE_SET_TIMEOUT_MS = 5 * 60_000

/** A managed stack as CloudFormation describes it. */
interface ManagedStack {
  readonly stack: Stack
  readonly address: string
  readonly region: string
}

/** See the module comment. */
export class AwsProvider implements Provider {
  readonly name = 'aws'
  private readonly sessions: AccountSessions
  private readonly db: Kysely<Database>
  private readonly pollMs: number

  constructor(config: AwsConfig, db: Kysely<Database>, options: { pollMs?: number } = {}) {
    this.sessions = new AccountSessions(config)
    this.db = db
    this.pollMs = options.pollMs ?? 2000
  }

  async observe(targets: readonly Target[]): Promise<Map<string, ObservedTarget>> {
    const out = new Map<string, ObservedTarget>()
    for (const target of targets) {
      if (target.kind !== 'account') {
        out.set(target.id, { targetId: target.id, stacks: [], manifests: [], busy: [] })
        continue
      }
      const session = await this.session(target)
      const managed = await this.managedStacks(session, target)
      const stacks: RenderedStack[] = []
      for (const m of managed) {
        if (m.stack.StackStatus === 'REVIEW_IN_PROGRESS') continue // a change set never executed
        stacks.push(await this.rendered(session, target, m))
      }
      out.set(target.id, {
        targetId: target.id,
        stacks,
        manifests: [],
        busy: managed.filter((m) => m.stack.StackStatus?.endsWith('_IN_PROGRESS')).map((m) => m.address),
      })
    }
    return out
  }

  async apply(request: ApplyRequest): Promise<ApplyReport> {
    const { target } = request
    if (target.kind !== 'account')
      throw new ProviderError(
        'invalid',
        target.id,
        `the aws provider manages accounts' stacks; cluster ${target.id} needs a Kubernetes provider`,
      )
    const session = await this.session(target)
    const managed = await this.managedStacks(session, target)
    const busy = managed.find((m) => m.stack.StackStatus?.endsWith('_IN_PROGRESS'))
    if (busy)
      throw new ProviderError(
        'busy',
        target.id,
        `stack ${busy.address} is ${busy.stack.StackStatus}`,
        busy.address,
      )
    const observed = new Map<string, RenderedStack>()
    for (const m of managed)
      if (m.stack.StackStatus !== 'REVIEW_IN_PROGRESS')
        observed.set(m.address, await this.rendered(session, target, m))
    const reviewed = request.plan?.changes ?? []
    const operations: AppliedOperation[] = []
    const snapshots: SnapshotInfo[] = []

    for (const desired of request.desired.stacks) {
      if (desired.movedFrom !== undefined && !observed.has(desired.address))
        throw new ProviderError(
          'refused',
          target.id,
          `stack ${desired.address} moves from ${desired.movedFrom}: the aws provider does not move stacks yet; nothing was changed`,
          desired.address,
        )
      const current = observed.get(desired.address)
      if (current && stackFingerprint(current) === stackFingerprint(desired)) continue
      const done = await this.changeStack(
        session,
        target,
        desired,
        current !== undefined,
        reviewed,
        request,
        snapshots,
      )
      if (done) operations.push({ address: desired.address, operation: current ? 'update' : 'create' })
    }

    const wanted = new Set(request.desired.stacks.map((s) => s.address))
    for (const m of managed) {
      if (wanted.has(m.address) || m.stack.StackStatus === 'REVIEW_IN_PROGRESS') continue
      await this.deleteStack(session, target, m, observed.get(m.address), reviewed, request, snapshots)
      operations.push({ address: m.address, operation: 'delete' })
    }
    return { operations, snapshots }
  }

  async settled(target: Target): Promise<SettleStatus> {
    if (target.kind !== 'account') return { state: 'settled', items: [] }
    const managed = await this.managedStacks(await this.session(target), target)
    const items: UnsettledItem[] = []
    let failed = false
    for (const { stack, address } of managed) {
      const status = stack.StackStatus ?? 'UNKNOWN'
      if (GOOD.has(status) || status === 'REVIEW_IN_PROGRESS') continue
      if (!status.endsWith('_IN_PROGRESS')) failed = true
      items.push({ address, status, reason: stack.StackStatusReason ?? status })
    }
    return { state: failed ? 'failed' : items.length > 0 ? 'in-progress' : 'settled', items }
  }

  async health(target: Target): Promise<Health> {
    if (target.kind !== 'account') return { healthy: true, checks: [] }
    const managed = await this.managedStacks(await this.session(target), target)
    const checks = managed
      .filter((m) => m.stack.StackStatus !== 'REVIEW_IN_PROGRESS')
      .map(({ stack, address }) => ({
        name: address,
        healthy: GOOD.has(stack.StackStatus ?? ''),
        detail: `${stack.StackStatus}${stack.StackStatusReason ? `: ${stack.StackStatusReason}` : ''}`,
      }))
    if (checks.length === 0) checks.push({ name: 'stacks', healthy: true, detail: 'nothing deployed yet' })
    return { healthy: checks.every((c) => c.healthy), checks }
  }

  snapshots(): Promise<SnapshotInfo[]> {
    return listSnapshots(this.db, this.name)
  }

  restore(snapshotId: string): Promise<RestoreReport> {
    return restoreZone(
      this.db,
      async (account, target) => (await this.sessions.forAccount(account, target)).route53,
      snapshotId,
    )
  }

  /**
   * Copies each hosted zone among `logicalIds` of a stack before it is destroyed, and says so.
   * @throws {ProviderError} when a copy cannot be made: then nothing is destroyed
   */
  private async snapshotZones(
    session: AccountSession,
    target: Target,
    stack: { address: string; stackName: string; region: string },
    logicalIds: ReadonlySet<string>,
    request: Pick<ApplyRequest, 'onEvent'>,
    snapshots: SnapshotInfo[],
  ): Promise<void> {
    if (logicalIds.size === 0) return
    const resources = await session
      .cloudFormation(stack.region)
      .send(new DescribeStackResourcesCommand({ StackName: stack.stackName }))
      .catch((error: unknown) => {
        throw providerErrorOf(
          error,
          target.id,
          `cannot list the resources of ${stack.address}`,
          stack.address,
        )
      })
    for (const resource of resources.StackResources ?? []) {
      if (
        resource.ResourceType !== 'AWS::Route53::HostedZone' ||
        !logicalIds.has(resource.LogicalResourceId ?? '')
      )
        continue
      if (!resource.PhysicalResourceId) continue // never created: nothing to copy
      const address = `${stack.address}/${resource.LogicalResourceId}`
      const snapshot = await snapshotZone(
        this.db,
        session.route53,
        { target: target.id, account: target.account, address },
        resource.PhysicalResourceId,
      )
      snapshots.push(snapshot)
      request.onEvent?.({
        target: target.id,
        address,
        status: 'snapshot-taken',
        message: `${snapshot.id}: ${snapshot.description}`,
      })
    }
  }

  private session(target: Target): Promise<AccountSession> {
    return this.sessions.forAccount(target.account, target.id)
  }

  /** The stacks Flotilla manages in the account's regions. */
  private async managedStacks(session: AccountSession, target: Target): Promise<ManagedStack[]> {
    const out: ManagedStack[] = []
    for (const region of target.regions) {
      const client = session.cloudFormation(region)
      let token: string | undefined
      do {
        const page = await client
          .send(new DescribeStacksCommand({ ...(token ? { NextToken: token } : {}) }))
          .catch((error: unknown) => {
            throw providerErrorOf(
              error,
              target.id,
              `cannot list the stacks of ${target.account} in ${region}`,
            )
          })
        for (const stack of page.Stacks ?? []) {
          const address = stack.Tags?.find((t) => t.Key === TAG.address)?.Value
          if (address?.startsWith(`${target.account}/`) && stack.StackStatus !== 'DELETE_COMPLETE')
            out.push({ stack, address, region })
        }
        token = page.NextToken
      } while (token)
    }
    return out.sort((a, b) => (a.address < b.address ? -1 : 1))
  }

  /** A managed stack as a rendered one: its template as CloudFormation has it, its parameters. */
  private async rendered(session: AccountSession, target: Target, m: ManagedStack): Promise<RenderedStack> {
    const body = await session
      .cloudFormation(m.region)
      .send(new GetTemplateCommand({ StackName: m.stack.StackName, TemplateStage: 'Original' }))
      .catch((error: unknown) => {
        throw providerErrorOf(error, target.id, `cannot read the template of ${m.address}`, m.address)
      })
    const tag = (key: string) => m.stack.Tags?.find((t) => t.Key === key)?.Value
    const passed = new Set((tag(TAG.parameters) ?? '').split(',').filter(Boolean))
    return {
      address: m.address,
      stackName: m.stack.StackName ?? '',
      region: m.region,
      scope: tag(TAG.scope) === 'global' ? 'global' : 'region',
      source: tag(TAG.source) ?? 'aws',
      parameters: Object.fromEntries(
        (m.stack.Parameters ?? [])
          .filter((p) => passed.has(p.ParameterKey ?? ''))
          .map((p) => [p.ParameterKey ?? '', p.ParameterValue ?? '']),
      ),
      template: parseTemplate(body.TemplateBody ?? '{}', target.id, m.address),
    }
  }

  /** Creates or updates one stack through a change set; false when the cloud sees nothing to change. */
  private async changeStack(
    session: AccountSession,
    target: Target,
    desired: RenderedStack,
    exists: boolean,
    reviewed: readonly Change[],
    request: ApplyRequest,
    snapshots: SnapshotInfo[],
  ): Promise<boolean> {
    const client = session.cloudFormation(desired.region)
    const name = `flotilla-${Date.now().toString(36)}`
    const fail = (error: unknown, doing: string) => {
      throw providerErrorOf(error, target.id, `${doing} ${desired.address}`, desired.address)
    }
    const protectedHere = protectedLogicalIds(reviewed, desired.address)
    const approvedHere = protectedHere.filter((id) =>
      request.approvedDestruction.has(`${desired.address}/${id}`),
    )
    if (exists)
      // Only the destructions approved for this change are allowed, for this change.
      await client
        .send(
          new SetStackPolicyCommand({
            StackName: desired.stackName,
            StackPolicyBody: stackPolicy(protectedHere.filter((id) => !approvedHere.includes(id))),
          }),
        )
        .catch((error: unknown) => fail(error, 'cannot set the stack policy of'))
    await client
      .send(
        new CreateChangeSetCommand({
          StackName: desired.stackName,
          ChangeSetName: name,
          ChangeSetType: exists ? 'UPDATE' : 'CREATE',
          TemplateBody: JSON.stringify(toLongForm(desired.template)),
          Parameters: Object.entries(desired.parameters).map(([ParameterKey, ParameterValue]) => ({
            ParameterKey,
            ParameterValue,
          })),
          Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
          Tags: [
            { Key: TAG.address, Value: desired.address },
            { Key: TAG.scope, Value: desired.scope },
            { Key: TAG.source, Value: desired.source },
            { Key: TAG.parameters, Value: parameterNames(desired, target.id) },
          ],
          Description: `Flotilla ${request.revision}`.slice(0, 1024),
        }),
      )
      .catch((error: unknown) => fail(error, 'cannot create a change set for'))
    const changeSet = await this.computed(client, target, desired, name)
    if (changeSet === 'no-changes') return false
    const problem = this.unreviewed(
      desired.address,
      changeSet.Changes ?? [],
      reviewed,
      request.approvedDestruction,
    )
    if (problem) {
      await client
        .send(new DeleteChangeSetCommand({ StackName: desired.stackName, ChangeSetName: name }))
        .catch(() => {})
      throw new ProviderError('refused', target.id, `${problem}; nothing was changed`, desired.address)
    }
    const doomedZones = new Set(
      (changeSet.Changes ?? [])
        .map((c) => c.ResourceChange)
        .filter(
          (rc) =>
            rc?.ResourceType === 'AWS::Route53::HostedZone' &&
            (rc.Action === 'Remove' || (rc.Action === 'Modify' && rc.Replacement !== 'False')),
        )
        .map((rc) => rc!.LogicalResourceId ?? ''),
    )
    try {
      await this.snapshotZones(session, target, desired, doomedZones, request, snapshots)
    } catch (error) {
      await client
        .send(new DeleteChangeSetCommand({ StackName: desired.stackName, ChangeSetName: name }))
        .catch(() => {})
      throw error
    }
    await client
      .send(new ExecuteChangeSetCommand({ StackName: desired.stackName, ChangeSetName: name }))
      .catch((error: unknown) => fail(error, 'cannot execute the change set of'))
    request.onEvent?.({
      target: target.id,
      address: desired.address,
      status: exists ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS',
      message: `change set ${name} executed (${changeSet.Changes?.length ?? 0} resource changes)`,
    })
    if (!exists) {
      // Every stack Flotilla creates is protected against deletion and against replacing or
      // deleting its protected resources by any other path than a reviewed, approved change.
      await client
        .send(
          new UpdateTerminationProtectionCommand({
            StackName: desired.stackName,
            EnableTerminationProtection: true,
          }),
        )
        .catch((error: unknown) => fail(error, 'cannot turn on termination protection of'))
      await client
        .send(
          new SetStackPolicyCommand({
            StackName: desired.stackName,
            StackPolicyBody: stackPolicy(protectedHere),
          }),
        )
        .catch((error: unknown) => fail(error, 'cannot set the stack policy of'))
    }
    return true
  }

  /** Waits until CloudFormation computed the change set. */
  private async computed(
    client: CloudFormationClient,
    target: Target,
    desired: RenderedStack,
    name: string,
  ): Promise<DescribeChangeSetCommandOutput | 'no-changes'> {
    const deadline = Date.now() + CHANGE_SET_TIMEOUT_MS
    for (let wait = 100; ; wait = Math.min(wait * 2, this.pollMs)) {
      const described = await client
        .send(new DescribeChangeSetCommand({ StackName: desired.stackName, ChangeSetName: name }))
        .catch((error: unknown) => {
          throw providerErrorOf(
            error,
            target.id,
            `cannot read the change set of ${desired.address}`,
            desired.address,
          )
        })
      if (described.Status === 'CREATE_COMPLETE') return described
      if (described.Status === 'FAILED') {
        await client
          .send(new DeleteChangeSetCommand({ StackName: desired.stackName, ChangeSetName: name }))
          .catch(() => {})
        if (/didn't contain changes|no changes/i.test(described.StatusReason ?? '')) return 'no-changes'
        throw new ProviderError(
          'refused',
          target.id,
          `CloudFormation refused the change of ${desired.address}: ${described.StatusReason ?? 'FAILED'}`,
          desired.address,
        )
      }
      if (Date.now() > deadline)
        throw new ProviderError(
          'unavailable',
          target.id,
          `the change set of ${desired.address} took too long`,
        )
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }

  /**
   * Why the cloud's change set may not run, or undefined: it deletes or may replace something the
   * plan did not show as deleted or replaced, or a protected resource not approved.
   */
  private unreviewed(
    stackAddress: string,
    changes: readonly CfnChange[],
    reviewed: readonly Change[],
    approved: ReadonlySet<string>,
  ): string | undefined {
    for (const change of changes) {
      const rc = change.ResourceChange
      if (!rc?.LogicalResourceId) continue
      const address = `${stackAddress}/${rc.LogicalResourceId}`
      const destroys = rc.Action === 'Remove' || (rc.Action === 'Modify' && rc.Replacement !== 'False')
      if (!destroys) continue
      const plan = reviewed.find((c) => c.address === address)
      const what = rc.Action === 'Remove' ? 'delete' : rc.Replacement === 'True' ? 'replace' : 'maybe replace'
      if (!plan || (plan.action !== 'delete' && plan.action !== 'replace' && !plan.mayReplace))
        return `CloudFormation would ${what} ${address} (${rc.ResourceType}), which the plan did not show: plan again`
      if (plan.protected && !approved.has(address))
        return `CloudFormation would ${what} the protected ${address} (${rc.ResourceType}), which is not approved`
    }
    return undefined
  }

  private async deleteStack(
    session: AccountSession,
    target: Target,
    m: ManagedStack,
    observed: RenderedStack | undefined,
    reviewed: readonly Change[],
    request: ApplyRequest,
    snapshots: SnapshotInfo[],
  ): Promise<void> {
    const approved = request.approvedDestruction
    const resources = Object.entries(
      (observed?.template as { Resources?: Record<string, { Type?: string }> } | undefined)?.Resources ?? {},
    )
    for (const [logicalId] of resources) {
      const address = `${m.address}/${logicalId}`
      const plan = reviewed.find((c) => c.address === address)
      const refuse = (why: string) => {
        throw new ProviderError('refused', target.id, `stack ${m.address} is not deleted: ${why}`, m.address)
      }
      if (plan?.action !== 'delete') refuse(`the plan did not show ${address} deleted`)
      if (plan?.protected && !approved.has(address))
        refuse(`deleting the protected ${address} is not approved`)
    }
    const zones = new Set(
      resources.filter(([, r]) => r.Type === 'AWS::Route53::HostedZone').map(([id]) => id),
    )
    await this.snapshotZones(
      session,
      target,
      { address: m.address, stackName: m.stack.StackName ?? '', region: m.region },
      zones,
      request,
      snapshots,
    )
    const client = session.cloudFormation(m.region)
    try {
      await client.send(
        new UpdateTerminationProtectionCommand({
          StackName: m.stack.StackName,
          EnableTerminationProtection: false,
        }),
      )
      await client.send(new DeleteStackCommand({ StackName: m.stack.StackName }))
    } catch (error) {
      throw providerErrorOf(error, target.id, `cannot delete ${m.address}`, m.address)
    }
  }
}

/** The logical ids of the protected resources of a stack, as the reviewed plan marks them. */
function protectedLogicalIds(reviewed: readonly Change[], stackAddress: string): string[] {
  return reviewed
    .filter((c) => c.protected && c.address.startsWith(`${stackAddress}/`))
    .map((c) => c.address.slice(stackAddress.length + 1))
}

/** The names of the parameters a stack is given, for its tag (tag values hold 256 characters). */
function parameterNames(stack: RenderedStack, target: string): string {
  const names = Object.keys(stack.parameters).sort().join(',')
  if (names.length > 256)
    throw new ProviderError(
      'invalid',
      target,
      `stack ${stack.address} has more parameters than the aws provider can track (their names exceed 256 characters)`,
      stack.address,
    )
  return names
}

/** A stack policy that allows every update but replacing or deleting the resources named. */
export function stackPolicy(protectedIds: readonly string[]): string {
  const statements: object[] = [{ Effect: 'Allow', Action: 'Update:*', Principal: '*', Resource: '*' }]
  if (protectedIds.length > 0)
    statements.push({
      Effect: 'Deny',
      Action: ['Update:Replace', 'Update:Delete'],
      Principal: '*',
      Resource: protectedIds.map((id) => `LogicalResourceId/${id}`),
    })
  return JSON.stringify({ Statement: statements })
}

/** A template body as CloudFormation returns it: JSON, or YAML with short tags (written by others). */
function parseTemplate(body: string, target: string, address: string): unknown {
  if (body.trimStart().startsWith('{')) return JSON.parse(body)
  const sink = new DiagnosticSink()
  const parsed = parseYamlFile(address, body, sink)
  if (!parsed || sink.errors.length > 0)
    throw new ProviderError(
      'refused',
      target,
      `the template of ${address} in CloudFormation cannot be read: ${sink.errors[0]?.message ?? 'not YAML'}`,
      address,
    )
  return toLongForm(parsed.documents[0]?.value)
}
