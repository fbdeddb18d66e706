/**
 * The simulated CloudFormation: stacks of an account, their operations and states, and what
 * their resources do to the rest of the simulated fleet (hosted zones, record sets).
 *
 * An operation is accepted in one transaction (state `*_IN_PROGRESS`, what it will deploy kept as
 * `pending`, a time it settles at) and carried out in another when it settles: time-driven and
 * stored, so a simulated fleet keeps going across restarts and several processes see one truth.
 * Resources are created, updated, replaced and deleted per the plan's resource type registry
 * (the same `diffStacks` the plan uses), with `DeletionPolicy: Retain` honoured.
 */

import type { Insertable, Updateable } from 'kysely'
import { ConflictError, InputError } from '../../core/errors.ts'
import type { RenderedStack } from '../../core/model/desired-state.ts'
import type { Target } from '../../core/model/fleet-model.ts'
import type { Change } from '../../core/model/plan.ts'
import { diffStacks, STACK_TYPE } from '../../core/plan/diff-stacks.ts'
import { moveStatus, previousAddress } from '../../core/plan/moved-from.ts'
import { protectedTypes } from '../../core/plan/protected.ts'
import { ProviderError } from '../../core/provider/port.ts'
import { awsResourceType } from '../../core/resource-types/aws.ts'
import { toLongForm } from '../../core/yaml/cfn-tags.ts'
import { retryingDeadlocks } from '../../store/retry-deadlocks.ts'
import type { Json } from '../../store/tables.ts'
import { normalizeName, type RecordType } from './dns-zones.ts'
import { externalDnsRecords } from './external-dns.ts'
import { evaluateIntrinsics, type IntrinsicContext } from './intrinsics.ts'
import { loadObjects } from './sim-clusters.ts'
import type { SimDatabase, SimDb } from './sim-database.ts'
import { clustersOfAccount } from './sim-targets.ts'
import {
  createOrAdoptZone,
  deleteRecord,
  deleteZone,
  detachZone,
  moveStackZones,
  recordsOf,
  syncExternalDns,
  upsertRecord,
  zoneById,
  zonesOf,
} from './sim-zones-store.ts'

/** A stack operation. */
export type StackOperation = 'create' | 'update' | 'delete'

/** What a stack will deploy when its operation settles. */
export interface PendingOperation {
  readonly operation: StackOperation
  readonly template: Record<string, unknown>
  readonly parameters: Record<string, string>
}

/** A resource of a deployed stack. */
export interface StackResource {
  readonly type: string
  readonly physicalId: string
}

/** A simulated stack as stored. */
export interface SimStack {
  readonly address: string
  readonly target: string
  readonly stackName: string
  readonly region: string
  readonly scope: 'region' | 'global'
  readonly status: string
  readonly statusReason: string
  /** The template as last deployed (long form); `{}` while a stack is first being created. */
  readonly template: Record<string, unknown>
  readonly parameters: Record<string, string>
  readonly resources: Record<string, StackResource>
  readonly terminationProtection: boolean
  readonly pending: PendingOperation | null
  readonly settlesAt: Date | null
  readonly createdAt: Date
}

/** States after which a stack holds nothing (a failed create): it is observed as absent. */
const EMPTY_STATES = new Set(['ROLLBACK_COMPLETE', 'CREATE_IN_PROGRESS'])

/** States that are final and good. */
export const COMPLETE_STATES = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE'])

const IN_PROGRESS: Record<StackOperation, string> = {
  create: 'CREATE_IN_PROGRESS',
  update: 'UPDATE_IN_PROGRESS',
  delete: 'DELETE_IN_PROGRESS',
}
const FAILED: Record<StackOperation, string> = {
  create: 'ROLLBACK_COMPLETE',
  update: 'UPDATE_ROLLBACK_COMPLETE',
  delete: 'DELETE_FAILED',
}

const isBuiltinProtected = protectedTypes([])

/** The stacks of a target, by address. */
export function loadStacks(db: SimDb, target: string): Promise<SimStack[]> {
  return loadStacksOf(db, [target])
}

/** The stacks of many targets at once (for a fleet-wide observe). */
export async function loadStacksOf(db: SimDb, targets: readonly string[]): Promise<SimStack[]> {
  if (targets.length === 0) return []
  const rows = await db
    .selectFrom('sim_stacks')
    .selectAll()
    .where('target', 'in', targets)
    .orderBy('address')
    .execute()
  return rows.map(toSimStack)
}

export function toSimStack(
  row: SimDatabase['sim_stacks'] extends infer T ? { [K in keyof T]: unknown } : never,
): SimStack {
  return {
    address: row.address as string,
    target: row.target as string,
    stackName: row.stack_name as string,
    region: row.region as string,
    scope: row.scope as 'region' | 'global',
    status: row.status as string,
    statusReason: row.status_reason as string,
    template: row.template as Record<string, unknown>,
    parameters: row.parameters as Record<string, string>,
    resources: row.resources as Record<string, StackResource>,
    terminationProtection: row.termination_protection as boolean,
    pending: (row.pending ?? null) as PendingOperation | null,
    settlesAt: (row.settles_at ?? null) as Date | null,
    createdAt: row.created_at as Date,
  }
}

/** A deployed stack as the planner sees it, or `undefined` when nothing of it exists. */
export function observedStack(stack: SimStack): RenderedStack | undefined {
  if (EMPTY_STATES.has(stack.status) && Object.keys(stack.resources).length === 0) return undefined
  return {
    address: stack.address,
    stackName: stack.stackName,
    region: stack.region,
    scope: stack.scope,
    source: 'sim',
    parameters: stack.parameters,
    template: stack.template,
  }
}

/** One stack operation an apply accepted, with what the engine must know to carry it out. */
export interface AcceptedOperation {
  readonly address: string
  readonly operation: StackOperation | 'move'
  readonly stackName: string
  readonly region: string
  readonly scope: 'region' | 'global'
  /** For a move: the address the stack had. */
  readonly movedFrom?: string
  /** What will be deployed (none for a delete or a pure move). */
  readonly pending?: PendingOperation
  /** Resource changes, for latency, events and snapshots. */
  readonly resourceChanges: readonly Change[]
}

/** Whether a resource keeps existing when its stack lets go of it. */
export function retained(
  stack: SimStack | undefined,
  logicalId: string,
  action: 'delete' | 'replace' = 'delete',
): boolean {
  const resources = (stack?.template.Resources ?? {}) as Record<
    string,
    { DeletionPolicy?: unknown; UpdateReplacePolicy?: unknown }
  >
  // A replacement keeps the old resource by UpdateReplacePolicy, a deletion by DeletionPolicy.
  const declared = resources[logicalId]
  const policy = action === 'replace' ? declared?.UpdateReplacePolicy : declared?.DeletionPolicy
  return policy === 'Retain' || policy === 'RetainExceptOnCreate'
}

/** The logical id of a resource address `<stack address>/<LogicalId>`. */
export function logicalIdOf(address: string): string {
  return address.slice(address.lastIndexOf('/') + 1)
}

/**
 * Decides what applying `desired` to the stacks `current` means, and refuses — before anything
 * is written — what was not reviewed: deleting a stack the plan does not delete, or destroying a
 * protected resource whose address the approvals do not cover.
 *
 * @param reviewed the target's changes from the plan that allowed this apply
 */
export function acceptStackOperations(
  target: Target,
  current: readonly SimStack[],
  desired: readonly RenderedStack[],
  reviewed: readonly Change[],
  approvedDestruction: ReadonlySet<string>,
): AcceptedOperation[] {
  const byAddress = new Map(current.map((stack) => [stack.address, stack]))
  const reviewedProtected = new Set(reviewed.filter((c) => c.protected).map((c) => c.address))
  const reviewedDeletes = new Set(
    reviewed.filter((c) => c.type === STACK_TYPE && c.action === 'delete').map((c) => c.address),
  )
  const consumed = new Set<string>()
  const accepted: AcceptedOperation[] = []
  const isProtected = (type: string) => isBuiltinProtected(type)

  const check = (before: SimStack | undefined, changes: readonly Change[]) => {
    for (const change of changes) {
      if (change.type === STACK_TYPE || (change.action !== 'delete' && change.action !== 'replace')) continue
      if (retained(before, logicalIdOf(change.address), change.action)) continue
      const guarded = change.protected || reviewedProtected.has(change.address)
      if (guarded && !approvedDestruction.has(change.address)) {
        throw new ProviderError(
          'refused',
          target.id,
          `refusing to ${change.action} protected resource ${change.address} (${change.type}): no approval covers it; plan again and approve its address`,
          change.address,
        )
      }
    }
  }

  // Moves are decided as the plan decided them (moveStatus): an apply never re-decides.
  const observedByAddress = new Map(
    current.flatMap((stack) => {
      const observed = observedStack(stack)
      return observed ? [[stack.address, observed] as const] : []
    }),
  )
  const desiredAddresses = new Set(desired.map((d) => d.address))
  for (const stack of desired) {
    let before = byAddress.get(stack.address)
    let movedFrom: string | undefined
    if (!before && moveStatus(stack, observedByAddress, desiredAddresses) === 'moved') {
      movedFrom = previousAddress(stack)!
      before = byAddress.get(movedFrom)
    }
    if (before) consumed.add(before.address)
    const existing = before ? observedStack(before) : undefined
    const changes = diffStacks(
      existing ? [movedFrom ? { ...existing, address: stack.address } : existing] : [],
      [withoutMovedFrom(stack)],
      isProtected,
    )
    check(before, changes)
    const template = toLongForm(stack.template) as Record<string, unknown>
    const pending: PendingOperation = {
      operation: existing ? 'update' : 'create',
      template,
      parameters: { ...stack.parameters },
    }
    const base = {
      address: stack.address,
      stackName: stack.stackName,
      region: stack.region,
      scope: stack.scope,
    }
    if (movedFrom) {
      accepted.push({ ...base, operation: 'move', movedFrom, resourceChanges: [] })
      if (changes.length > 0)
        accepted.push({ ...base, operation: 'update', pending, resourceChanges: changes })
    } else if (!existing || changes.length > 0) {
      accepted.push({ ...base, operation: pending.operation, pending, resourceChanges: changes })
    }
  }

  for (const stack of current) {
    if (consumed.has(stack.address)) continue
    const existing = observedStack(stack)
    if (!existing) {
      // A create that rolled back leaves an empty stack no plan can show. CloudFormation makes
      // you delete it; deleting it destroys nothing, and keeping it would fail the target for ever.
      if (stack.status === 'ROLLBACK_COMPLETE') {
        accepted.push(deleteOperation(stack, []))
      }
      continue
    }
    if (!reviewedDeletes.has(stack.address)) {
      throw new ProviderError(
        'refused',
        target.id,
        `refusing to delete stack ${stack.address}: it is termination-protected and the reviewed plan does not delete it; plan again`,
        stack.address,
      )
    }
    const changes = diffStacks([existing], [], isProtected)
    check(stack, changes)
    accepted.push(deleteOperation(stack, changes))
  }
  return accepted
}

/** The operation that deletes `stack`. */
export function deleteOperation(stack: SimStack, resourceChanges: readonly Change[]): AcceptedOperation {
  return {
    address: stack.address,
    operation: 'delete',
    stackName: stack.stackName,
    region: stack.region,
    scope: stack.scope,
    pending: { operation: 'delete', template: {}, parameters: {} },
    resourceChanges,
  }
}

function withoutMovedFrom(stack: RenderedStack): RenderedStack {
  const { movedFrom: _ignored, ...rest } = stack
  return rest
}

/** Appends a stack event. */
export async function stackEvent(
  db: SimDb,
  target: string,
  stack: string,
  logicalId: string,
  type: string,
  status: string,
  reason = '',
): Promise<void> {
  await db
    .insertInto('sim_stack_events')
    .values({ target, stack, logical_id: logicalId, resource_type: type, status, reason })
    .execute()
}

/** Writes accepted operations: moves at once, the rest as `*_IN_PROGRESS` until `settlesAt`. */
export async function startOperations(
  db: SimDb,
  target: Pick<Target, 'id'>,
  operations: readonly AcceptedOperation[],
  settlesAt: (operation: AcceptedOperation) => Date,
): Promise<void> {
  const rows: Insertable<SimDatabase['sim_stacks']>[] = []
  const events: ResourceEvent[] = []
  for (const op of operations) {
    if (op.operation === 'move') {
      await db
        .updateTable('sim_stacks')
        .set({ address: op.address, stack_name: op.stackName, updated_at: new Date() })
        .where('address', '=', op.movedFrom!)
        .execute()
      await moveStackZones(db, op.movedFrom!, op.address)
      await stackEvent(
        db,
        target.id,
        op.address,
        op.stackName,
        STACK_TYPE,
        'MOVE_COMPLETE',
        `moved from ${op.movedFrom}`,
      )
      continue
    }
    const status = IN_PROGRESS[op.pending!.operation]
    rows.push({
      address: op.address,
      target: target.id,
      stack_name: op.stackName,
      region: op.region,
      scope: op.scope,
      status,
      template: '{}',
      parameters: '{}',
      resources: '{}',
      pending: JSON.stringify(op.pending),
      settles_at: settlesAt(op),
    })
    events.push({
      target: target.id,
      stack: op.address,
      logical_id: op.stackName,
      resource_type: STACK_TYPE,
      status,
      reason: 'User Initiated',
    })
  }
  if (rows.length === 0) return
  // Moves are done above; the rest is one statement: a new stack is inserted, an existing one
  // (also one just moved to its new address) gets its operation.
  await db
    .insertInto('sim_stacks')
    .values(rows)
    .onConflict((oc) =>
      oc.column('address').doUpdateSet((eb) => ({
        status: eb.ref('excluded.status'),
        status_reason: '',
        pending: eb.ref('excluded.pending'),
        settles_at: eb.ref('excluded.settles_at'),
        updated_at: new Date(),
      })),
    )
    .execute()
  await db.insertInto('sim_stack_events').values(events).execute()
}

/** Carries out a settled operation's resource changes; throws what makes the stack roll back. */
async function carryOut(
  db: SimDb,
  target: { id: string; account: string },
  stack: SimStack,
  pending: PendingOperation,
  newId: (type: string, logicalId: string) => string,
): Promise<Record<string, StackResource>> {
  const existing = observedStack(stack)
  const after: RenderedStack | undefined =
    pending.operation === 'delete'
      ? undefined
      : { ...(existing ?? stackShell(stack)), template: pending.template, parameters: pending.parameters }
  const changes = diffStacks(existing ? [existing] : [], after ? [after] : [], isBuiltinProtected).filter(
    (c) => c.type !== STACK_TYPE,
  )
  const resources: Record<string, StackResource> = { ...stack.resources }
  const beforeResources = (stack.template.Resources ?? {}) as Record<
    string,
    { Type?: string; Properties?: unknown }
  >
  const afterResources = (pending.template.Resources ?? {}) as Record<
    string,
    { Type?: string; Properties?: unknown }
  >
  const contextOf = (
    template: Record<string, unknown>,
    parameters: Record<string, string>,
  ): IntrinsicContext => ({
    accountId: target.account,
    region: stack.region,
    stackName: stack.stackName,
    parameters: { ...parameterDefaults(template), ...parameters },
    physicalIds: Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, r.physicalId])),
  })
  const events: ResourceEvent[] = []
  // Destroy first (as CloudFormation's cleanup would, but before creates, so that a replaced
  // zone's name is free), zones before the records that live in them are re-created.
  const order = [...changes].sort((a, b) => rank(a) - rank(b))
  for (const change of order) {
    if (change.action !== 'replace') continue
    const logicalId = logicalIdOf(change.address)
    const kept = keptCustomName(
      beforeResources[logicalId],
      afterResources[logicalId],
      contextOf(stack.template, stack.parameters),
      contextOf(pending.template, pending.parameters),
    )
    if (kept) {
      throw new ResourceFailure(
        `CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename ${logicalId} and update the stack again. (${kept} stays the same while the change replaces it)`,
      )
    }
  }
  for (const change of order) {
    const logicalId = logicalIdOf(change.address)
    const old = resources[logicalId]
    if ((change.action === 'delete' || change.action === 'replace') && old) {
      await destroyResource(
        db,
        stack,
        logicalId,
        old,
        beforeResources[logicalId],
        contextOf(stack.template, stack.parameters),
        events,
        change.action,
      )
      delete resources[logicalId]
    }
  }
  for (const change of order) {
    const logicalId = logicalIdOf(change.address)
    const declared = afterResources[logicalId]
    if (!declared || change.action === 'delete') continue
    const type = String(declared.Type)
    if (change.action === 'create' || change.action === 'replace') {
      const physicalId = await createResource(
        db,
        target,
        stack,
        logicalId,
        declared,
        contextOf(pending.template, pending.parameters),
        newId,
      )
      resources[logicalId] = { type, physicalId }
    } else if (type === 'AWS::Route53::RecordSet') {
      const context = contextOf(pending.template, pending.parameters)
      await putRecordSet(db, stack, declared, context)
    }
    events.push({
      target: stack.target,
      stack: stack.address,
      logical_id: logicalId,
      resource_type: type,
      status: change.action === 'update' || change.action === 'move' ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE',
    })
  }
  // One insert for the resource events of a stack: a stack of 40 resources is one round trip.
  if (events.length > 0) await db.insertInto('sim_stack_events').values(events).execute()
  return resources
}

/** A resource event waiting to be written with the others of its stack. */
type ResourceEvent = Insertable<SimDatabase['sim_stack_events']>

function rank(change: Change): number {
  return change.type === 'AWS::Route53::HostedZone' ? 0 : 1
}

function stackShell(stack: SimStack): RenderedStack {
  return {
    address: stack.address,
    stackName: stack.stackName,
    region: stack.region,
    scope: stack.scope,
    source: 'sim',
    parameters: {},
    template: {},
  }
}

/** The `Default` of every template parameter that has one, as strings. */
export function parameterDefaults(template: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, declaration] of Object.entries(
    (template.Parameters ?? {}) as Record<string, { Default?: unknown }>,
  )) {
    if (declaration?.Default !== undefined) out[name] = String(declaration.Default)
  }
  return out
}

async function createResource(
  db: SimDb,
  target: { id: string; account: string },
  stack: SimStack,
  logicalId: string,
  declared: { Type?: string; Properties?: unknown },
  context: IntrinsicContext,
  newId: (type: string, logicalId: string) => string,
): Promise<string> {
  const type = String(declared.Type)
  if (type === 'AWS::Route53::HostedZone') {
    const properties = evaluateIntrinsics(declared.Properties ?? {}, context) as { Name?: unknown }
    if (typeof properties.Name !== 'string')
      throw new ResourceFailure(`${logicalId}: Properties.Name is required`)
    const zone = await createOrAdoptZone(db, target.account, properties.Name, {
      stack: stack.address,
      logicalId,
    })
    await resyncExternalDns(db, target.account)
    return zone.id
  }
  if (type === 'AWS::Route53::RecordSet') {
    await putRecordSet(db, stack, declared, context)
    return newId(type, logicalId)
  }
  return newId(type, logicalId)
}

interface RecordSetProperties {
  HostedZoneId?: unknown
  HostedZoneName?: unknown
  Name?: unknown
  Type?: unknown
  TTL?: unknown
  ResourceRecords?: unknown
}

async function recordTarget(db: SimDb, stack: SimStack, properties: RecordSetProperties) {
  const zones = await zonesOf(db)
  const zone =
    typeof properties.HostedZoneId === 'string'
      ? zones.find((z) => z.id === properties.HostedZoneId)
      : typeof properties.HostedZoneName === 'string'
        ? zones.find((z) => z.name === normalizeName(String(properties.HostedZoneName)))
        : undefined
  if (!zone) throw new ResourceFailure(`the hosted zone of record ${String(properties.Name)} does not exist`)
  void stack
  return zone
}

async function putRecordSet(
  db: SimDb,
  stack: SimStack,
  declared: { Properties?: unknown },
  context: IntrinsicContext,
): Promise<void> {
  const properties = evaluateIntrinsics(declared.Properties ?? {}, context) as RecordSetProperties
  const zone = await recordTarget(db, stack, properties)
  const values = Array.isArray(properties.ResourceRecords) ? properties.ResourceRecords.map(String) : []
  await upsertRecord(db, zone, {
    name: String(properties.Name),
    type: String(properties.Type) as RecordType,
    ttl: Number(properties.TTL ?? 300),
    values,
    owner: stack.address,
  })
}

async function destroyResource(
  db: SimDb,
  stack: SimStack,
  logicalId: string,
  resource: StackResource,
  declared: { Properties?: unknown } | undefined,
  context: IntrinsicContext,
  events: ResourceEvent[],
  action: 'delete' | 'replace',
): Promise<void> {
  const keep = retained(stack, logicalId, action)
  if (resource.type === 'AWS::Route53::HostedZone') {
    if (keep) await detachZone(db, resource.physicalId)
    else await deleteZone(db, resource.physicalId)
  } else if (resource.type === 'AWS::Route53::RecordSet' && declared && !keep) {
    try {
      const properties = evaluateIntrinsics(declared.Properties ?? {}, context) as RecordSetProperties
      const zone = await recordTarget(db, stack, properties)
      await deleteRecord(db, zone.id, String(properties.Name), String(properties.Type))
    } catch {
      // The zone went first: its records went with it.
    }
  }
  events.push({
    target: stack.target,
    stack: stack.address,
    logical_id: logicalId,
    resource_type: resource.type,
    status: keep ? 'DELETE_SKIPPED' : 'DELETE_COMPLETE',
    reason: keep ? `${action === 'replace' ? 'UpdateReplacePolicy' : 'DeletionPolicy'}: Retain` : '',
  })
}

/** Re-publishes external-dns records of every cluster of an account (a zone appeared). */
export async function resyncExternalDns(db: SimDb, account: string): Promise<void> {
  for (const id of await clustersOfAccount(db, account)) {
    const objects = await loadObjects(db, [id])
    await syncExternalDns(
      db,
      id,
      account,
      externalDnsRecords(
        id,
        objects.map((o) => o.object as Record<string, unknown>),
      ),
    )
  }
}

/**
 * Settles one stack whose operation is due: carries out its resource changes and records the
 * final state, all in one transaction; if carrying out fails (or `fail` is set by a
 * `resource-failure` fault), nothing of it stays and the stack ends rolled back with the reason.
 */
export async function settleStack(
  db: SimDb,
  target: { id: string; account: string },
  stack: SimStack,
  fail: string | undefined,
  newId: (type: string, logicalId: string) => string,
): Promise<void> {
  const pending = stack.pending
  if (!pending) return
  let reason = fail
  if (reason === undefined) {
    try {
      // Zones and records are shared by stacks and clusters (external-dns): on PostgreSQL two
      // settles may lock them in opposite orders; the one rolled back runs again.
      await retryingDeadlocks(() =>
        db.transaction().execute(async (trx) => {
          if (!(await claim(trx, stack))) return
          const resources = await carryOut(trx, target, stack, pending, newId)
          if (pending.operation === 'delete') {
            await trx.deleteFrom('sim_stacks').where('address', '=', stack.address).execute()
            await stackEvent(trx, stack.target, stack.address, stack.stackName, STACK_TYPE, 'DELETE_COMPLETE')
            return
          }
          const status = pending.operation === 'create' ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE'
          await trx
            .updateTable('sim_stacks')
            .set({
              status,
              status_reason: '',
              template: JSON.stringify(pending.template),
              parameters: JSON.stringify(pending.parameters),
              resources: JSON.stringify(resources as unknown as Json),
              pending: null,
              settles_at: null,
              updated_at: new Date(),
            })
            .where('address', '=', stack.address)
            .execute()
          await stackEvent(trx, stack.target, stack.address, stack.stackName, STACK_TYPE, status)
        }),
      )
      return
    } catch (error) {
      if (error instanceof Error && error.name !== 'UnresolvableError' && !isResourceError(error)) throw error
      reason = (error as Error).message
    }
  }
  const status = FAILED[pending.operation]
  await db.transaction().execute(async (trx) => {
    if (!(await claim(trx, stack))) return
    await trx
      .updateTable('sim_stacks')
      .set({ status, status_reason: reason, pending: null, settles_at: null, updated_at: new Date() })
      .where('address', '=', stack.address)
      .execute()
    await stackEvent(trx, stack.target, stack.address, stack.stackName, STACK_TYPE, status, reason)
  })
}

/**
 * Locks a stack row for settling and checks that its operation is still the one to carry out:
 * two processes on one PostgreSQL may find the same operation due; only the first carries it out.
 */
async function claim(db: SimDb, stack: SimStack): Promise<boolean> {
  const row = await db
    .selectFrom('sim_stacks')
    .select(['pending', 'settles_at'])
    .where('address', '=', stack.address)
    .forUpdate()
    .executeTakeFirst()
  return row !== undefined && row.pending !== null && row.settles_at?.getTime() === stack.settlesAt?.getTime()
}

/**
 * The custom name (`BucketName` of a bucket, `RoleName` of a role: the type's own `…Name`
 * identifying property) a replaced resource keeps unchanged, if any: CloudFormation creates the
 * replacement before it deletes the old resource, so both would need the name, and it refuses the
 * update (the stack rolls back). A stack created from the same template is fine: a failure of the
 * upgrade path alone. (A zone's `Name` or a certificate's `DomainName` may be shared: not these.)
 */
function keptCustomName(
  before: { Type?: string; Properties?: unknown } | undefined,
  after: { Type?: string; Properties?: unknown } | undefined,
  beforeContext: IntrinsicContext,
  afterContext: IntrinsicContext,
): string | undefined {
  if (!before || !after || before.Type !== after.Type) return undefined
  const type = String(after.Type)
  const own = `${type.split('::').at(-1)}Name`
  const names = (awsResourceType(type)?.identifyingProperties ?? []).filter((name) => name === own)
  if (names.length === 0) return undefined
  const old = evaluateIntrinsics(before.Properties ?? {}, beforeContext) as Record<string, unknown>
  const next = evaluateIntrinsics(after.Properties ?? {}, afterContext) as Record<string, unknown>
  return names.find(
    (name) => next[name] !== undefined && JSON.stringify(next[name]) === JSON.stringify(old[name]),
  )
}

/** A resource that cannot be created as declared (CloudFormation's `CREATE_FAILED` reason). */
class ResourceFailure extends Error {
  override readonly name = 'ResourceFailure'
}

/** Errors of a resource's own values, which roll the stack back; anything else is a bug. */
function isResourceError(error: Error): boolean {
  return error instanceof ResourceFailure || error instanceof InputError || error instanceof ConflictError
}

/** Snapshot content of a zone: the zone and every record set in it. */
export interface ZoneSnapshot {
  readonly zone: { readonly id: string; readonly name: string; readonly account: string }
  readonly records: readonly {
    name: string
    type: string
    ttl: number
    values: readonly string[]
    owner: string
  }[]
}

/** Reads what a snapshot of a zone must hold. */
export async function zoneSnapshot(db: SimDb, zoneId: string): Promise<ZoneSnapshot | undefined> {
  const zone = await zoneById(db, zoneId)
  if (!zone) return undefined
  const records = await recordsOf(db, zoneId)
  return {
    zone: { id: zone.id, name: zone.name, account: zone.account },
    records: records.map((r) => ({
      name: r.name,
      type: r.type,
      ttl: r.ttl,
      values: [...r.values],
      owner: r.owner,
    })),
  }
}

/** Stacks whose operation is due by `now` (of some targets, or all), oldest first. */
export async function dueStacks(db: SimDb, now: Date, targets?: readonly string[]): Promise<SimStack[]> {
  if (targets !== undefined && targets.length === 0) return []
  let query = db
    .selectFrom('sim_stacks')
    .selectAll()
    .where('pending', 'is not', null)
    .where('settles_at', '<=', now)
  if (targets !== undefined) query = query.where('target', 'in', targets)
  const rows = await query.orderBy('settles_at').orderBy('address').execute()
  return rows.map(toSimStack)
}

/** How many stacks are in each status, by status. */
export async function stackStatusCounts(db: SimDb): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('sim_stacks')
    .select(['status', db.fn.countAll<number>().as('n')])
    .groupBy('status')
    .orderBy('status')
    .execute()
  return Object.fromEntries(rows.map((s) => [s.status, Number(s.n)]))
}

/** One stack of a target, by address. */
export async function stackAt(db: SimDb, target: string, address: string): Promise<SimStack | undefined> {
  const row = await db
    .selectFrom('sim_stacks')
    .selectAll()
    .where('target', '=', target)
    .where('address', '=', address)
    .executeTakeFirst()
  return row ? toSimStack(row) : undefined
}

/** Replaces a stack's template as deployed (a change made outside Flotilla). */
export async function setStackTemplate(db: SimDb, address: string, template: Record<string, unknown>) {
  await db
    .updateTable('sim_stacks')
    .set({ template: JSON.stringify(template) })
    .where('address', '=', address)
    .execute()
}

/** Replaces a stack's resources as deployed (a restored zone taken back into it). */
export async function setStackResources(
  db: SimDb,
  address: string,
  resources: Record<string, StackResource>,
) {
  await db
    .updateTable('sim_stacks')
    .set({ resources: JSON.stringify(resources) })
    .where('address', '=', address)
    .execute()
}

/** Changes columns of one stack (what the AWS-compatible API sets: protection, policy, tags, a refused update). */
export async function updateStack(db: SimDb, address: string, set: Updateable<SimDatabase['sim_stacks']>) {
  await db.updateTable('sim_stacks').set(set).where('address', '=', address).execute()
}

/** What the AWS-compatible API shows of a stack besides {@link SimStack}. */
export async function stackApiColumns(db: SimDb, address: string) {
  return db
    .selectFrom('sim_stacks')
    .select(['created_at', 'updated_at', 'stack_policy', 'tags'])
    .where('address', '=', address)
    .executeTakeFirstOrThrow()
}

/** A stack's events since `since`, newest first (at most `limit`). */
export async function stackEventsSince(db: SimDb, address: string, since: Date, limit: number) {
  return db
    .selectFrom('sim_stack_events')
    .selectAll()
    .where('stack', '=', address)
    .where('at', '>=', since)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
}
