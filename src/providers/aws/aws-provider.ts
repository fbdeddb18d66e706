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

import { randomBytes } from 'node:crypto'
import {
  type Change as CfnChange,
  type CloudFormationClient,
  CreateChangeSetCommand,
  type CreateChangeSetCommandInput,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  type DescribeStackEventsCommandOutput,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  SetStackPolicyCommand,
  type Stack,
  type StackEvent,
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
  type PreviewedChange,
  type Provider,
  ProviderError,
  type ProviderEvent,
  type RestoreReport,
  type SettleStatus,
  type SnapshotInfo,
  type StackPreview,
  type UnsettledItem,
} from '../../core/provider/port.ts'
import { withRetries } from '../../core/provider/retry.ts'
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

/** Accounts observed at once. */
const OBSERVE_CONCURRENCY = 8

/** How long to wait for CloudFormation to compute a change set. */
const CHANGE_SET_TIMEOUT_MS = 5 * 60_000

/** A stack whose events `settled` reports: the ones after `seen` (all, for a new stack). */
interface WatchedStack {
  readonly target: string
  readonly address: string
  readonly region: string
  /** The stack's id (its ARN), which also finds a deleted stack's events. */
  readonly stackId: string
  seen?: string
}

/** At most this many events are read at one look (a stack of hundreds of resources has more). */
const MAX_EVENTS_PER_LOOK = 500

/** A change set as CloudFormation computed it. */
type Computed =
  | { readonly outcome: 'computed'; readonly changes: readonly CfnChange[]; readonly stackId?: string }
  | { readonly outcome: 'no-changes' }
  | { readonly outcome: 'refused'; readonly reason: string }

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
  /** Stacks a change was started on whose events are still to be reported, by target and address. */
  private readonly watched = new Map<string, WatchedStack>()

  constructor(config: AwsConfig, db: Kysely<Database>, options: { pollMs?: number } = {}) {
    this.sessions = new AccountSessions(config)
    this.db = db
    this.pollMs = options.pollMs ?? 2000
  }

  async observe(targets: readonly Target[]): Promise<Map<string, ObservedTarget>> {
    const out = new Map<string, ObservedTarget>()
    // Accounts are read a few at a time: each is its own role, and CloudFormation throttles each
    // account on its own, so 300 accounts need not take 300 times one.
    const queue = [...targets]
    const worker = async () => {
      for (let target = queue.shift(); target; target = queue.shift())
        out.set(target.id, await this.observeTarget(target))
    }
    await Promise.all(Array.from({ length: OBSERVE_CONCURRENCY }, worker))
    // In the order asked for, whichever account answered first.
    return new Map(targets.map((t) => [t.id, out.get(t.id)!]))
  }

  private async observeTarget(target: Target): Promise<ObservedTarget> {
    if (target.kind !== 'account') return { targetId: target.id, stacks: [], manifests: [], busy: [] }
    const session = await this.session(target)
    const managed = await this.managedStacks(session, target)
    const stacks: RenderedStack[] = []
    for (const m of managed) {
      if (m.stack.StackStatus === 'REVIEW_IN_PROGRESS') continue // a change set never executed
      stacks.push(await this.rendered(session, target, m))
    }
    return {
      targetId: target.id,
      stacks,
      manifests: [],
      busy: managed.filter((m) => m.stack.StackStatus?.endsWith('_IN_PROGRESS')).map((m) => m.address),
    }
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

  async settled(target: Target, onEvent?: (event: ProviderEvent) => void): Promise<SettleStatus> {
    if (target.kind !== 'account') return { state: 'settled', items: [] }
    const session = await this.session(target)
    if (onEvent) await this.reportEvents(session, target, onEvent)
    const managed = await this.managedStacks(session, target)
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
   * Creates a change set for `desired` as `apply` would, reads what CloudFormation says it does,
   * and deletes it again — and the stack it made, for a stack that did not exist (CloudFormation
   * keeps it `REVIEW_IN_PROGRESS` otherwise). Nothing is executed.
   */
  async preview(target: Target, desired: RenderedStack, exists: boolean): Promise<StackPreview> {
    const session = await this.session(target)
    const client = session.cloudFormation(desired.region)
    const name = changeSetName('flotilla-preview')
    const created = await client
      .send(
        new CreateChangeSetCommand(
          changeSetInput(desired, target, name, exists, 'Flotilla cloud preview (never executed)'),
        ),
      )
      .catch((error: unknown) => {
        throw providerErrorOf(
          error,
          target.id,
          `cannot create a change set for ${desired.address}`,
          desired.address,
        )
      })
    try {
      const computed = await this.computed(client, target, desired, name)
      return computed.outcome === 'computed'
        ? {
            address: desired.address,
            outcome: 'previewed',
            changes: previewedChanges(desired.address, computed.changes),
          }
        : computed.outcome === 'refused'
          ? { address: desired.address, outcome: 'refused', reason: computed.reason, changes: [] }
          : { address: desired.address, outcome: 'no-changes', changes: [] }
    } finally {
      await this.discardPreview(client, target, desired, name, exists ? undefined : created.StackId)
    }
  }

  /**
   * Deletes a preview's change set and, for a new stack, the stack CloudFormation made for it —
   * by its id and only while it is still `REVIEW_IN_PROGRESS`, so a stack that meanwhile became
   * real is never touched.
   */
  private async discardPreview(
    client: CloudFormationClient,
    target: Target,
    desired: RenderedStack,
    name: string,
    reviewStackId: string | undefined,
  ): Promise<void> {
    const fail = (error: unknown): never => {
      throw providerErrorOf(
        error,
        target.id,
        `cannot delete the preview change set ${name} of ${desired.address}; delete it by hand`,
        desired.address,
      )
    }
    // Retried on its own: a throttled cleanup must not leave the change set behind, which a
    // retry of the whole preview (under a new name) would do.
    await withRetries(() =>
      client
        .send(new DeleteChangeSetCommand({ StackName: desired.stackName, ChangeSetName: name }))
        .then(() => undefined)
        .catch((error: unknown) => {
          // A change set that failed was deleted when it was read.
          if (!notFound(error)) fail(error)
        }),
    )
    if (!reviewStackId) return
    const stack = await withRetries(() =>
      client
        .send(new DescribeStacksCommand({ StackName: reviewStackId }))
        .then((out) => out.Stacks?.[0])
        .catch((error: unknown) => {
          if (notFound(error)) return undefined // gone with its change set
          return fail(error)
        }),
    )
    if (stack?.StackStatus === 'REVIEW_IN_PROGRESS')
      await withRetries(() =>
        client
          .send(new DeleteStackCommand({ StackName: reviewStackId }))
          .then(() => undefined)
          .catch(fail),
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
    const name = changeSetName('flotilla')
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
        new CreateChangeSetCommand(
          changeSetInput(desired, target, name, exists, `Flotilla ${request.revision}`),
        ),
      )
      .catch((error: unknown) => fail(error, 'cannot create a change set for'))
    const computed = await this.computed(client, target, desired, name)
    if (computed.outcome === 'no-changes') return false
    if (computed.outcome === 'refused')
      throw new ProviderError(
        'refused',
        target.id,
        `CloudFormation refused the change of ${desired.address}: ${computed.reason}`,
        desired.address,
      )
    const { changes } = computed
    const problem = this.unreviewed(desired.address, changes, reviewed, request.approvedDestruction)
    if (problem) {
      await client
        .send(new DeleteChangeSetCommand({ StackName: desired.stackName, ChangeSetName: name }))
        .catch(() => {})
      throw new ProviderError('refused', target.id, `${problem}; nothing was changed`, desired.address)
    }
    const doomedZones = new Set(
      changes
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
    // The stack's events from here on are this change's: settled() reports them as they come.
    const seen = exists ? await this.newestEventId(client, desired.stackName) : undefined
    await client
      .send(new ExecuteChangeSetCommand({ StackName: desired.stackName, ChangeSetName: name }))
      .catch((error: unknown) => fail(error, 'cannot execute the change set of'))
    this.watch(target, desired.address, desired.region, computed.stackId ?? desired.stackName, seen)
    request.onEvent?.({
      target: target.id,
      address: desired.address,
      status: exists ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS',
      message: `change set ${name} executed (${changes.length} resource changes)`,
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

  /**
   * Waits until CloudFormation computed the change set, and reads all its changes (they come in
   * pages of 100). A change set that failed is deleted: it can never run.
   */
  private async computed(
    client: CloudFormationClient,
    target: Target,
    desired: RenderedStack,
    name: string,
  ): Promise<Computed> {
    const deadline = Date.now() + CHANGE_SET_TIMEOUT_MS
    const describe = (token?: string) =>
      client
        .send(
          new DescribeChangeSetCommand({
            StackName: desired.stackName,
            ChangeSetName: name,
            ...(token ? { NextToken: token } : {}),
          }),
        )
        .catch((error: unknown) => {
          throw providerErrorOf(
            error,
            target.id,
            `cannot read the change set of ${desired.address}`,
            desired.address,
          )
        })
    for (let wait = 100; ; wait = Math.min(wait * 2, this.pollMs)) {
      const described = await describe()
      if (described.Status === 'CREATE_COMPLETE') {
        const changes = [...(described.Changes ?? [])]
        for (let token = described.NextToken; token; ) {
          const page = await describe(token)
          changes.push(...(page.Changes ?? []))
          token = page.NextToken
        }
        return { outcome: 'computed', changes, ...(described.StackId ? { stackId: described.StackId } : {}) }
      }
      if (described.Status === 'FAILED') {
        await client
          .send(new DeleteChangeSetCommand({ StackName: desired.stackName, ChangeSetName: name }))
          .catch(() => {})
        if (/didn't contain changes|no changes/i.test(described.StatusReason ?? ''))
          return { outcome: 'no-changes' }
        return { outcome: 'refused', reason: described.StatusReason ?? 'FAILED' }
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
    const seen = await this.newestEventId(client, m.stack.StackName ?? '')
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
    this.watch(target, m.address, m.region, m.stack.StackId ?? m.stack.StackName ?? '', seen)
  }

  /** Starts reporting the events of a stack a change was just started on, after `seen`. */
  private watch(target: Target, address: string, region: string, stackId: string, seen: string | undefined) {
    this.watched.set(`${target.id}\u0000${address}`, {
      target: target.id,
      address,
      region,
      stackId,
      ...(seen === undefined ? {} : { seen }),
    })
  }

  /** The id of a stack's latest event; undefined when it has none or they cannot be read. */
  private async newestEventId(client: CloudFormationClient, stackName: string): Promise<string | undefined> {
    const page = await client
      .send(new DescribeStackEventsCommand({ StackName: stackName }))
      .catch(() => undefined)
    return page?.StackEvents?.[0]?.EventId
  }

  /**
   * Reports the events of the target's watched stacks that came since the last look, oldest
   * first, and stops watching a stack once it rests. Events are for people to follow: failing to
   * read them never fails a change (`settled` decides that from the stacks' states).
   */
  private async reportEvents(
    session: AccountSession,
    target: Target,
    onEvent: (event: ProviderEvent) => void,
  ): Promise<void> {
    for (const [key, watched] of this.watched) {
      if (watched.target !== target.id) continue
      const client = session.cloudFormation(watched.region)
      const fresh: StackEvent[] = []
      let token: string | undefined
      let page: DescribeStackEventsCommandOutput | undefined
      let gone = false
      do {
        page = await client
          .send(
            new DescribeStackEventsCommand({
              StackName: watched.stackId,
              ...(token ? { NextToken: token } : {}),
            }),
          )
          .catch((error: unknown) => {
            gone = /does not exist/i.test(error instanceof Error ? error.message : String(error))
            return undefined
          })
        const events = page?.StackEvents ?? []
        const end = watched.seen === undefined ? -1 : events.findIndex((e) => e.EventId === watched.seen)
        fresh.push(...(end === -1 ? events : events.slice(0, end)))
        token = end === -1 ? page?.NextToken : undefined
      } while (token && fresh.length < MAX_EVENTS_PER_LOOK)
      if (!page) {
        // Gone (a deleted stack's events expire): stop watching. Not readable now: look again later.
        if (gone) this.watched.delete(key)
        continue
      }
      for (const event of fresh.reverse()) {
        const stackLevel =
          event.ResourceType === 'AWS::CloudFormation::Stack' && event.PhysicalResourceId === event.StackId
        onEvent({
          target: target.id,
          address: stackLevel ? watched.address : `${watched.address}/${event.LogicalResourceId ?? ''}`,
          status: event.ResourceStatus ?? 'UNKNOWN',
          message: `${event.ResourceStatus ?? 'UNKNOWN'} (${event.ResourceType ?? 'unknown type'})${event.ResourceStatusReason ? `: ${event.ResourceStatusReason}` : ''}`,
        })
      }
      const newest = fresh[fresh.length - 1]
      if (newest?.EventId) watched.seen = newest.EventId
      const last = fresh.findLast(
        (e) => e.ResourceType === 'AWS::CloudFormation::Stack' && e.PhysicalResourceId === e.StackId,
      )
      if (last?.ResourceStatus && !last.ResourceStatus.endsWith('_IN_PROGRESS')) this.watched.delete(key)
    }
  }
}

/**
 * The change set that deploys `desired`: what `apply` executes and what `preview` asks about are
 * made the same way (the tags too: a stack's tags reach its resources, so they change them).
 */
function changeSetInput(
  desired: RenderedStack,
  target: Target,
  name: string,
  exists: boolean,
  description: string,
): CreateChangeSetCommandInput {
  return {
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
    Description: description.slice(0, 1024),
  }
}

/** A change set name no other run of Flotilla uses at the same time (`[a-zA-Z][-a-zA-Z0-9]*`). */
function changeSetName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
}

/** A change set's resource changes as a preview lists them. */
function previewedChanges(stackAddress: string, changes: readonly CfnChange[]): PreviewedChange[] {
  const out: PreviewedChange[] = []
  for (const change of changes) {
    const rc = change.ResourceChange
    if (change.Type !== 'Resource' || !rc?.LogicalResourceId || !rc.Action) continue
    out.push({
      address: `${stackAddress}/${rc.LogicalResourceId}`,
      type: rc.ResourceType ?? 'unknown',
      action: rc.Action as PreviewedChange['action'],
      ...(rc.Replacement ? { replacement: rc.Replacement } : {}),
      ...(rc.PolicyAction ? { policyAction: rc.PolicyAction } : {}),
    })
  }
  return out
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

/** Whether CloudFormation says the change set or stack asked for does not exist (any more). */
function notFound(error: unknown): boolean {
  return /does not exist|ChangeSetNotFound/i.test(String((error as Error).name) + (error as Error).message)
}
