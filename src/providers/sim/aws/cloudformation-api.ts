/**
 * The simulated CloudFormation query API (`Action=…`, form-encoded POST, XML in the
 * `http://cloudformation.amazonaws.com/doc/2010-05-15/` namespace), on the simulated fleet's own
 * stacks: what a change set executes becomes the same `*_IN_PROGRESS` operation `flotilla apply`
 * starts on the simulator, settles after the same latency, and is what `flotilla sim status`,
 * `plan` and the DNS server see.
 *
 * A stack is found by name (or stack id) among the account's stacks in the request's region; a
 * stack created here is at address `<account>/<region>/<StackName>`. A stack whose first change
 * set was created and not executed yet is shown as `REVIEW_IN_PROGRESS` (it is not a stack of
 * the simulator until it is executed, so plans never see an empty stack).
 */
import { createHash, randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import { DiagnosticSink } from '../../../core/diagnostics.ts'
import { STACK_TYPE } from '../../../core/plan/diff-stacks.ts'
import { canonicalJson } from '../../../core/provider/fingerprint.ts'
import { isKnownAwsResourceType } from '../../../core/resource-types/aws.ts'
import { toLongForm } from '../../../core/yaml/cfn-tags.ts'
import { parseYamlFile } from '../../../core/yaml/parse.ts'
import type { Database } from '../../../store/tables.ts'
import { extraLatencyMs, hasFault } from '../faults.ts'
import { evaluateIntrinsics } from '../intrinsics.ts'
import { stackOperationMs } from '../latency.ts'
import {
  type AcceptedOperation,
  COMPLETE_STATES,
  deleteOperation,
  loadStacks,
  observedStack,
  parameterDefaults,
  type SimStack,
  stackEvent,
  startOperations,
} from '../sim-stacks.ts'
import type { AwsCall } from './aws-call.ts'
import { AwsError, validationError } from './aws-errors.ts'
import {
  asReplacement,
  parseStackPolicy,
  type ResourceChange,
  resourceChangesOf,
  stackPolicyDenial,
} from './change-sets.ts'
import { members, type XmlObject } from './xml.ts'

/** The namespace of CloudFormation's XML. */
export const CLOUDFORMATION_NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/'

type Action = (call: AwsCall) => Promise<XmlObject | undefined>

/** The actions of the simulated CloudFormation, by name. */
export const cloudFormationActions: Readonly<Record<string, Action>> = {
  CreateChangeSet: createChangeSet,
  DescribeChangeSet: describeChangeSet,
  ExecuteChangeSet: executeChangeSet,
  DeleteChangeSet: deleteChangeSet,
  ListChangeSets: listChangeSets,
  DescribeStacks: describeStacks,
  DescribeStackEvents: describeStackEvents,
  ListStacks: listStacks,
  GetTemplate: getTemplate,
  DescribeStackResources: describeStackResources,
  DeleteStack: deleteStack,
  UpdateTerminationProtection: updateTerminationProtection,
  SetStackPolicy: setStackPolicy,
  GetStackPolicy: getStackPolicy,
}

type ChangeSetRow = Database['sim_change_sets'] extends infer T ? { [K in keyof T]: unknown } : never

// ---- change sets -----------------------------------------------------------------------------

async function createChangeSet(call: AwsCall): Promise<XmlObject> {
  const stackName = required(call, 'StackName')
  const name = required(call, 'ChangeSetName')
  if (!/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/.test(name))
    throw validationError(
      `1 validation error detected: Value '${name}' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`,
    )
  if (!/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/.test(stackName))
    throw validationError(
      `1 validation error detected: Value '${stackName}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`,
    )
  const type = call.params.get('ChangeSetType') ?? 'UPDATE'
  if (type !== 'CREATE' && type !== 'UPDATE')
    throw validationError(
      `ChangeSetType ${type} is not supported by the simulated fleet; use CREATE or UPDATE`,
    )
  if (call.params.has('TemplateURL'))
    throw validationError(
      'TemplateURL is not supported by the simulated fleet; pass the template as TemplateBody',
    )
  await call.sim.settle()
  const stack = await findStack(call, stackName)
  if (type === 'CREATE' && stack)
    throw validationError(
      `Stack [${stackName}] already exists and cannot be created again with the changeSet [${name}].`,
    )
  if (type === 'UPDATE' && !stack) throw validationError(`Stack [${stackName}] does not exist`)
  if (stack?.pending)
    throw validationError(`Stack:${stackId(call, stack)} is in ${stack.status} state and can not be updated.`)
  if (stack && !COMPLETE_STATES.has(stack.status) && stack.status !== 'UPDATE_ROLLBACK_COMPLETE')
    throw validationError(`Stack:${stackId(call, stack)} is in ${stack.status} state and can not be updated.`)

  const usePrevious = call.params.get('UsePreviousTemplate') === 'true'
  if (usePrevious && !stack)
    throw validationError('UsePreviousTemplate can only be used with an existing stack')
  const body = call.params.get('TemplateBody')
  if (!usePrevious && body === undefined)
    throw validationError('Either Template URL or Template Body must be specified.')
  const template = usePrevious ? stack!.template : parseTemplate(body!)
  const parameters = parametersOf(call, template, stack)
  const address = stack?.address ?? `${call.account.target}/${call.region}/${stackName}`
  const before = stack ? observedStack(stack) : undefined
  const after = {
    address,
    stackName,
    region: call.region,
    scope: stack?.scope ?? ('region' as const),
    source: 'aws-api',
    parameters,
    template,
  }
  const computed = resourceChangesOf(before, after, stack?.resources ?? {})
  const surprise = hasFault(
    await call.sim.faults(),
    { id: call.account.target, regions: [call.region] },
    'surprise-replacement',
    call.now(),
  )
  const changes = surprise ? computed.map(asReplacement) : computed
  const unchanged =
    stack !== undefined &&
    changes.length === 0 &&
    canonicalJson(stack.template) === canonicalJson(template) &&
    canonicalJson(stack.parameters) === canonicalJson(parameters)
  const id = `arn:aws:cloudformation:${call.region}:${call.account.id}:changeSet/${name}/${randomUUID()}`
  const existing = await call.db
    .selectFrom('sim_change_sets')
    .select('id')
    .where('stack', '=', address)
    .where('name', '=', name)
    .executeTakeFirst()
  if (existing) throw new AwsError('AlreadyExistsException', `ChangeSet ${name} already exists`)
  const createdAt = call.now()
  await call.db
    .insertInto('sim_change_sets')
    .values({
      id,
      target: call.account.target,
      stack: address,
      stack_name: stackName,
      region: call.region,
      name,
      change_set_type: type,
      status: unchanged ? 'FAILED' : 'CREATE_COMPLETE',
      status_reason: unchanged
        ? "The submitted information didn't contain changes. Submit different information to create a change set."
        : '',
      execution_status: unchanged ? 'UNAVAILABLE' : 'AVAILABLE',
      description: call.params.get('Description') ?? '',
      template: JSON.stringify(template),
      parameters: JSON.stringify(parameters),
      changes: JSON.stringify(changes),
      tags: JSON.stringify(tagsOf(call)),
      created_at: createdAt,
    })
    .execute()
  return { Id: id, StackId: stack ? stackId(call, stack) : reviewStackId(call, address, createdAt) }
}

async function describeChangeSet(call: AwsCall): Promise<XmlObject> {
  await call.sim.settle()
  const row = await findChangeSet(call)
  const changes = row.changes as ResourceChange[]
  const parameters = row.parameters as Record<string, string>
  return {
    ChangeSetName: row.name as string,
    ChangeSetId: row.id as string,
    StackId: await stackIdOfChangeSet(call, row),
    StackName: row.stack_name as string,
    Description: (row.description as string) || undefined,
    Parameters: members(
      Object.entries(parameters).map(([key, value]) => ({ ParameterKey: key, ParameterValue: value })),
    ),
    CreationTime: row.created_at as Date,
    ExecutionStatus: await executionStatus(call, row),
    Status: row.status as string,
    StatusReason: (row.status_reason as string) || undefined,
    Changes: members(changes.map(renderChange)),
  }
}

function renderChange(change: ResourceChange): XmlObject {
  return {
    Type: 'Resource',
    ResourceChange: {
      Action: change.action,
      LogicalResourceId: change.logicalId,
      PhysicalResourceId: change.physicalId,
      ResourceType: change.type,
      Replacement: change.replacement,
      PolicyAction: change.policyAction,
      Scope: change.action === 'Modify' ? members(change.scope) : undefined,
      Details:
        change.action === 'Modify'
          ? members(
              change.details.map((detail) => ({
                Target: {
                  Attribute: 'Properties',
                  Name: detail.name,
                  RequiresRecreation: detail.requiresRecreation,
                },
                Evaluation: 'Static',
                ChangeSource: 'DirectModification',
              })),
            )
          : undefined,
    },
  }
}

/** The execution status, following the stack once the change set was executed. */
async function executionStatus(call: AwsCall, row: ChangeSetRow): Promise<string> {
  if (row.execution_status !== 'EXECUTE_IN_PROGRESS') return row.execution_status as string
  const stack = (await loadStacks(call.db, call.account.target)).find((s) => s.address === row.stack)
  if (!stack || stack.pending) return 'EXECUTE_IN_PROGRESS'
  return COMPLETE_STATES.has(stack.status) ? 'EXECUTE_COMPLETE' : 'EXECUTE_FAILED'
}

async function executeChangeSet(call: AwsCall): Promise<XmlObject> {
  await call.sim.settle()
  const row = await findChangeSet(call)
  if (row.execution_status !== 'AVAILABLE')
    throw new AwsError(
      'InvalidChangeSetStatus',
      `ChangeSet [${row.id as string}] cannot be executed in its current execution status of [${await executionStatus(call, row)}]`,
    )
  const stack = await findStack(call, row.stack_name as string)
  if (stack?.pending || (row.change_set_type === 'CREATE' && stack))
    throw new AwsError(
      'InvalidChangeSetStatus',
      `ChangeSet [${row.id as string}] cannot be executed: stack ${row.stack_name as string} is ${stack?.status}`,
    )
  if (row.change_set_type === 'UPDATE' && !stack)
    throw validationError(`Stack [${row.stack_name as string}] does not exist`)
  const template = row.template as Record<string, unknown>
  const parameters = row.parameters as Record<string, string>
  const changes = row.changes as ResourceChange[]
  // The stack changed since the change set was made: what was reviewed is no longer what would run.
  if (stack) {
    const now = resourceChangesOf(
      observedStack(stack),
      { ...observedStack(stack)!, template, parameters },
      stack.resources,
    )
    if (canonicalJson(now) !== canonicalJson(changes))
      throw new AwsError(
        'InvalidChangeSetStatus',
        `ChangeSet [${row.id as string}] is OBSOLETE: stack ${stack.stackName} changed since it was created; create a new change set`,
      )
  }
  const policy = stack ? stackPolicyOf(await stackRow(call, stack.address)) : undefined
  const denial = policy ? stackPolicyDenial(policy, changes) : undefined
  const address = row.stack as string
  const target = { id: call.account.target }
  // Read before the transaction: the simulator reads through its own connection (PGlite has one).
  const now = call.now()
  const delay = await operationMs(
    call,
    changes.map((change) => change.type),
    now,
  )
  await call.db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('sim_change_sets')
      .set({ execution_status: denial ? 'EXECUTE_FAILED' : 'EXECUTE_IN_PROGRESS' })
      .where('id', '=', row.id as string)
      .where('execution_status', '=', 'AVAILABLE')
      .executeTakeFirst()
    if (Number(claimed.numUpdatedRows) === 0)
      throw new AwsError(
        'InvalidChangeSetStatus',
        `ChangeSet [${row.id as string}] is being executed already`,
      )
    // Executing one change set makes the stack's other change sets obsolete; CloudFormation deletes them.
    await trx
      .deleteFrom('sim_change_sets')
      .where('stack', '=', address)
      .where('id', '!=', row.id as string)
      .execute()
    if (denial && stack) {
      await refuseUpdate(trx, stack, changes, denial)
      return
    }
    const operation: AcceptedOperation = {
      address,
      operation: stack ? 'update' : 'create',
      stackName: row.stack_name as string,
      region: stack?.region ?? call.region,
      scope: stack?.scope ?? 'region',
      pending: { operation: stack ? 'update' : 'create', template, parameters },
      resourceChanges: [],
    }
    await startOperations(trx, target, [operation], () => new Date(now.getTime() + delay))
    if (!stack) {
      // A stack made through the API starts unprotected (CloudFormation's default), and keeps
      // the creation time — and so the stack id — its change set announced.
      await trx
        .updateTable('sim_stacks')
        .set({ termination_protection: false, created_at: row.created_at as Date })
        .where('address', '=', address)
        .execute()
    }
    // A change set's tags become the stack's (CloudFormation replaces them; none given keeps them).
    const tags = row.tags as readonly unknown[]
    if (!stack || tags.length > 0)
      await trx
        .updateTable('sim_stacks')
        .set({ tags: JSON.stringify(tags) })
        .where('address', '=', address)
        .execute()
  })
  await call.sim.settle()
  return {}
}

/** A stack policy refused the update: the stack rolls back at once, nothing changed. */
async function refuseUpdate(
  db: Kysely<Database>,
  stack: SimStack,
  changes: readonly ResourceChange[],
  denial: string,
): Promise<void> {
  const event = (logicalId: string, type: string, status: string, reason = '') =>
    stackEvent(db, stack.target, stack.address, logicalId, type, status, reason)
  await event(stack.stackName, STACK_TYPE, 'UPDATE_IN_PROGRESS', 'User Initiated')
  const refused = changes.find((change) => denial.includes(`LogicalResourceId/${change.logicalId}]`))
  if (refused) await event(refused.logicalId, refused.type, 'UPDATE_FAILED', denial)
  await event(stack.stackName, STACK_TYPE, 'UPDATE_ROLLBACK_IN_PROGRESS', denial)
  await event(stack.stackName, STACK_TYPE, 'UPDATE_ROLLBACK_COMPLETE')
  await db
    .updateTable('sim_stacks')
    .set({ status: 'UPDATE_ROLLBACK_COMPLETE', status_reason: denial, updated_at: new Date() })
    .where('address', '=', stack.address)
    .execute()
}

async function deleteChangeSet(call: AwsCall): Promise<XmlObject> {
  const row = await findChangeSet(call)
  if ((await executionStatus(call, row)) === 'EXECUTE_IN_PROGRESS')
    throw new AwsError(
      'InvalidChangeSetStatus',
      `ChangeSet [${row.id as string}] cannot be deleted while it is being executed`,
    )
  await call.db
    .deleteFrom('sim_change_sets')
    .where('id', '=', row.id as string)
    .execute()
  return {}
}

async function listChangeSets(call: AwsCall): Promise<XmlObject> {
  const stackName = required(call, 'StackName')
  const rows = await call.db
    .selectFrom('sim_change_sets')
    .selectAll()
    .where('target', '=', call.account.target)
    .where('region', '=', call.region)
    .where('stack_name', '=', nameOf(stackName))
    .orderBy('created_at')
    .execute()
  const summaries: XmlObject[] = []
  for (const row of rows) {
    summaries.push({
      StackId: await stackIdOfChangeSet(call, row),
      StackName: row.stack_name,
      ChangeSetId: row.id,
      ChangeSetName: row.name,
      ExecutionStatus: await executionStatus(call, row),
      Status: row.status,
      StatusReason: row.status_reason || undefined,
      CreationTime: row.created_at,
      Description: row.description || undefined,
    })
  }
  return { Summaries: members(summaries) }
}

async function findChangeSet(call: AwsCall): Promise<ChangeSetRow> {
  const name = required(call, 'ChangeSetName')
  let query = call.db.selectFrom('sim_change_sets').selectAll().where('target', '=', call.account.target)
  if (name.startsWith('arn:')) query = query.where('id', '=', name)
  else {
    const stackName = call.params.get('StackName')
    if (stackName === undefined)
      throw validationError('StackName must be specified if ChangeSetName is not specified as an ARN.')
    query = query
      .where('name', '=', name)
      .where('stack_name', '=', nameOf(stackName))
      .where('region', '=', call.region)
  }
  const row = await query.executeTakeFirst()
  if (!row) throw new AwsError('ChangeSetNotFound', `ChangeSet [${name}] does not exist`, 404)
  return row
}

// ---- stacks ----------------------------------------------------------------------------------

async function describeStacks(call: AwsCall): Promise<XmlObject> {
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

async function renderStack(call: AwsCall, stack: SimStack): Promise<XmlObject> {
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
function outputsOf(call: AwsCall, stack: SimStack): XmlObject[] {
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

async function listStacks(call: AwsCall): Promise<XmlObject> {
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

async function describeStackEvents(call: AwsCall): Promise<XmlObject> {
  await call.sim.settle()
  const name = required(call, 'StackName')
  const stack = await findStack(call, name)
  if (!stack) throw validationError(`Stack [${name}] does not exist`)
  const events = await call.db
    .selectFrom('sim_stack_events')
    .selectAll()
    .where('stack', '=', stack.address)
    .where('at', '>=', (await stackRow(call, stack.address)).created_at)
    .orderBy('id', 'desc')
    .limit(1000)
    .execute()
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

async function getTemplate(call: AwsCall): Promise<XmlObject> {
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
async function describeStackResources(call: AwsCall): Promise<XmlObject> {
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

async function deleteStack(call: AwsCall): Promise<XmlObject> {
  await call.sim.settle()
  const name = required(call, 'StackName')
  const stack = await findStack(call, name)
  if (!stack) {
    // A stack only under review goes with its change sets; deleting what does not exist succeeds.
    await call.db
      .deleteFrom('sim_change_sets')
      .where('target', '=', call.account.target)
      .where('region', '=', call.region)
      .where('stack_name', '=', nameOf(name))
      .execute()
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
    await trx.deleteFrom('sim_change_sets').where('stack', '=', stack.address).execute()
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

async function updateTerminationProtection(call: AwsCall): Promise<XmlObject> {
  const name = required(call, 'StackName')
  const enable = required(call, 'EnableTerminationProtection')
  if (enable !== 'true' && enable !== 'false')
    throw validationError(`EnableTerminationProtection must be true or false, not ${enable}`)
  const stack = await findStack(call, name)
  if (!stack) throw validationError(`Stack [${name}] does not exist`)
  await call.db
    .updateTable('sim_stacks')
    .set({ termination_protection: enable === 'true' })
    .where('address', '=', stack.address)
    .execute()
  return { StackId: stackId(call, stack) }
}

async function setStackPolicy(call: AwsCall): Promise<XmlObject> {
  const name = required(call, 'StackName')
  if (call.params.has('StackPolicyURL'))
    throw validationError('StackPolicyURL is not supported by the simulated fleet; pass StackPolicyBody')
  const policy = parseStackPolicy(required(call, 'StackPolicyBody'))
  const stack = await findStack(call, name)
  if (!stack) throw validationError(`Stack [${name}] does not exist`)
  await call.db
    .updateTable('sim_stacks')
    .set({ stack_policy: JSON.stringify(policy) })
    .where('address', '=', stack.address)
    .execute()
  return {}
}

async function getStackPolicy(call: AwsCall): Promise<XmlObject> {
  const name = required(call, 'StackName')
  const stack = await findStack(call, name)
  if (!stack) throw validationError(`Stack [${name}] does not exist`)
  const policy = (await stackRow(call, stack.address)).stack_policy
  return { StackPolicyBody: policy === null ? undefined : JSON.stringify(policy) }
}

/** How long an operation on resources of these types takes, as the simulator's apply has it. */
async function operationMs(call: AwsCall, types: readonly string[], now: Date): Promise<number> {
  const settings = await call.sim.settings()
  const faults = await call.sim.faults()
  return (
    stackOperationMs(types, settings.latencyScale) +
    extraLatencyMs(faults, { id: call.account.target, regions: [call.region] }, now)
  )
}

// ---- helpers ---------------------------------------------------------------------------------

function required(call: AwsCall, name: string): string {
  const value = call.params.get(name)
  if (value === undefined || value === '')
    throw validationError(
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
    )
  return value
}

/** The stack tags of a request (`Tags.member.N.Key` / `.Value`), at most 50 as CloudFormation allows. */
function tagsOf(call: AwsCall): { Key: string; Value: string }[] {
  const tags: { Key: string; Value: string }[] = []
  for (let index = 1; call.params.has(`Tags.member.${index}.Key`); index++)
    tags.push({
      Key: call.params.get(`Tags.member.${index}.Key`)!,
      Value: call.params.get(`Tags.member.${index}.Value`) ?? '',
    })
  if (tags.length > 50)
    throw validationError('1 validation error detected: Tags must have at most 50 members')
  return tags
}

/** `Name.member.1`, `Name.member.2`, … of a query request. */
function listParam(call: AwsCall, name: string): string[] {
  const values: string[] = []
  for (let index = 1; call.params.has(`${name}.member.${index}`); index++)
    values.push(call.params.get(`${name}.member.${index}`)!)
  return values
}

/** A stack name, or the name inside a stack id (`arn:aws:cloudformation:…:stack/<name>/<uuid>`). */
function nameOf(nameOrId: string): string {
  const match = /^arn:aws:cloudformation:[^:]*:\d{12}:stack\/([^/]+)\//.exec(nameOrId)
  return match ? match[1]! : nameOrId
}

async function stacksInRegion(call: AwsCall): Promise<SimStack[]> {
  return (await loadStacks(call.db, call.account.target)).filter((stack) => stack.region === call.region)
}

async function findStack(call: AwsCall, nameOrId: string): Promise<SimStack | undefined> {
  const name = nameOf(nameOrId)
  const stack = (await stacksInRegion(call)).find((s) => s.stackName === name)
  if (stack && nameOrId.startsWith('arn:') && stackId(call, stack) !== nameOrId) return undefined
  return stack
}

function isStack(stack: SimStack | undefined): stack is SimStack {
  return stack !== undefined
}

async function stackRow(call: AwsCall, address: string) {
  return call.db
    .selectFrom('sim_stacks')
    .select(['created_at', 'updated_at', 'stack_policy', 'tags'])
    .where('address', '=', address)
    .executeTakeFirstOrThrow()
}

function stackPolicyOf(row: { stack_policy: unknown }) {
  return row.stack_policy === null ? undefined : parseStackPolicy(JSON.stringify(row.stack_policy))
}

/**
 * A stack's id: an ARN whose last part is derived from its address and creation time, so every
 * process names a stack alike and a stack deleted and created again has a new id.
 */
function stackIdFor(call: AwsCall, address: string, createdAt: Date, region: string): string {
  const hash = createHash('sha256').update(`${address}\n${createdAt.toISOString()}`).digest('hex')
  const uuid = `${hash.slice(0, 8)}-${hash.slice(8, 12)}-${hash.slice(12, 16)}-${hash.slice(16, 20)}-${hash.slice(20, 32)}`
  const name = address.slice(address.lastIndexOf('/') + 1)
  return `arn:aws:cloudformation:${region}:${call.account.id}:stack/${name}/${uuid}`
}

function stackId(call: AwsCall, stack: SimStack): string {
  return stackIdFor(call, stack.address, stack.createdAt, stack.region)
}

function reviewStackId(call: AwsCall, address: string, createdAt: Date): string {
  return stackIdFor(call, address, createdAt, call.region)
}

async function stackIdOfChangeSet(call: AwsCall, row: ChangeSetRow): Promise<string> {
  const stack = (await loadStacks(call.db, call.account.target)).find((s) => s.address === row.stack)
  if (stack) return stackId(call, stack)
  const first = await call.db
    .selectFrom('sim_change_sets')
    .select('created_at')
    .where('stack', '=', row.stack as string)
    .orderBy('created_at')
    .executeTakeFirst()
  return reviewStackId(call, row.stack as string, first?.created_at ?? (row.created_at as Date))
}

/** Stacks that exist only as a CREATE change set not yet executed (`REVIEW_IN_PROGRESS`). */
async function reviewStacks(
  call: AwsCall,
  name: string | undefined,
): Promise<{ rendered: XmlObject; summary: XmlObject }[]> {
  let query = call.db
    .selectFrom('sim_change_sets')
    .selectAll()
    .where('target', '=', call.account.target)
    .where('region', '=', call.region)
    .where('change_set_type', '=', 'CREATE')
    .where('execution_status', 'in', ['AVAILABLE', 'UNAVAILABLE'])
  if (name !== undefined) query = query.where('stack_name', '=', name)
  const rows = await query.orderBy('created_at').execute()
  const existing = new Set((await loadStacks(call.db, call.account.target)).map((s) => s.address))
  const seen = new Set<string>()
  const out: { rendered: XmlObject; summary: XmlObject }[] = []
  for (const row of rows) {
    if (existing.has(row.stack) || seen.has(row.stack)) continue
    seen.add(row.stack)
    const id = reviewStackId(call, row.stack, row.created_at)
    const common = {
      StackId: id,
      StackName: row.stack_name,
      CreationTime: row.created_at,
      StackStatus: 'REVIEW_IN_PROGRESS',
      StackStatusReason: 'User Initiated',
    }
    out.push({
      rendered: { ...common, DisableRollback: false, EnableTerminationProtection: false },
      summary: common,
    })
  }
  return out
}

/** A `TemplateBody` in JSON or YAML (short-form tags such as `!Sub` allowed), in long form. */
export function parseTemplate(body: string): Record<string, unknown> {
  let value: unknown
  const trimmed = body.trimStart()
  if (trimmed.startsWith('{')) {
    try {
      value = JSON.parse(body)
    } catch (error) {
      throw validationError(`Template format error: JSON not well-formed. (${(error as Error).message})`)
    }
  } else {
    const sink = new DiagnosticSink()
    const parsed = parseYamlFile('template', body, sink)
    const problem = sink.errors[0]
    if (!parsed || problem)
      throw validationError(
        `Template format error: YAML not well-formed. (line ${problem?.line}, column ${problem?.col}: ${problem?.message})`,
      )
    value = toLongForm(parsed.documents[0]?.value)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw validationError('Template format error: the template must be a JSON or YAML object')
  const template = value as Record<string, unknown>
  const resources = template.Resources as Record<string, { Type?: unknown }> | undefined
  if (!resources || typeof resources !== 'object' || Object.keys(resources).length === 0)
    throw validationError('Template format error: At least one Resources member must be defined.')
  const unknown = Object.values(resources)
    .map((resource) => String(resource?.Type))
    .filter((type) => !type.startsWith('Custom::') && !isKnownAwsResourceType(type))
  if (unknown.length > 0)
    throw validationError(
      `Template format error: Unrecognized resource types: [${[...new Set(unknown)].join(', ')}]`,
    )
  return template
}

/** The parameter values of a change set: given ones, previous ones asked for, checked against the template. */
function parametersOf(
  call: AwsCall,
  template: Record<string, unknown>,
  stack: SimStack | undefined,
): Record<string, string> {
  const declared = (template.Parameters ?? {}) as Record<string, { Default?: unknown }>
  const values: Record<string, string> = {}
  const undeclared: string[] = []
  for (let index = 1; call.params.has(`Parameters.member.${index}.ParameterKey`); index++) {
    const key = call.params.get(`Parameters.member.${index}.ParameterKey`)!
    if (!(key in declared)) undeclared.push(key)
    if (call.params.get(`Parameters.member.${index}.UsePreviousValue`) === 'true') {
      const previous = stack?.parameters[key]
      if (previous === undefined)
        throw validationError(
          `Invalid input for parameter key ${key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template`,
        )
      values[key] = previous
    } else values[key] = call.params.get(`Parameters.member.${index}.ParameterValue`) ?? ''
  }
  if (undeclared.length > 0)
    throw validationError(`Parameters: [${undeclared.join(', ')}] do not exist in the template`)
  const missing = Object.entries(declared)
    .filter(([key, declaration]) => values[key] === undefined && declaration?.Default === undefined)
    .map(([key]) => key)
  if (missing.length > 0) throw validationError(`Parameters: [${missing.join(', ')}] must have values`)
  for (const [key, declaration] of Object.entries(declared)) {
    const value = values[key] ?? declaration?.Default
    const problem = constraintProblem(key, declaration as ParameterDeclaration, String(value))
    if (problem) throw validationError(problem)
  }
  return values
}

/** A template's parameter declaration, as far as its constraints go. */
interface ParameterDeclaration {
  readonly Type?: unknown
  readonly AllowedValues?: unknown
  readonly AllowedPattern?: unknown
  readonly ConstraintDescription?: unknown
  readonly MinLength?: unknown
  readonly MaxLength?: unknown
  readonly MinValue?: unknown
  readonly MaxValue?: unknown
}

/**
 * Why a parameter value breaks its declared constraints, in CloudFormation's words, or
 * undefined. CloudFormation checks them when a change set is created: Flotilla's own validation
 * does not, so this is where a value outside `AllowedValues` is first refused.
 */
function constraintProblem(
  key: string,
  declaration: ParameterDeclaration,
  value: string,
): string | undefined {
  const list = typeof declaration.Type === 'string' && declaration.Type.includes('List')
  const items = list ? value.split(',').map((item) => item.trim()) : [value]
  const described = (fallback: string) =>
    typeof declaration.ConstraintDescription === 'string'
      ? `Parameter '${key}' failed to satisfy constraint: ${declaration.ConstraintDescription}`
      : fallback
  if (Array.isArray(declaration.AllowedValues)) {
    const allowed = declaration.AllowedValues.map(String)
    if (items.some((item) => !allowed.includes(item)))
      return described(`Parameter '${key}' must be one of AllowedValues`)
  }
  if (typeof declaration.AllowedPattern === 'string') {
    const pattern = new RegExp(`^(?:${declaration.AllowedPattern})$`)
    if (items.some((item) => !pattern.test(item)))
      return described(`Parameter '${key}' must match pattern ${declaration.AllowedPattern}`)
  }
  const number = (v: unknown) => (v === undefined ? undefined : Number(v))
  const minLength = number(declaration.MinLength)
  const maxLength = number(declaration.MaxLength)
  if (minLength !== undefined && value.length < minLength)
    return described(`Parameter '${key}' must contain at least ${minLength} characters`)
  if (maxLength !== undefined && value.length > maxLength)
    return described(`Parameter '${key}' must contain at most ${maxLength} characters`)
  const minValue = number(declaration.MinValue)
  const maxValue = number(declaration.MaxValue)
  if (minValue !== undefined && !(Number(value) >= minValue))
    return described(`Parameter '${key}' must be a number not less than ${minValue}`)
  if (maxValue !== undefined && !(Number(value) <= maxValue))
    return described(`Parameter '${key}' must be a number not greater than ${maxValue}`)
  return undefined
}
