import type { Finding, StageMove, TargetPlan } from '../../model/plan.ts'
import type { FleetState, PlanContext } from '../plan-context.ts'
import type { PlanRule } from '../rules.ts'

/** The environment whose targets may not be moved to an earlier stage without an approval. */
const PRODUCTION = 'production'

/** Targets named in a message before "… N more". */
const NAMED = 5

/**
 * The address that approves a target's stage move: `<target id>/_stage`. It starts with the
 * target id like every address of the target and has two segments, which no stack, resource or
 * object address has: a pattern for `_stage` with the expected count approves exactly the plan's
 * stage moves.
 */
export function stageMoveAddress(targetId: string): string {
  return `${targetId}/_stage`
}

/**
 * The address that approves dropping `approval: required` from a stage:
 * `rollout.yaml/<stage>/approval` (no target id contains `rollout.yaml`).
 */
export function stageApprovalAddress(stage: string): string {
  return `rollout.yaml/${stage}/approval`
}

/**
 * `stage-move`: where a target is rolled out is part of the change. A production target that
 * moves to an earlier stage (by the base revision's order, so that a change cannot reorder the
 * stages to make its own move look later) takes changes before the stages meant to test them; any
 * target that leaves a stage with `approval: required` for one without escapes the person who
 * approves production. Each such move needs an approval of `<target>/_stage`. A stage that is new
 * in the head has no trusted place in the order: a production target moving into it needs an
 * approval too (fail closed). A stage that keeps its targets but loses `approval: required` needs
 * an approval of `rollout.yaml/<stage>/approval` when production targets are in it (a warning
 * otherwise). Other moves (a test account moving earlier, anything moving later) are shown in the
 * plan and need nothing.
 */
export const stageMove: PlanRule = {
  id: 'stage-move',
  description: 'a production target moves to an earlier rollout stage, or a target leaves an approval stage',
  evaluate(context) {
    const findings: Finding[] = []
    const byMove = new Map<string, { move: StageMove; targets: TargetPlan[] }>()
    for (const target of context.targets) {
      if (!target.stageMove) continue
      const key = `${target.stageMove.from}\u0000${target.stageMove.to}`
      const entry = byMove.get(key) ?? { move: target.stageMove, targets: [] }
      entry.targets.push(target)
      byMove.set(key, entry)
    }
    for (const { move, targets } of byMove.values()) {
      const finding = moveFinding(this.id, move, targets, context)
      if (finding) findings.push(finding)
    }
    findings.push(...droppedApprovals(this.id, context))
    return findings
  },
}

/** Why a move from one stage to another needs an approval, for production targets and for all. */
interface MoveJudgement {
  /** Earlier in the base's order, or into a stage the base does not have. */
  readonly earlier: string | undefined
  /** Out of a stage that needs an approval into one that does not. */
  readonly leavesApproval: string | undefined
}

function judge(move: StageMove, base: FleetState, head: FleetState): MoveJudgement {
  const order = base.stages.map((s) => s.name)
  const from = order.indexOf(move.from)
  const to = order.indexOf(move.to)
  const earlier =
    to < 0 || from < 0
      ? `stage "${to < 0 ? move.to : move.from}" is not in the base revision's rollout.yaml, so its place in the rollout order cannot be trusted`
      : to < from
        ? `"${move.to}" comes before "${move.from}" in the base revision's rollout order (${order.join(' → ')}), so changes would reach production there before the stages that test them`
        : undefined
  const requires = (side: FleetState, name: string) =>
    side.stages.find((s) => s.name === name)?.approvalRequired
  // The destination counts as approved where the head requires it (its rollouts wait there) and
  // the base does not say otherwise: adding `approval: required` to an existing stage in the same
  // change that moves targets into it does not count (that change judges itself).
  const fromApproved = requires(base, move.from) === true || requires(head, move.from) === true
  const toApproved = requires(head, move.to) === true && requires(base, move.to) !== false
  const leavesApproval =
    fromApproved && !toApproved
      ? `stage "${move.from}" needs a person's approval before it starts (approval: required) and "${move.to}" does not`
      : undefined
  return { earlier, leavesApproval }
}

function moveFinding(
  rule: string,
  move: StageMove,
  targets: readonly TargetPlan[],
  context: PlanContext,
): Finding | undefined {
  const why = judge(move, context.base, context.head)
  const held = targets.filter(
    (t) => why.leavesApproval !== undefined || (why.earlier !== undefined && isProduction(t.id, context)),
  )
  if (held.length === 0) return undefined
  const production = held.filter((t) => isProduction(t.id, context)).length
  const reasons = [
    ...(why.earlier !== undefined && production > 0 ? [why.earlier] : []),
    ...(why.leavesApproval !== undefined ? [why.leavesApproval] : []),
  ]
  const who =
    production === held.length
      ? count(held.length, 'production target')
      : `${count(held.length, 'target')}${production > 0 ? ` (${production} of them production)` : ''}`
  return {
    rule,
    effect: 'require-approval',
    message:
      `${who} would move from stage "${move.from}" to stage "${move.to}" (${named(held)}): ${reasons.join('; and ')}. ` +
      `Approve each move (${stageMoveAddress('<target>')}), or keep what puts ${held.length === 1 ? 'it' : 'them'} in "${move.from}" (channel, environment, group, or the stage selectors of rollout.yaml)`,
    addresses: held.map((t) => stageMoveAddress(t.id)),
  }
}

/** Stages that keep their name but lose `approval: required` (judged on the targets they hold in the head). */
function droppedApprovals(rule: string, context: PlanContext): Finding[] {
  const findings: Finding[] = []
  for (const before of context.base.stages) {
    if (!before.approvalRequired) continue
    const after = context.head.stages.find((s) => s.name === before.name)
    if (!after || after.approvalRequired) continue
    const members = [...context.head.targets.keys()].filter(
      (id) => context.head.stageOf.get(id) === before.name,
    )
    const production = members.filter((id) => isProduction(id, context))
    const shown = production.length > 0 ? production : members
    findings.push({
      rule,
      effect: production.length > 0 ? 'require-approval' : 'warn',
      message:
        `stage "${before.name}" no longer needs a person's approval before it starts (approval: required was removed from rollout.yaml)` +
        (production.length > 0
          ? `; ${count(production.length, 'production target')} stay in it (${named(shown.map((id) => ({ id })))}) and would be rolled out without one. Approve ${stageApprovalAddress(before.name)}, or keep approval: required`
          : `; it holds no production target${members.length > 0 ? ` (${count(members.length, 'target')}: ${named(shown.map((id) => ({ id })))})` : ''}`),
      addresses: production.length > 0 ? [stageApprovalAddress(before.name)] : [],
    })
  }
  return findings
}

/** Production in the base or the head: a target is judged by the stricter of its two sides. */
function isProduction(id: string, context: PlanContext): boolean {
  return (
    context.base.targets.get(id)?.environment === PRODUCTION ||
    context.head.targets.get(id)?.environment === PRODUCTION
  )
}

function named(targets: readonly { readonly id: string }[]): string {
  const ids = targets.slice(0, NAMED).map((t) => t.id)
  return `${ids.join(', ')}${targets.length > NAMED ? `, … ${targets.length - NAMED} more` : ''}`
}

function count(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : `${noun}s`}`
}
