/**
 * The targets that stand for a whole plan in `flotilla test`: for each distinct change of the plan
 * (the groups its review forms, `change-groups.ts`), at least one target in every stage that
 * receives it. A change every account gets is then tried once per stage, not 300 times, and a
 * change only production gets is still tried where production has it.
 *
 * Within a stage the fewest targets are taken that cover its changes (greedily: the target
 * receiving most of the changes still uncovered, then the earliest by id), so one account with
 * its cluster often stands for the whole stage. A cluster brings its account: the account's zone
 * and stacks are what the cluster's DNS names and workloads stand on.
 */
import type { Plan, TargetPlan } from '../model/plan.ts'
import { groupIdenticalChanges } from './change-groups.ts'

/** One chosen target and why. */
export interface RepresentativeTarget {
  readonly id: string
  readonly kind: 'account' | 'cluster'
  readonly stage: string | null
  /** The changes it stands for, as `action address` without the target id; empty for an account brought by its cluster. */
  readonly changes: readonly string[]
  /** Set for an account taken because its cluster was: the cluster's id. */
  readonly broughtBy?: string
}

/** What {@link representativeTargets} needs of the fleet: a cluster's account, the stage order. */
export interface SelectionContext {
  /** The account of a cluster, by cluster id (of the head, or the base for a removed cluster). */
  readonly accountOf: (clusterId: string) => string | undefined
  /** The stages in rollout order; a target of an unknown stage comes last. */
  readonly stageOrder: readonly string[]
  /** The stage of a target that is not in the plan (an account brought by its cluster). */
  readonly stageOf: (targetId: string) => string | null
}

/** Chooses the representatives of `plan` (see the module comment), in stage order, then by id. */
export function representativeTargets(plan: Plan, context: SelectionContext): RepresentativeTarget[] {
  const groups = groupIdenticalChanges(plan.targets)
  // Per stage: which groups it must cover, and which of its targets receive which group.
  const byStage = new Map<string | null, Map<string, { plan: TargetPlan; groups: Set<number> }>>()
  groups.forEach((group, index) => {
    for (const target of group.targets) {
      const stage = byStage.get(target.stage) ?? new Map()
      byStage.set(target.stage, stage)
      const entry = stage.get(target.id) ?? { plan: target, groups: new Set<number>() }
      entry.groups.add(index)
      stage.set(target.id, entry)
    }
  })
  const label = (index: number) => {
    const group = groups[index]!
    return `${group.change.action} ${group.relative}`
  }
  const chosen = new Map<string, RepresentativeTarget>()
  for (const stage of orderStages([...byStage.keys()], context.stageOrder)) {
    const candidates = [...byStage.get(stage)!.values()].sort((a, b) => a.plan.id.localeCompare(b.plan.id))
    const uncovered = new Set(candidates.flatMap((c) => [...c.groups]))
    while (uncovered.size > 0) {
      let best = candidates[0]!
      let bestCount = -1
      for (const candidate of candidates) {
        const count = [...candidate.groups].filter((g) => uncovered.has(g)).length
        if (count > bestCount) {
          best = candidate
          bestCount = count
        }
      }
      for (const g of best.groups) uncovered.delete(g)
      chosen.set(best.plan.id, {
        id: best.plan.id,
        kind: best.plan.kind,
        stage,
        changes: [...best.groups].sort((a, b) => a - b).map(label),
      })
    }
  }
  for (const target of [...chosen.values()]) {
    if (target.kind !== 'cluster') continue
    const account = context.accountOf(target.id)
    if (account === undefined || chosen.has(account)) continue
    chosen.set(account, {
      id: account,
      kind: 'account',
      stage: context.stageOf(account),
      changes: [],
      broughtBy: target.id,
    })
  }
  const order = orderStages([...new Set([...chosen.values()].map((t) => t.stage))], context.stageOrder)
  return [...chosen.values()].sort(
    (a, b) =>
      order.indexOf(a.stage) - order.indexOf(b.stage) ||
      (a.kind === b.kind ? 0 : a.kind === 'account' ? -1 : 1) ||
      a.id.localeCompare(b.id),
  )
}

/** Stages in rollout order; unknown ones (and none) after, by name. */
function orderStages(stages: readonly (string | null)[], order: readonly string[]): (string | null)[] {
  const rank = (stage: string | null) => {
    const at = stage === null ? -1 : order.indexOf(stage)
    return at === -1 ? order.length : at
  }
  return [...stages].sort((a, b) => rank(a) - rank(b) || String(a).localeCompare(String(b)))
}
