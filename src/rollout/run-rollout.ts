/**
 * Running a rollout: the durable loop that takes it through its stages — approval, waves, bake,
 * gates after the bake, rollback — one stored transition at a time, under a lease so that one
 * process runs it at a time. The work of a wave is `step.ts`'s, the halt and the rollback
 * `halt.ts`'s.
 */
import type { Kysely } from 'kysely'
import { NotFoundError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import { sleep } from '../lib/abortable.ts'
import { fleetStop } from '../operations/fleet-stop.ts'
import { deadLocalProcess, THIS_PROCESS } from '../operations/process-liveness.ts'
import { releaseLocks } from '../operations/target-locks.ts'
import type { Database, Json } from '../store/tables.ts'
import { type EngineDeps, recordRollout, recordTarget, UNFINISHED } from './engine-deps.ts'
import { halt, rollBack } from './halt.ts'
import { leaveQueue } from './plan-and-schedule.ts'
import type { RolloutState } from './rollout-model.ts'
import {
  claimRollout,
  loadRollout,
  loadRolloutProgress,
  type RolloutRow,
  releaseRollout,
  rolloutRunner,
  rolloutState,
} from './rollout-store.ts'
import type { ScheduledStage } from './schedule.ts'
import { runWave } from './step.ts'
import { loadTargets, type RolloutTargetRow } from './target-rows-store.ts'

/** The process that runs rollouts here, for the lease. */
const RUNNER = THIS_PROCESS
const LEASE_MS = 10_000

/** Rollouts a `runRollout` of this process is running: a second call for one of them returns. */
const runningHere = new Set<string>()

/**
 * Takes (or renews) the right to run a rollout; false when a live process holds it. A lease of
 * a process of this host that no longer exists (killed) is taken over at once, not after it
 * expires.
 */
async function claim(db: Kysely<Database>, id: string): Promise<boolean> {
  const until = new Date(Date.now() + LEASE_MS)
  const held = await rolloutRunner(db, id)
  const dead = held !== null && held !== RUNNER && deadLocalProcess(held)
  return claimRollout(db, id, RUNNER, until, dead ? held : undefined)
}

/**
 * Runs a rollout from where it stands until it ends, halts, pauses or waits for an approval, and
 * returns that state. Safe to call again at any time (after a crash, to resume): it continues.
 * While another live process runs the rollout, it returns at once with the stored state. A queued
 * rollout leaves the queue when nothing holds its targets any more; while something does, it
 * returns `queued`.
 */
export async function runRollout(
  deps: EngineDeps,
  id: string,
  options: { readonly signal?: AbortSignal } = {},
): Promise<RolloutState> {
  if (options.signal) {
    const signal = deps.signal ? AbortSignal.any([deps.signal, options.signal]) : options.signal
    deps = { ...deps, signal }
  }
  const { db } = deps
  const first = await loadRollout(db, id)
  if (!first) throw new NotFoundError(`no rollout ${id}; run "flotilla rollout status" to see the latest`)
  if ((first.state !== 'running' && first.state !== 'queued') || runningHere.has(id)) return first.state
  runningHere.add(id)
  let claimed = false
  try {
    claimed = await claim(db, id)
  } finally {
    if (!claimed) runningHere.delete(id)
  }
  if (!claimed) return first.state
  const lease = setInterval(() => void claim(db, id).catch(() => {}), LEASE_MS / 3)
  try {
    const fleet = await deps.loadRevision(first.revision)
    if (first.state === 'queued' && !(await fleetStop(db))) await leaveQueue(deps, fleet, first)
    // The schedule is fixed from here on (leaving the queue was its last change): read it once.
    const { schedule } = (await loadRollout(db, id))!
    for (;;) {
      const rollout = (await loadRolloutProgress(db, id, schedule))!
      if (rollout.state !== 'running' || deps.signal?.aborted) return rollout.state
      const stop = await fleetStop(db)
      if (stop) {
        await recordRollout(
          deps,
          id,
          { state: 'paused', haltReason: `fleet-wide stop: ${stop.reason}` },
          { type: 'paused', detail: { by: stop.by, reason: stop.reason, stop: true } },
        )
        return 'paused'
      }
      const stage = rollout.schedule.stages[rollout.stageIndex]
      if (!stage) {
        await releaseLocks(db, id)
        await recordRollout(deps, id, { state: 'succeeded', haltReason: null }, { type: 'succeeded' })
        return 'succeeded'
      }
      await step(deps, fleet, rollout, stage)
    }
  } catch (error) {
    // Stopped mid-step: what was under way stays as stored (a target `applying`, a rollback under
    // way), like after a killed process; the next runner continues it.
    if (!deps.signal?.aborted) throw error
    return (await loadRollout(db, id))?.state ?? first.state
  } finally {
    clearInterval(lease)
    runningHere.delete(id)
    await releaseRollout(db, id, RUNNER)
  }
}

/** Does the next thing the current stage needs. */
async function step(
  deps: EngineDeps,
  fleet: Fleet,
  rollout: RolloutRow,
  stage: ScheduledStage,
): Promise<void> {
  const { db } = deps
  const id = rollout.id
  const now = () => deps.now?.() ?? new Date()
  switch (rollout.phase) {
    case 'queue':
      throw new Error(`rollout ${id} runs while its phase says it is queued`) // a bug: leaveQueue sets both
    case 'approval': {
      if (stage.approval && !rollout.stageApprovals[stage.name]) {
        await recordRollout(
          deps,
          id,
          { state: 'waiting-approval' },
          { type: 'waiting-approval', detail: { stage: stage.name } },
        )
        return
      }
      await recordRollout(
        deps,
        id,
        { phase: 'waves', waveIndex: 0 },
        { type: 'stage-started', detail: { stage: stage.name } },
      )
      return
    }
    case 'waves': {
      const targets = await stageRows(db, rollout)
      const wave = targets.filter((t) => t.wave === rollout.waveIndex)
      if (wave.length === 0) {
        // A target retried after its wave was done runs before the stage bakes: back to its wave.
        const retried = targets.find((t) => UNFINISHED.has(t.state))
        if (retried) {
          await recordRollout(
            deps,
            id,
            { waveIndex: retried.wave },
            { type: 'wave-restarted', detail: { stage: stage.name, wave: retried.wave } },
          )
          return
        }
        const bakeUntil = new Date(now().getTime() + stage.bakeMs)
        await recordRollout(
          deps,
          id,
          { phase: 'bake', bakeUntil },
          { type: 'bake-started', detail: { stage: stage.name, until: bakeUntil.toISOString() } },
        )
        return
      }
      await runWave(deps, fleet, rollout, stage, wave, targets.filter((t) => t.state === 'failed').length)
      const after = await stageRows(db, rollout)
      if (
        await haltOverTolerance(
          deps,
          fleet,
          rollout,
          stage,
          after,
          (n) =>
            `${n} ${n === 1 ? 'target' : 'targets'} failed in stage ${stage.name} (tolerance ${stage.failureTolerance})`,
        )
      )
        return
      // Paused, stopped (or paused and resumed) during the wave, or a target retried meanwhile: the
      // wave is not done until each of its targets is. The next step sees why and continues it.
      if (after.some((t) => t.wave === rollout.waveIndex && UNFINISHED.has(t.state))) return
      if ((await rolloutState(db, id)) !== 'running') return // paused or stopped during the wave: resume continues it
      await recordRollout(
        deps,
        id,
        { waveIndex: rollout.waveIndex + 1 },
        { type: 'wave-succeeded', detail: { stage: stage.name, wave: rollout.waveIndex } },
      )
      return
    }
    case 'bake': {
      const remaining = (rollout.bakeUntil?.getTime() ?? 0) - now().getTime()
      if (remaining > 0) {
        await sleep(Math.min(remaining, 1000), deps.signal) // wake up to notice pause, abort and stop
        return
      }
      await recordRollout(
        deps,
        id,
        { phase: 'gates' },
        { type: 'bake-finished', detail: { stage: stage.name } },
      )
      return
    }
    case 'rollback': {
      const targets = await stageRows(db, rollout)
      await rollBack(deps, fleet, rollout, stage, targets, rollout.haltReason ?? 'halted')
      return
    }
    case 'gates': {
      const targets = (await stageRows(db, rollout)).filter((t) => t.state === 'succeeded')
      const byId = new Map(fleet.targets.map((t) => [t.id, t]))
      for (const row of targets) {
        const outcomes = await deps.runGates(stage, byId.get(row.target)!, fleet, deps.signal)
        deps.signal?.throwIfAborted() // stopped: the gates run again after the bake, next time
        const failedGates = outcomes.filter((g) => g.state === 'failed')
        if (failedGates.length > 0) {
          await recordTarget(
            deps,
            id,
            row.target,
            {
              state: 'failed',
              reason: `after bake: ${failedGates.map((g) => g.detail).join('; ')}`,
              gates: outcomes,
            },
            { type: 'target-failed', detail: { stage: stage.name, gates: outcomes as unknown as Json } },
          )
        }
      }
      const after = await stageRows(db, rollout)
      if (
        await haltOverTolerance(
          deps,
          fleet,
          rollout,
          stage,
          after,
          (n) =>
            `the gates of stage ${stage.name} failed after its bake for ${n} ${n === 1 ? 'target' : 'targets'}`,
        )
      )
        return
      await recordRollout(
        deps,
        id,
        { stageIndex: rollout.stageIndex + 1, waveIndex: 0, phase: 'approval', bakeUntil: null },
        { type: 'stage-succeeded', detail: { stage: stage.name } },
      )
      return
    }
  }
}

/** The rows of the targets of the rollout's current stage. */
async function stageRows(db: Kysely<Database>, rollout: RolloutRow): Promise<RolloutTargetRow[]> {
  return loadTargets(db, rollout.id, rollout.stageIndex)
}

/**
 * Halts the rollout when more of the stage's targets failed than it tolerates, with `why` (given
 * the number failed) and each failed target's reason; says whether it halted.
 */
async function haltOverTolerance(
  deps: EngineDeps,
  fleet: Fleet,
  rollout: RolloutRow,
  stage: ScheduledStage,
  rows: RolloutTargetRow[],
  why: (failed: number) => string,
): Promise<boolean> {
  const failed = rows.filter((t) => t.state === 'failed')
  if (failed.length <= stage.failureTolerance) return false
  await halt(
    deps,
    fleet,
    rollout,
    stage,
    rows,
    `${why(failed.length)}: ${failed.map((t) => `${t.target}: ${t.reason}`).join('; ')}`,
  )
  return true
}
