/** The status document of a rollout (`plan.md`): its stages, waves, targets and gates as stored. */
import type { Kysely } from 'kysely'
import { NotFoundError } from '../core/errors.ts'
import { listRolloutEvents } from '../store/events.ts'
import type { Database } from '../store/tables.ts'
import { planPolicyTime } from './plans-store.ts'
import { FINAL_STATES, type GateOutcome, type RolloutStatus } from './rollout-model.ts'
import { loadRollout } from './rollout-store.ts'
import { loadTargets } from './target-rows-store.ts'

/** The status document of a rollout (`plan.md`). */
export async function rolloutStatus(db: Kysely<Database>, id: string): Promise<RolloutStatus> {
  const rollout = await loadRollout(db, id)
  if (!rollout) throw new NotFoundError(`no rollout ${id}`)
  const targets = await loadTargets(db, id)
  // When each stage baked: from its bake events (the rollout's row keeps only the bake under way).
  const bakes = new Map<string, { until: string; finishedAt: string | null }>()
  for (const event of await listRolloutEvents(db, id, { types: ['bake-started', 'bake-finished'] })) {
    const detail = (event.detail ?? {}) as { stage?: string; until?: string }
    if (typeof detail.stage !== 'string') continue
    if (event.type === 'bake-started' && typeof detail.until === 'string')
      bakes.set(detail.stage, { until: detail.until, finishedAt: null })
    else if (event.type === 'bake-finished') {
      const bake = bakes.get(detail.stage)
      if (bake) bakes.set(detail.stage, { ...bake, finishedAt: event.at.toISOString() })
    }
  }
  return {
    id: rollout.id,
    revision: rollout.revision,
    state: rollout.state,
    createdBy: rollout.createdBy,
    createdAt: rollout.createdAt.toISOString(),
    policyTime: await planPolicyTime(db, rollout.planId),
    stages: rollout.schedule.stages.map((stage, index) => {
      const mine = targets.filter((t) => t.stageIndex === index)
      const waves = stage.waves.map((_, wave) => {
        const list = mine.filter((t) => t.wave === wave)
        const state = list.some((t) => t.state === 'failed' || t.state === 'rolled-back')
          ? ('failed' as const)
          : list.every((t) => t.state === 'succeeded' || t.state === 'skipped')
            ? ('succeeded' as const)
            : list.some((t) => t.state !== 'pending')
              ? ('running' as const)
              : ('pending' as const)
        return {
          index: wave,
          state,
          targets: list.map((t) => ({
            id: t.target,
            state: t.state,
            attempts: t.attempts,
            reason: t.reason,
          })),
        }
      })
      const all = waves.flatMap((w) => w.targets)
      const stageState =
        index < rollout.stageIndex ||
        // Every target done: the stage is, also in a rollout aborted or halted afterwards.
        (index === rollout.stageIndex &&
          FINAL_STATES.has(rollout.state) &&
          all.length > 0 &&
          all.every((t) => t.state === 'succeeded' || t.state === 'skipped'))
          ? ('succeeded' as const)
          : waves.some((w) => w.state === 'failed')
            ? ('failed' as const)
            : index === rollout.stageIndex &&
                rollout.state === 'aborted' &&
                all.some((t) => t.state !== 'pending')
              ? ('aborted' as const)
              : rollout.phase === 'queue'
                ? ('pending' as const)
                : index === rollout.stageIndex && rollout.state === 'waiting-approval'
                  ? ('waiting-approval' as const)
                  : index === rollout.stageIndex && !FINAL_STATES.has(rollout.state)
                    ? ('running' as const)
                    : index === rollout.stageIndex && rollout.state === 'succeeded'
                      ? ('succeeded' as const)
                      : ('pending' as const)
      const gates = new Map<string, GateOutcome>()
      for (const t of mine)
        for (const g of t.gates) if (!gates.has(g.name) || g.state === 'failed') gates.set(g.name, g)
      return {
        name: stage.name,
        state: stageState,
        approval: stage.approval ? ('required' as const) : ('none' as const),
        approvedBy: rollout.stageApprovals[stage.name] ?? null,
        waves,
        gates: [...gates.values()],
        bake: bakeOf(stage.bakeMs, bakes.get(stage.name)),
      }
    }),
    haltReason: rollout.haltReason,
    untrusted: rollout.request.untrusted ?? null,
  }
}

/**
 * A stage's bake for the status: it started exactly `ms` before its end (the engine sets the end
 * from the moment it starts the bake; the event is stored a moment later).
 */
function bakeOf(ms: number, bake: { until: string; finishedAt: string | null } | undefined) {
  return {
    ms,
    startedAt: bake ? new Date(Date.parse(bake.until) - ms).toISOString() : null,
    until: bake?.until ?? null,
    finishedAt: bake?.finishedAt ?? null,
  }
}
