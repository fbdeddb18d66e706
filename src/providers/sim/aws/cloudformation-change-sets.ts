/**
 * The simulated CloudFormation's change sets (`sim_change_sets`): CreateChangeSet,
 * DescribeChangeSet, ExecuteChangeSet, DeleteChangeSet, ListChangeSets, and the stacks that exist
 * only as a change set under review (`REVIEW_IN_PROGRESS`).
 */
import { randomUUID } from 'node:crypto'
import { STACK_TYPE } from '../../../core/plan/diff-stacks.ts'
import { canonicalJson } from '../../../core/provider/fingerprint.ts'
import { hasFault } from '../faults.ts'
import type { SimDatabase, SimDb } from '../sim-database.ts'
import {
  type AcceptedOperation,
  COMPLETE_STATES,
  loadStacks,
  observedStack,
  type SimStack,
  stackEvent,
  startOperations,
  updateStack,
} from '../sim-stacks.ts'
import type { AwsCall } from './aws-call.ts'
import { AwsError, validationError } from './aws-errors.ts'
import { asReplacement, type ResourceChange, resourceChangesOf, stackPolicyDenial } from './change-sets.ts'
import {
  findStack,
  nameOf,
  operationMs,
  required,
  reviewStackId,
  stackId,
  stackPolicyOf,
  stackRow,
  tagsOf,
} from './cloudformation-call.ts'
import { parametersOf, parseTemplate } from './cloudformation-templates.ts'
import { members, type XmlObject } from './xml.ts'

export type ChangeSetRow = SimDatabase['sim_change_sets'] extends infer T
  ? { [K in keyof T]: unknown }
  : never

export async function createChangeSet(call: AwsCall): Promise<XmlObject> {
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

export async function describeChangeSet(call: AwsCall): Promise<XmlObject> {
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

export function renderChange(change: ResourceChange): XmlObject {
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
export async function executionStatus(call: AwsCall, row: ChangeSetRow): Promise<string> {
  if (row.execution_status !== 'EXECUTE_IN_PROGRESS') return row.execution_status as string
  const stack = (await loadStacks(call.db, call.account.target)).find((s) => s.address === row.stack)
  if (!stack || stack.pending) return 'EXECUTE_IN_PROGRESS'
  return COMPLETE_STATES.has(stack.status) ? 'EXECUTE_COMPLETE' : 'EXECUTE_FAILED'
}

export async function executeChangeSet(call: AwsCall): Promise<XmlObject> {
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
      await updateStack(trx, address, { termination_protection: false, created_at: row.created_at as Date })
    }
    // A change set's tags become the stack's (CloudFormation replaces them; none given keeps them).
    const tags = row.tags as readonly unknown[]
    if (!stack || tags.length > 0) await updateStack(trx, address, { tags: JSON.stringify(tags) })
  })
  await call.sim.settle()
  return {}
}

/** A stack policy refused the update: the stack rolls back at once, nothing changed. */
export async function refuseUpdate(
  db: SimDb,
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
  await updateStack(db, stack.address, {
    status: 'UPDATE_ROLLBACK_COMPLETE',
    status_reason: denial,
    updated_at: new Date(),
  })
}

export async function deleteChangeSet(call: AwsCall): Promise<XmlObject> {
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

export async function listChangeSets(call: AwsCall): Promise<XmlObject> {
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

export async function findChangeSet(call: AwsCall): Promise<ChangeSetRow> {
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

export async function stackIdOfChangeSet(call: AwsCall, row: ChangeSetRow): Promise<string> {
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
export async function reviewStacks(
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

/** Forgets the change sets of a stack under review, by name (it is deleted before it existed). */
export async function deleteReviewChangeSets(call: AwsCall, stackName: string): Promise<void> {
  await call.db
    .deleteFrom('sim_change_sets')
    .where('target', '=', call.account.target)
    .where('region', '=', call.region)
    .where('stack_name', '=', stackName)
    .execute()
}

/** Forgets the change sets of a stack (in `db`'s transaction: the stack is being deleted). */
export async function deleteChangeSetsOf(db: SimDb, stackAddress: string): Promise<void> {
  await db.deleteFrom('sim_change_sets').where('stack', '=', stackAddress).execute()
}
