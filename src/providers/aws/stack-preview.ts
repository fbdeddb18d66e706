/**
 * The cloud's preview of a stack change (`flotilla plan --cloud-preview`): a change set created as
 * `apply` would create it, read, and deleted again — with the stack CloudFormation made for it,
 * for a stack that did not exist. Nothing is executed.
 */
import {
  type Change as CfnChange,
  type CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation'
import { isProviderError } from '../../core/errors.ts'
import type { RenderedStack } from '../../core/model/desired-state.ts'
import type { Target } from '../../core/model/fleet-model.ts'
import type { PreviewedChange, StackPreview } from '../../core/provider/port.ts'
import { sleep } from '../../lib/abortable.ts'
import type { AccountSession } from './account-sessions.ts'
import { sendOptions } from './aws-calls.ts'
import { providerErrorOf } from './aws-errors.ts'
import { changeSetInput, changeSetName, computedChangeSet, notFound } from './change-sets.ts'

/**
 * What deploying `desired` would do, as CloudFormation computes it. `signal` stops the creation
 * and the wait; the cleanup runs to its end regardless, so no preview is left behind.
 */
export async function previewStack(
  session: AccountSession,
  target: Target,
  desired: RenderedStack,
  exists: boolean,
  options: { readonly pollMs: number; readonly signal?: AbortSignal | undefined },
): Promise<StackPreview> {
  const client = session.cloudFormation(desired.region)
  const name = changeSetName('flotilla-preview')
  const created = await client
    .send(
      new CreateChangeSetCommand(
        changeSetInput(desired, target, name, exists, 'Flotilla cloud preview (never executed)'),
      ),
      sendOptions(options.signal),
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
    const computed = await computedChangeSet(client, target, desired, name, options)
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
    await discardPreview(client, target, desired, name, exists ? undefined : created.StackId)
  }
}

/**
 * Deletes a preview's change set and, for a new stack, the stack CloudFormation made for it —
 * by its id and only while it is still `REVIEW_IN_PROGRESS`, so a stack that meanwhile became
 * real is never touched.
 */
async function discardPreview(
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
  await retried(() =>
    client
      .send(new DeleteChangeSetCommand({ StackName: desired.stackName, ChangeSetName: name }))
      .then(() => undefined)
      .catch((error: unknown) => {
        // A change set that failed was deleted when it was read.
        if (!notFound(error)) fail(error)
      }),
  )
  if (!reviewStackId) return
  const stack = await retried(() =>
    client
      .send(new DescribeStacksCommand({ StackName: reviewStackId }))
      .then((out) => out.Stacks?.[0])
      .catch((error: unknown) => {
        if (notFound(error)) return undefined // gone with its change set
        return fail(error)
      }),
  )
  if (stack?.StackStatus === 'REVIEW_IN_PROGRESS')
    await retried(() =>
      client
        .send(new DeleteStackCommand({ StackName: reviewStackId }))
        .then(() => undefined)
        .catch(fail),
    )
}

/** Attempts of a cleanup call in total, and the first backoff (doubling, full jitter, at most 5 s). */
const CLEANUP_ATTEMPTS = 6
const CLEANUP_BASE_MS = 200
const CLEANUP_MAX_MS = 5000

/**
 * Runs `call` again while it fails with a retryable provider error, backing off with full jitter
 * (the scheme of the apply path's retries, which providers do not import).
 */
async function retried<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      if (!isProviderError(error) || !error.retryable || attempt >= CLEANUP_ATTEMPTS) throw error
      await sleep(Math.round(Math.random() * Math.min(CLEANUP_MAX_MS, CLEANUP_BASE_MS * 2 ** (attempt - 1))))
    }
  }
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
