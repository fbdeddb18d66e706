/**
 * Runs rollouts in the background of the server: every rollout that is `running` (or `queued`)
 * and not held by another live process is taken up with the engine's `runRollout`, which holds a
 * lease while it works, so several workers — of this process or of others on one PostgreSQL —
 * never run one rollout twice. It looks every second, and at once when kicked (a rollout was
 * started, resumed or approved).
 */
import type { EngineDeps } from '../rollout/engine.ts'
import { runRollout } from '../rollout/engine.ts'

/** How often the worker looks for rollouts to run. */
const POLL_MS = 1000

/** A running worker. */
export interface RolloutWorker {
  /** Look now. */
  kick(): void
  /** Stops looking and waits for the rollouts under way here to reach a stored step. */
  stop(): Promise<void>
}

/**
 * Starts the worker; errors of one rollout are reported and do not stop the others. `stop` lets
 * go of the rollouts under way after their current step (they stay as stored, for the next
 * process to continue).
 */
export function startRolloutWorker(deps: EngineDeps, report: (error: unknown) => void): RolloutWorker {
  const letGo = new AbortController()
  const engine: EngineDeps = { ...deps, signal: letGo.signal }
  const running = new Map<string, Promise<void>>()
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const look = async () => {
    if (stopped) return
    try {
      const rows = await engine.db
        .selectFrom('rollouts')
        .select('id')
        .where('state', 'in', ['running', 'queued'])
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', new Date())]))
        .orderBy('created_at')
        .execute()
      for (const { id } of rows) {
        if (running.has(id) || stopped) continue
        const run = runRollout(engine, id)
          .then(() => undefined, report)
          .finally(() => running.delete(id))
        running.set(id, run)
      }
    } catch (error) {
      report(error)
    }
  }
  const schedule = () => {
    if (stopped) return
    timer = setTimeout(() => void look().finally(schedule), POLL_MS)
  }
  schedule()
  return {
    kick: () => void look(),
    async stop() {
      stopped = true
      clearTimeout(timer)
      letGo.abort()
      await Promise.allSettled(running.values())
    },
  }
}
