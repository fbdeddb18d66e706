/**
 * How `apply` changes one stack: creates or updates it through a change set checked against the
 * reviewed plan, or deletes it when the plan deletes every resource of it — taking a snapshot of
 * each hosted zone first. Every stack Flotilla creates gets termination protection and a stack
 * policy that denies replacing or deleting its protected resources; only the destructions approved
 * for one change are allowed, for that change.
 *
 * An aborted `signal` stops a change before it runs (the change set is left unexecuted), never
 * halfway through what must follow it: executing a change set and protecting the new stack, or
 * lifting the termination protection and deleting the stack, run to their end.
 */
import {
  type Change as CfnChange,
  CreateChangeSetCommand,
  DeleteStackCommand,
  DescribeStackResourcesCommand,
  ExecuteChangeSetCommand,
  SetStackPolicyCommand,
  UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation'
import type { Kysely } from 'kysely'
import type { RenderedStack } from '../../core/model/desired-state.ts'
import type { Target } from '../../core/model/fleet-model.ts'
import type { Change } from '../../core/model/plan.ts'
import { type ApplyRequest, ProviderError, type SnapshotInfo } from '../../core/provider/port.ts'
import type { Database } from '../../store/tables.ts'
import type { AccountSession } from './account-sessions.ts'
import { sendOptions } from './aws-calls.ts'
import { providerErrorOf } from './aws-errors.ts'
import { changeSetInput, changeSetName, computedChangeSet, dropChangeSet } from './change-sets.ts'
import type { ManagedStack } from './managed-stacks.ts'
import { newestEventId, type StackEventWatch } from './stack-events.ts'
import { snapshotZone } from './zone-snapshots.ts'

/** What changing the stacks of one target works with. */
export interface StackChangeContext {
  readonly db: Kysely<Database>
  readonly session: AccountSession
  readonly target: Target
  readonly request: ApplyRequest
  /** The reviewed changes of the target (the plan's). */
  readonly reviewed: readonly Change[]
  /** Receives each snapshot taken. */
  readonly snapshots: SnapshotInfo[]
  /** Reports the events of each stack a change was started on. */
  readonly events: StackEventWatch
  /** The longest wait between looks at a change set being computed. */
  readonly pollMs: number
}

/** Creates or updates one stack through a change set; false when the cloud sees nothing to change. */
export async function changeStack(
  context: StackChangeContext,
  desired: RenderedStack,
  exists: boolean,
): Promise<boolean> {
  const { session, target, request, reviewed } = context
  const signal = request.signal
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
        sendOptions(signal),
      )
      .catch((error: unknown) => fail(error, 'cannot set the stack policy of'))
  await client
    .send(
      new CreateChangeSetCommand(
        changeSetInput(desired, target, name, exists, `Flotilla ${request.revision}`),
      ),
      sendOptions(signal),
    )
    .catch((error: unknown) => fail(error, 'cannot create a change set for'))
  // Stopped before it runs, a change set is deleted again: one left behind never runs, but
  // nobody should have to find it there.
  const dropIfAborted = async (error: unknown): Promise<never> => {
    if (signal?.aborted) await dropChangeSet(client, desired, name)
    throw error
  }
  const computed = await computedChangeSet(client, target, desired, name, {
    pollMs: context.pollMs,
    signal,
  }).catch(dropIfAborted)
  if (computed.outcome === 'no-changes') return false
  if (computed.outcome === 'refused')
    throw new ProviderError(
      'refused',
      target.id,
      `CloudFormation refused the change of ${desired.address}: ${computed.reason}`,
      desired.address,
    )
  const { changes } = computed
  const problem = unreviewedDestruction(desired.address, changes, reviewed, request.approvedDestruction)
  if (problem) {
    await dropChangeSet(client, desired, name)
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
    await snapshotZones(context, desired, doomedZones)
  } catch (error) {
    await dropChangeSet(client, desired, name)
    throw error
  }
  // The stack's events from here on are this change's: settled() reports them as they come.
  const seen = exists ? await newestEventId(client, desired.stackName, signal) : undefined
  if (signal?.aborted) await dropIfAborted(signal.reason)
  await executeAndProtect(context, desired, name, {
    exists,
    seen,
    stackId: computed.stackId,
    changes,
    protectedHere,
  })
  return true
}

/**
 * Executes the change set and, for a new stack, protects it. Not cut short by the signal: a new
 * stack must never be left without its protection.
 */
async function executeAndProtect(
  context: StackChangeContext,
  desired: RenderedStack,
  name: string,
  change: {
    readonly exists: boolean
    readonly seen: string | undefined
    readonly stackId: string | undefined
    readonly changes: readonly CfnChange[]
    readonly protectedHere: readonly string[]
  },
): Promise<void> {
  const { session, target, request } = context
  const client = session.cloudFormation(desired.region)
  const fail = (error: unknown, doing: string): never => {
    throw providerErrorOf(error, target.id, `${doing} ${desired.address}`, desired.address)
  }
  await client
    .send(new ExecuteChangeSetCommand({ StackName: desired.stackName, ChangeSetName: name }))
    .catch((error: unknown) => fail(error, 'cannot execute the change set of'))
  context.events.watch(
    target,
    desired.address,
    desired.region,
    change.stackId ?? desired.stackName,
    change.seen,
  )
  request.onEvent?.({
    target: target.id,
    address: desired.address,
    status: change.exists ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS',
    message: `change set ${name} executed (${change.changes.length} resource changes)`,
  })
  if (!change.exists) {
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
          StackPolicyBody: stackPolicy(change.protectedHere),
        }),
      )
      .catch((error: unknown) => fail(error, 'cannot set the stack policy of'))
  }
}

/**
 * Deletes a managed stack that is no longer wanted, when the reviewed plan deletes every resource
 * of it (and the protected ones are approved), after a snapshot of each of its hosted zones.
 */
export async function deleteStack(
  context: StackChangeContext,
  m: ManagedStack,
  observed: RenderedStack | undefined,
): Promise<void> {
  const { session, target, request, reviewed } = context
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
    if (plan?.protected && !approved.has(address)) refuse(`deleting the protected ${address} is not approved`)
  }
  const zones = new Set(resources.filter(([, r]) => r.Type === 'AWS::Route53::HostedZone').map(([id]) => id))
  await snapshotZones(
    context,
    { address: m.address, stackName: m.stack.StackName ?? '', region: m.region },
    zones,
  )
  const client = session.cloudFormation(m.region)
  const seen = await newestEventId(client, m.stack.StackName ?? '', request.signal)
  request.signal?.throwIfAborted()
  // From here not cut short: a stack whose termination protection was lifted is deleted too.
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
  context.events.watch(target, m.address, m.region, m.stack.StackId ?? m.stack.StackName ?? '', seen)
}

/**
 * Why the cloud's change set may not run, or undefined: it deletes or may replace something the
 * plan did not show as deleted or replaced, or a protected resource not approved.
 */
function unreviewedDestruction(
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

/**
 * Copies each hosted zone among `logicalIds` of a stack before it is destroyed, and says so.
 * @throws {ProviderError} when a copy cannot be made: then nothing is destroyed
 */
async function snapshotZones(
  context: StackChangeContext,
  stack: { address: string; stackName: string; region: string },
  logicalIds: ReadonlySet<string>,
): Promise<void> {
  if (logicalIds.size === 0) return
  const { session, target, request } = context
  const resources = await session
    .cloudFormation(stack.region)
    .send(new DescribeStackResourcesCommand({ StackName: stack.stackName }), sendOptions(request.signal))
    .catch((error: unknown) => {
      throw providerErrorOf(error, target.id, `cannot list the resources of ${stack.address}`, stack.address)
    })
  for (const resource of resources.StackResources ?? []) {
    if (
      resource.ResourceType !== 'AWS::Route53::HostedZone' ||
      !logicalIds.has(resource.LogicalResourceId ?? '')
    )
      continue
    if (!resource.PhysicalResourceId) continue // never created: nothing to copy
    request.signal?.throwIfAborted()
    const address = `${stack.address}/${resource.LogicalResourceId}`
    const snapshot = await snapshotZone(
      context.db,
      session.route53,
      { target: target.id, account: target.account, address },
      resource.PhysicalResourceId,
      request.signal,
    )
    context.snapshots.push(snapshot)
    request.onEvent?.({
      target: target.id,
      address,
      status: 'snapshot-taken',
      message: `${snapshot.id}: ${snapshot.description}`,
    })
  }
}

/** The logical ids of the protected resources of a stack, as the reviewed plan marks them. */
function protectedLogicalIds(reviewed: readonly Change[], stackAddress: string): string[] {
  return reviewed
    .filter((c) => c.protected && c.address.startsWith(`${stackAddress}/`))
    .map((c) => c.address.slice(stackAddress.length + 1))
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
