/**
 * What a rollout will do before it starts, for the one who confirms it: the plan's verdict and
 * counts, and the stages it will pass in order — per stage its targets (how many in production),
 * waves, bake, gates and whether it waits for an approval. Pure: the same schedule the engine
 * fixes when the rollout starts ({@link scheduleRollout}).
 */
import type { Fleet } from '../core/model/fleet-model.ts'
import type { Plan } from '../core/model/plan.ts'
import { formatDuration } from './gates/gate-run.ts'
import { scheduleRollout } from './schedule.ts'

/** One stage of a previewed rollout. */
export interface PreviewStage {
  readonly name: string
  readonly targets: number
  /** Of which in a production environment. */
  readonly production: number
  readonly waves: number
  readonly bakeMs: number
  readonly gates: readonly string[]
  /** The stage waits for an approval before it starts. */
  readonly approval: boolean
}

/** What starting a rollout of a plan would do. */
export interface RolloutPreview {
  readonly verdict: Plan['verdict']
  readonly targets: number
  readonly production: number
  readonly actions: Plan['summary']['actions']
  readonly protectedDestroyed: number
  readonly stages: readonly PreviewStage[]
  /** Approvals the plan still needs (the rollout cannot start before they are given). */
  readonly approvalsMissing: readonly string[]
}

/** The preview of a rollout of `plan` (planned against the observed fleet) on `fleet`, its head. */
export function previewRollout(fleet: Fleet, plan: Plan): RolloutPreview {
  const environment = new Map(plan.targets.map((t) => [t.id, t.environment]))
  const inProduction = (ids: readonly string[]) =>
    ids.filter((id) => environment.get(id) === 'production').length
  const stages = scheduleRollout(fleet, plan).stages.map((stage) => {
    const ids = stage.waves.flat()
    return {
      name: stage.name,
      targets: ids.length,
      production: inProduction(ids),
      waves: stage.waves.length,
      bakeMs: stage.bakeMs,
      gates: stage.gates,
      approval: stage.approval,
    }
  })
  return {
    verdict: plan.verdict,
    targets: stages.reduce((n, s) => n + s.targets, 0),
    production: stages.reduce((n, s) => n + s.production, 0),
    actions: plan.summary.actions,
    protectedDestroyed: plan.summary.protectedDestroyed,
    stages,
    approvalsMissing:
      plan.approvals?.unmet ?? (plan.verdict === 'requires-approval' ? plan.approvalsRequired : []),
  }
}

/** A stage's bake in words: `no bake`, `bake 5m`. */
export function bakeText(ms: number): string {
  return ms === 0 ? 'no bake' : `bake ${formatDuration(ms)}`
}

/** The preview in lines of text, as the CLI prints it before a rollout starts. */
export function previewLines(preview: RolloutPreview): string[] {
  const actions = Object.entries(preview.actions)
    .filter(([, n]) => n > 0)
    .map(([action, n]) => `${n} ${action}`)
    .join(', ')
  return [
    `${preview.targets} ${preview.targets === 1 ? 'target changes' : 'targets change'} (${preview.production} in production)${actions ? `: ${actions}` : ''}${preview.protectedDestroyed > 0 ? `; ${preview.protectedDestroyed} protected resources destroyed` : ''}.`,
    'Stages, in order:',
    ...preview.stages.map(
      (s, i) =>
        `  ${i + 1}. ${s.name}: ${s.targets} ${s.targets === 1 ? 'target' : 'targets'}${s.production > 0 ? ` (${s.production} in production)` : ''}, ${s.waves} ${s.waves === 1 ? 'wave' : 'waves'}, ${bakeText(s.bakeMs)}${s.gates.length > 0 ? `, gates ${s.gates.join(', ')}` : ''}${s.approval ? ', waits for an approval' : ''}`,
    ),
    ...(preview.approvalsMissing.length > 0
      ? [
          `Approvals missing: ${preview.approvalsMissing.length} (the rollout cannot start before they are given).`,
        ]
      : []),
  ]
}
