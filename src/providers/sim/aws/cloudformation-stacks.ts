/**
 * The simulated CloudFormation's stack actions: DescribeStacks, DescribeStackEvents, ListStacks,
 * GetTemplate, DescribeStackResources, DeleteStack.
 */
import { STACK_TYPE } from '../../../core/plan/diff-stacks.ts'
import { evaluateIntrinsics } from '../intrinsics.ts'
import {
  deleteOperation,
  parameterDefaults,
  type SimStack,
  stackEventsSince,
  startOperations,
} from '../sim-stacks.ts'
import type { AwsCall } from './aws-call.ts'
import { validationError } from './aws-errors.ts'
import {
  findStack,
  isStack,
  listParam,
  nameOf,
  operationMs,
  required,
  stackId,
  stackRow,
  stacksInRegion,
} from './cloudformation-call.ts'

import {
  deleteChangeSetsOf,
  deleteReviewChangeSets,
  findChangeSet,
  reviewStacks,
} from './cloudformation-change-sets.ts'
import { members, type XmlObject } from './xml.ts'

export async function describeStacks(call: AwsCall): Promise<XmlObject> {
  await call.sim.settle()
  const name = call.params.get('StackName')
  const stacks =
    name === undefined ? await stacksInRegion(call) : [await findStack(call, name)].filter(isStack)
  const reviews = await reviewStacks(call, name === undefined ? undefined : nameOf(name))
  if (name !== undefined && stacks.length === 0 && reviews.length === 0)
    throw validationError(`Stack with id ${name} does not exist`)
  const rendered: XmlObject[] = []
  for (const stack of stacks) rendered.push(await renderStack(call, stack))
  return { Stacks: members([...rendered, ...reviews.map((review) => review.rendered)]) }
}

export async function renderStack(call: AwsCall, stack: SimStack): Promise<XmlObject> {
  const row = await stackRow(call, stack.address)
  const template = stack.pending?.operation === 'create' ? stack.pending.template : stack.template
  const parameters = stack.pending?.operation === 'create' ? stack.pending.parameters : stack.parameters
  return {
    StackId: stackId(call, stack),
    StackName: stack.stackName,
    Description: typeof template.Description === 'string' ? template.Description : undefined,
    Parameters: members(
      Object.entries({ ...parameterDefaults(template), ...parameters }).map(([key, value]) => ({
        ParameterKey: key,
        ParameterValue: value,
      })),
    ),
    CreationTime: row.created_at,
    LastUpdatedTime: row.updated_at,
    StackStatus: stack.status,
    StackStatusReason: stack.statusReason || undefined,
    DisableRollback: false,
    Outputs: members(outputsOf(call, stack)),
    EnableTerminationProtection: stack.terminationProtection,
    Tags: members(row.tags as XmlObject[]),
    DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
  }
}

/** The template's outputs, where the simulator can evaluate them (skipped where it cannot). */
export function outputsOf(call: AwsCall, stack: SimStack): XmlObject[] {
  const outputs = (stack.template.Outputs ?? {}) as Record<string, { Value?: unknown; Description?: unknown }>
  const context = {
    accountId: call.account.id,
    region: stack.region,
    stackName: stack.stackName,
    parameters: { ...parameterDefaults(stack.template), ...stack.parameters },
    physicalIds: Object.fromEntries(Object.entries(stack.resources).map(([id, r]) => [id, r.physicalId])),
  }
  const rendered: XmlObject[] = []
  for (const [key, output] of Object.entries(outputs)) {
    try {
      const value = evaluateIntrinsics(output.Value, context)
      rendered.push({
        OutputKey: key,
        OutputValue: String(value),
        Description: typeof output.Description === 'string' ? output.Description : undefined,
      })
    } catch {
      // An output the simulator cannot evaluate (a GetAtt it does not know) is left out.
    }
  }
  return rendered
}

export async function listStacks(call: AwsCall): Promise<XmlObject> {
  await call.sim.settle()
  const filter = new Set(listParam(call, 'StackStatusFilter'))
  const summaries: XmlObject[] = []
  for (const stack of await stacksInRegion(call)) {
    const row = await stackRow(call, stack.address)
    summaries.push({
      StackId: stackId(call, stack),
      StackName: stack.stackName,
      CreationTime: row.created_at,
      LastUpdatedTime: row.updated_at,
      StackStatus: stack.status,
      StackStatusReason: stack.statusReason || undefined,
    })
  }
  for (const review of await reviewStacks(call, undefined)) summaries.push(review.summary)
  return {
    StackSummaries: members(summaries.filter((s) => filter.size === 0 || filter.has(String(s.StackStatus)))),
  }
}

export async function describeStackEvents(call: AwsCall): Promise<XmlObject> {
  await call.sim.settle()
  const name = required(call, 'StackName')
  const stack = await findStack(call, name)
  if (!stack) throw validationError(`Stack [${name}] does not exist`)
  const events = await stackEventsSince(
    call.db,
    stack.address,
    (await stackRow(call, stack.address)).created_at,
    1000,
  )
  const id = stackId(call, stack)
  return {
    StackEvents: members(
      events.map((event) => ({
        StackId: id,
        EventId: String(event.id),
        StackName: stack.stackName,
        LogicalResourceId: event.logical_id,
        PhysicalResourceId:
          event.logical_id === stack.stackName && event.resource_type === STACK_TYPE
            ? id
            : stack.resources[event.logical_id]?.physicalId,
        ResourceType: event.resource_type,
        Timestamp: event.at,
        ResourceStatus: event.status,
        ResourceStatusReason: event.reason || undefined,
      })),
    ),
  }
}

export async function getTemplate(call: AwsCall): Promise<XmlObject> {
  await call.sim.settle()
  if (call.params.has('ChangeSetName')) {
    const row = await findChangeSet(call)
    return { TemplateBody: JSON.stringify(row.template), StagesAvailable: members(['Original', 'Processed']) }
  }
  const name = required(call, 'StackName')
  const stack = await findStack(call, name)
  if (!stack) throw validationError(`Stack with id ${name} does not exist`)
  const template = stack.pending?.operation === 'create' ? stack.pending.template : stack.template
  return { TemplateBody: JSON.stringify(template), StagesAvailable: members(['Original', 'Processed']) }
}

/** The stack's resources with their physical ids (a hosted zone's is its zone id). */
export async function describeStackResources(call: AwsCall): Promise<XmlObject> {
  await call.sim.settle()
  const name = required(call, 'StackName')
  const stack = await findStack(call, name)
  if (!stack) throw validationError(`Stack with id ${name} does not exist`)
  const row = await stackRow(call, stack.address)
  return {
    StackResources: members(
      Object.entries(stack.resources).map(([logicalId, resource]) => ({
        StackName: stack.stackName,
        StackId: stackId(call, stack),
        LogicalResourceId: logicalId,
        PhysicalResourceId: resource.physicalId,
        ResourceType: resource.type,
        Timestamp: row.updated_at,
        ResourceStatus: stack.pending ? 'UPDATE_IN_PROGRESS' : 'CREATE_COMPLETE',
      })),
    ),
  }
}

export async function deleteStack(call: AwsCall): Promise<XmlObject> {
  await call.sim.settle()
  const name = required(call, 'StackName')
  const stack = await findStack(call, name)
  if (!stack) {
    // A stack only under review goes with its change sets; deleting what does not exist succeeds.
    await deleteReviewChangeSets(call, nameOf(name))
    return {}
  }
  if (stack.terminationProtection)
    throw validationError(
      `Stack [${stack.stackName}] cannot be deleted while TerminationProtection is enabled`,
    )
  if (stack.pending)
    throw validationError(`Stack [${stack.stackName}] is in ${stack.status} state and can not be deleted`)
  const now = call.now()
  const delay = await operationMs(
    call,
    Object.values(stack.resources).map((resource) => resource.type),
    now,
  )
  await call.db.transaction().execute(async (trx) => {
    await deleteChangeSetsOf(trx, stack.address)
    await startOperations(
      trx,
      { id: call.account.target },
      [deleteOperation(stack, [])],
      () => new Date(now.getTime() + delay),
    )
  })
  await call.sim.settle()
  return {}
}
