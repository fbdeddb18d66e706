/**
 * Change sets: how every stack change is made and previewed. One input for both (what `apply`
 * executes and what `preview` asks about are made the same way), and the wait until CloudFormation
 * computed one, with all its changes read.
 */
import { randomBytes } from 'node:crypto'
import {
  type Change as CfnChange,
  type CloudFormationClient,
  type CreateChangeSetCommandInput,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
} from '@aws-sdk/client-cloudformation'
import type { RenderedStack } from '../../core/model/desired-state.ts'
import type { Target } from '../../core/model/fleet-model.ts'
import { ProviderError } from '../../core/provider/port.ts'
import { toLongForm } from '../../core/yaml/cfn-tags.ts'
import { sleep } from '../../lib/abortable.ts'
import { sendOptions } from './aws-calls.ts'
import { providerErrorOf } from './aws-errors.ts'
import { TAG } from './managed-stacks.ts'

/** How long to wait for CloudFormation to compute a change set. */
const CHANGE_SET_TIMEOUT_MS = 5 * 60_000

/** A change set as CloudFormation computed it. */
export type Computed =
  | { readonly outcome: 'computed'; readonly changes: readonly CfnChange[]; readonly stackId?: string }
  | { readonly outcome: 'no-changes' }
  | { readonly outcome: 'refused'; readonly reason: string }

/**
 * The change set that deploys `desired`: what `apply` executes and what `preview` asks about are
 * made the same way (the tags too: a stack's tags reach its resources, so they change them).
 */
export function changeSetInput(
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
export function changeSetName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
}

/** Deletes a change set, if it can: one that is left behind never runs. */
export async function dropChangeSet(
  client: CloudFormationClient,
  desired: RenderedStack,
  name: string,
): Promise<void> {
  await client
    .send(new DeleteChangeSetCommand({ StackName: desired.stackName, ChangeSetName: name }))
    .catch(() => {})
}

/**
 * Waits until CloudFormation computed the change set, and reads all its changes (they come in
 * pages of 100). A change set that failed is deleted: it can never run.
 */
export async function computedChangeSet(
  client: CloudFormationClient,
  target: Target,
  desired: RenderedStack,
  name: string,
  options: { readonly pollMs: number; readonly signal?: AbortSignal | undefined },
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
        sendOptions(options.signal),
      )
      .catch((error: unknown) => {
        throw providerErrorOf(
          error,
          target.id,
          `cannot read the change set of ${desired.address}`,
          desired.address,
        )
      })
  for (let wait = 100; ; wait = Math.min(wait * 2, options.pollMs)) {
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
      await dropChangeSet(client, desired, name)
      if (/didn't contain changes|no changes/i.test(described.StatusReason ?? ''))
        return { outcome: 'no-changes' }
      return { outcome: 'refused', reason: described.StatusReason ?? 'FAILED' }
    }
    if (Date.now() > deadline)
      throw new ProviderError('unavailable', target.id, `the change set of ${desired.address} took too long`)
    await sleep(wait, options.signal)
  }
}

/** Whether CloudFormation says the change set or stack asked for does not exist (any more). */
export function notFound(error: unknown): boolean {
  return /does not exist|ChangeSetNotFound/i.test(String((error as Error).name) + (error as Error).message)
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
