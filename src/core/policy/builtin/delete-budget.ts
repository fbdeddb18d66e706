import { STACK_TYPE } from '../../plan/diff-stacks.ts'
import { allChanges } from '../plan-context.ts'
import type { PlanRule } from '../rules.ts'

/**
 * `delete-budget`: more deletions in one plan than `limits.maxDeletes` need an approval by a
 * pattern with the exact expected count — so that "delete 600 things" is never approved by
 * someone who thought it was six.
 */
export const deleteBudget: PlanRule = {
  id: 'delete-budget',
  description: 'more deletions in one plan than limits.maxDeletes',
  evaluate(context) {
    const deleted: string[] = []
    for (const { change } of allChanges(context)) {
      if (change.action === 'delete' && change.type !== STACK_TYPE) deleted.push(change.address)
    }
    const limit = context.limits.maxDeletes
    if (deleted.length <= limit) return []
    const glob = commonPattern(deleted)
    return [
      {
        rule: this.id,
        effect: 'require-approval',
        message: `${deleted.length} deletions in one plan, more than limits.maxDeletes (${limit}); approve them with the pattern "${glob}" and the exact count ${deleted.length}, or split the change`,
        addresses: deleted,
        pattern: { glob, expectedCount: deleted.length },
      },
    ]
  },
}

/** The narrowest `*`-pattern of `/`-separated segments that matches every address. */
export function commonPattern(addresses: readonly string[]): string {
  const split = addresses.map((a) => a.split('/'))
  const length = Math.max(...split.map((s) => s.length))
  const segments: string[] = []
  for (let i = 0; i < length; i++) {
    const values = new Set(split.map((s) => s[i] ?? ''))
    segments.push(values.size === 1 ? [...values][0]! : '*')
  }
  return segments.join('/')
}
