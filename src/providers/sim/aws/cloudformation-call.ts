/**
 * What every action of the simulated CloudFormation uses: its parameters, finding stacks by name
 * or id, stack ids, and how long an operation takes.
 */
import { createHash } from 'node:crypto'
import { extraLatencyMs } from '../faults.ts'
import { stackOperationMs } from '../latency.ts'
import { loadStacks, type SimStack, stackApiColumns } from '../sim-stacks.ts'
import type { AwsCall } from './aws-call.ts'
import { validationError } from './aws-errors.ts'
import { parseStackPolicy } from './change-sets.ts'

/** How long an operation on resources of these types takes, as the simulator's apply has it. */
export async function operationMs(call: AwsCall, types: readonly string[], now: Date): Promise<number> {
  const settings = await call.sim.settings()
  const faults = await call.sim.faults()
  return (
    stackOperationMs(types, settings.latencyScale) +
    extraLatencyMs(faults, { id: call.account.target, regions: [call.region] }, now)
  )
}

export function required(call: AwsCall, name: string): string {
  const value = call.params.get(name)
  if (value === undefined || value === '')
    throw validationError(
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
    )
  return value
}

/** The stack tags of a request (`Tags.member.N.Key` / `.Value`), at most 50 as CloudFormation allows. */
export function tagsOf(call: AwsCall): { Key: string; Value: string }[] {
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
export function listParam(call: AwsCall, name: string): string[] {
  const values: string[] = []
  for (let index = 1; call.params.has(`${name}.member.${index}`); index++)
    values.push(call.params.get(`${name}.member.${index}`)!)
  return values
}

/** A stack name, or the name inside a stack id (`arn:aws:cloudformation:…:stack/<name>/<uuid>`). */
export function nameOf(nameOrId: string): string {
  const match = /^arn:aws:cloudformation:[^:]*:\d{12}:stack\/([^/]+)\//.exec(nameOrId)
  return match ? match[1]! : nameOrId
}

export async function stacksInRegion(call: AwsCall): Promise<SimStack[]> {
  return (await loadStacks(call.db, call.account.target)).filter((stack) => stack.region === call.region)
}

export async function findStack(call: AwsCall, nameOrId: string): Promise<SimStack | undefined> {
  const name = nameOf(nameOrId)
  const stack = (await stacksInRegion(call)).find((s) => s.stackName === name)
  if (stack && nameOrId.startsWith('arn:') && stackId(call, stack) !== nameOrId) return undefined
  return stack
}

export function isStack(stack: SimStack | undefined): stack is SimStack {
  return stack !== undefined
}

export async function stackRow(call: AwsCall, address: string) {
  return stackApiColumns(call.db, address)
}

export function stackPolicyOf(row: { stack_policy: unknown }) {
  return row.stack_policy === null ? undefined : parseStackPolicy(JSON.stringify(row.stack_policy))
}

/**
 * A stack's id: an ARN whose last part is derived from its address and creation time, so every
 * process names a stack alike and a stack deleted and created again has a new id.
 */
export function stackIdFor(call: AwsCall, address: string, createdAt: Date, region: string): string {
  const hash = createHash('sha256').update(`${address}\n${createdAt.toISOString()}`).digest('hex')
  const uuid = `${hash.slice(0, 8)}-${hash.slice(8, 12)}-${hash.slice(12, 16)}-${hash.slice(16, 20)}-${hash.slice(20, 32)}`
  const name = address.slice(address.lastIndexOf('/') + 1)
  return `arn:aws:cloudformation:${region}:${call.account.id}:stack/${name}/${uuid}`
}

export function stackId(call: AwsCall, stack: SimStack): string {
  return stackIdFor(call, stack.address, stack.createdAt, stack.region)
}

export function reviewStackId(call: AwsCall, address: string, createdAt: Date): string {
  return stackIdFor(call, address, createdAt, call.region)
}
