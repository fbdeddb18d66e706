/**
 * What the states of an account's stacks say: whether its last changes have settled (`settled`)
 * and whether it is healthy (the `health` gate). Pure: the stacks are read by the caller.
 */
import type { Health, SettleStatus, UnsettledItem } from '../../core/provider/port.ts'
import { GOOD, type ManagedStack, REVIEW_IN_PROGRESS } from './managed-stacks.ts'

/**
 * `settled` when every stack rests in a good state, `failed` when one rests in another (a rolled
 * back update), else `in-progress`. A stack of a change set never executed does not count.
 */
export function settleStatusOf(managed: readonly ManagedStack[]): SettleStatus {
  const items: UnsettledItem[] = []
  let failed = false
  for (const { stack, address } of managed) {
    const status = stack.StackStatus ?? 'UNKNOWN'
    if (GOOD.has(status) || status === REVIEW_IN_PROGRESS) continue
    if (!status.endsWith('_IN_PROGRESS')) failed = true
    items.push({ address, status, reason: stack.StackStatusReason ?? status })
  }
  return { state: failed ? 'failed' : items.length > 0 ? 'in-progress' : 'settled', items }
}

/** One check per deployed stack: healthy when it rests in a good state. */
export function healthOf(managed: readonly ManagedStack[]): Health {
  const checks = managed
    .filter((m) => m.stack.StackStatus !== REVIEW_IN_PROGRESS)
    .map(({ stack, address }) => ({
      name: address,
      healthy: GOOD.has(stack.StackStatus ?? ''),
      detail: `${stack.StackStatus}${stack.StackStatusReason ? `: ${stack.StackStatusReason}` : ''}`,
    }))
  if (checks.length === 0) checks.push({ name: 'stacks', healthy: true, detail: 'nothing deployed yet' })
  return { healthy: checks.every((c) => c.healthy), checks }
}
