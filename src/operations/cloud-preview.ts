/**
 * `flotilla plan --cloud-preview`: asks the cloud what each changed stack of the plan would do
 * (a change set per stack, created, read and deleted, never executed), a bounded number at a
 * time across the fleet, and merges the answers into the plan.
 */

import { isProviderError } from '../core/errors.ts'
import type { Plan } from '../core/model/plan.ts'
import { mergeCloudPreview, stackAddressOf } from '../core/plan/cloud-preview.ts'
import { STACK_TYPE } from '../core/plan/diff-stacks.ts'
import type { FleetState } from '../core/policy/plan-context.ts'
import type { StackPreview } from '../core/provider/port.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import { type RetryOptions, withRetries } from './retry.ts'

/** How many change sets are worked on at once across the fleet, unless told otherwise. */
export const DEFAULT_PREVIEW_CONCURRENCY = 8

/** Options of {@link previewInCloud}. */
export interface CloudPreviewOptions {
  /** Change sets worked on at once. @default {@link DEFAULT_PREVIEW_CONCURRENCY} */
  readonly concurrency?: number
  /** How provider calls are retried (throttling, outages) on top of the SDK's own retries. */
  readonly retry?: RetryOptions
}

/** One stack to preview. */
interface Task {
  readonly targetId: string
  readonly address: string
  readonly run: () => Promise<StackPreview>
}

/**
 * The plan with the cloud's view merged in (see `mergeCloudPreview`). `head` is the desired
 * state planned, `observed` what the plan compared it with: a stack observed is previewed as an
 * update, any other as a creation. Stacks deleted whole are not previewed (CloudFormation has
 * no preview of a deletion), nor moved ones, nor targets whose provider has no cloud to ask.
 */
export async function previewInCloud(
  plan: Plan,
  head: FleetState,
  observed: FleetState,
  registry: ProviderRegistry,
  options: CloudPreviewOptions = {},
): Promise<Plan> {
  const skipped = new Map<string, number>()
  const skip = (reason: string) => skipped.set(reason, (skipped.get(reason) ?? 0) + 1)
  const byAccount: Task[][] = []
  for (const targetPlan of plan.targets) {
    const target = head.targets.get(targetPlan.id)
    if (targetPlan.kind !== 'account' || !target) continue
    const provider = registry.forTarget(target)
    const preview = provider.preview?.bind(provider)
    if (!preview) {
      skip(`accounts on provider ${provider.name}, which has no cloud to ask`)
      continue
    }
    const desired = new Map((head.desired.get(target.id)?.stacks ?? []).map((s) => [s.address, s]))
    const existing = new Set((observed.desired.get(target.id)?.stacks ?? []).map((s) => s.address))
    const tasks: Task[] = []
    for (const address of new Set(targetPlan.changes.map((c) => stackAddressOf(c.address)))) {
      const stack = desired.get(address)
      const changes = targetPlan.changes.filter((c) => stackAddressOf(c.address) === address)
      if (!stack) skip('stacks deleted whole (CloudFormation previews no deletion)')
      else if (changes.some((c) => c.action === 'move' && c.type === STACK_TYPE))
        skip('stacks moved (MovedFrom), which are not previewed')
      else
        tasks.push({
          targetId: target.id,
          address,
          run: () => withRetries(() => preview(target, stack, existing.has(address)), options.retry),
        })
    }
    byAccount.push(tasks)
  }

  const previews = new Map<string, StackPreview[]>()
  const failures: { address: string; message: string }[] = []
  const queue = interleave(byAccount)
  const worker = async () => {
    for (let task = queue.shift(); task; task = queue.shift()) {
      try {
        const result = await task.run()
        const list = previews.get(task.targetId) ?? []
        list.push(result)
        previews.set(task.targetId, list)
      } catch (error) {
        // Not instanceof alone: the provider may come from a module loaded on its own (lazyProvider).
        if (!isProviderError(error)) throw error
        failures.push({ address: task.address, message: error.message })
      }
    }
  }
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_PREVIEW_CONCURRENCY)
  await Promise.all(Array.from({ length: concurrency }, worker))
  // Answers arrive in any order; the plan is the same whatever order they came in.
  const byAddress = (a: { address: string }, b: { address: string }) => (a.address < b.address ? -1 : 1)
  for (const list of previews.values()) list.sort(byAddress)
  failures.sort(byAddress)
  return mergeCloudPreview(plan, {
    previews,
    failures,
    skipped: [...skipped].map(([reason, count]) => ({ reason, count })),
  })
}

/**
 * The accounts' stacks taken in turn — the first stack of each account, then the second, … — so
 * that the change sets worked on at once are in different accounts: CloudFormation throttles
 * each account on its own.
 */
function interleave(lists: readonly (readonly Task[])[]): Task[] {
  const out: Task[] = []
  for (let i = 0; lists.some((list) => i < list.length); i++)
    for (const list of lists) if (i < list.length) out.push(list[i]!)
  return out
}
