import type { ChangeAction, PlanSummary, TargetPlan } from '../model/plan.ts'
import { OPS_GROUP } from '../validate/stages.ts'
import { STACK_TYPE } from './diff-stacks.ts'

/**
 * The blast radius of a plan: how many targets change, by action, environment, criticality, team
 * and the stage they are rolled out in, how many move to another stage, how many protected
 * resources are destroyed, and whether ops tooling is touched. Stack
 * entries (`AWS::CloudFormation::Stack`) are not counted as actions: their resources are.
 */
export function summarisePlan(
  targets: readonly TargetPlan[],
  allTargets: number,
  /** The head's stages in rollout order: `byStage` lists them so, as a rollout would reach them. */
  stageOrder: readonly string[] = [],
): PlanSummary {
  const actions: Record<Exclude<ChangeAction, 'no-op'>, number> = {
    create: 0,
    update: 0,
    replace: 0,
    delete: 0,
    move: 0,
    rotate: 0,
  }
  const byEnvironment: Record<string, number> = {}
  const byCriticality: Record<string, number> = {}
  const byTeam: Record<string, number> = {}
  const byStage: Record<string, number> = {}
  let stageMoves = 0
  let protectedDestroyed = 0
  let opsTargetsChanged = 0
  for (const target of targets) {
    byEnvironment[target.environment] = (byEnvironment[target.environment] ?? 0) + 1
    byCriticality[target.criticality] = (byCriticality[target.criticality] ?? 0) + 1
    byTeam[target.team] = (byTeam[target.team] ?? 0) + 1
    if (target.group === OPS_GROUP) opsTargetsChanged++
    if (target.stage !== null) byStage[target.stage] = (byStage[target.stage] ?? 0) + 1
    if (target.stageMove) stageMoves++
    for (const change of target.changes) {
      if (change.action === 'no-op' || change.type === STACK_TYPE) continue
      actions[change.action]++
      if (
        change.protected &&
        (change.action === 'delete' || change.action === 'replace' || change.mayReplace)
      ) {
        protectedDestroyed++
      }
    }
  }
  return {
    targets: allTargets,
    targetsChanged: targets.length,
    actions,
    protectedDestroyed,
    byEnvironment: sortedRecord(byEnvironment),
    byCriticality: sortedRecord(byCriticality),
    byTeam: sortedRecord(byTeam),
    opsTargetsChanged,
    byStage: inStageOrder(byStage, stageOrder),
    stageMoves,
  }
}

function sortedRecord(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)))
}

function inStageOrder(record: Record<string, number>, order: readonly string[]): Record<string, number> {
  const position = new Map(order.map((name, i) => [name, i]))
  const rank = (name: string) => position.get(name) ?? order.length
  return Object.fromEntries(
    Object.entries(record).sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0)),
  )
}
