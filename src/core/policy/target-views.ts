/**
 * A target as each judge of a plan sees it. A change that lowers its own target's `environment`,
 * `criticality` or `group`, or moves it to another stage, would otherwise be judged as the kind of
 * target it pretends to be: policies are asked about every view — base, head and the trusted
 * revision — and a rule fires when it fires for any of them (strictest wins).
 */
import { targetVariable } from '../render/contexts.ts'
import type { PlanContext } from './plan-context.ts'

/** One way of seeing a target: its CEL `target` variable and its stage. */
export interface TargetView {
  readonly target: unknown
  readonly stage: string
}

/** Views per target id, per plan (keyed by the head side, the same object for every rule). */
const cache = new WeakMap<object, Map<string, readonly TargetView[]>>()

/** The distinct views of target `id`: the head's first, then the base's and the trusted revision's. */
export function targetViews(context: Omit<PlanContext, 'findings'>, id: string): readonly TargetView[] {
  let byId = cache.get(context.head)
  if (!byId) {
    byId = new Map()
    cache.set(context.head, byId)
  }
  const known = byId.get(id)
  if (known) return known
  const sides = [
    { targets: context.head.targets, stageOf: context.head.stageOf },
    { targets: context.base.targets, stageOf: context.base.stageOf },
    ...(context.trusted ? [context.trusted] : []),
  ]
  const views: TargetView[] = []
  const keys = new Set<string>()
  for (const side of sides) {
    const target = side.targets.get(id)
    if (!target) continue
    const view = { target: targetVariable(target), stage: side.stageOf.get(id) ?? '' }
    const key = JSON.stringify(view, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
    if (keys.has(key)) continue
    keys.add(key)
    views.push(view)
  }
  byId.set(id, views)
  return views
}
