import { STACK_TYPE } from '../../model/plan.ts'
import { allChanges } from '../plan-context.ts'
import type { PlanRule } from '../rules.ts'

/**
 * `delete-budget`: more deletions in one plan than `limits.maxDeletes` need an approval by a
 * pattern with the exact expected count — so that "delete 600 things" is never approved by
 * someone who thought it was six. A replacement counts as a deletion: it deletes the resource (and
 * what it held) and creates another, so replacing N resources spends N of the budget. Updates
 * that only may replace are not counted (protected ones need their own approval from
 * `protected-destroy`), nor are the stack entries, whose resources are counted one by one.
 */
export const deleteBudget: PlanRule = {
  id: 'delete-budget',
  description: 'more deletions (replacements included) in one plan than limits.maxDeletes',
  evaluate(context) {
    const deleted: string[] = []
    let replaced = 0
    for (const { change } of allChanges(context)) {
      if (change.type === STACK_TYPE) continue
      if (change.action === 'delete') deleted.push(change.address)
      else if (change.action === 'replace') {
        deleted.push(change.address)
        replaced++
      }
    }
    const limit = context.limits.maxDeletes
    if (deleted.length <= limit) return []
    const glob = commonPattern(deleted)
    const replacements =
      replaced === 0 ? '' : ` (${replaced === deleted.length ? 'all' : `${replaced} of them`} replacements)`
    return [
      {
        rule: this.id,
        effect: 'require-approval',
        message: `${deleted.length} deletions in one plan${replacements}, more than limits.maxDeletes (${limit}); approve them with the pattern "${glob}" and the exact count ${deleted.length}, or split the change`,
        addresses: deleted,
        pattern: { glob, expectedCount: deleted.length },
      },
    ]
  },
}

/**
 * The narrowest `*`-pattern of `/`-separated segments that matches every address. Addresses of
 * different depths (none today: stack resources and Kubernetes objects both have four segments)
 * share their common leading segments and end in `**`.
 */
export function commonPattern(addresses: readonly string[]): string {
  const split = addresses.map((a) => a.split('/'))
  const lengths = new Set(split.map((s) => s.length))
  const shortest = Math.min(...lengths)
  const compared = lengths.size === 1 ? shortest : shortest - 1
  const segments: string[] = []
  for (let i = 0; i < compared; i++) {
    const values = new Set(split.map((s) => s[i]!))
    segments.push(values.size === 1 ? [...values][0]! : '*')
  }
  if (lengths.size > 1) segments.push('**')
  return segments.join('/')
}
