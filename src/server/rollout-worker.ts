/**
 * Runs rollouts in the background of the server: every rollout that is `running` (or `queued`)
 * and not held by another live process is taken up with the engine's `runRollout`, which holds a
 * lease while it works, so several workers — of this process or of others on one PostgreSQL —
 * never run one rollout twice. It looks every second, and at once when kicked (a rollout was
 * started, resumed or approved).
 */
import type { EngineDeps } from '../rollout/engine.ts'
import { runRollout } from '../rollout/engine.ts'
import { runnableRollouts } from '../rollout/rollout-store.ts'

/** How often the worker looks for rollouts to run. */
const POLL_MS = 1000

/** A running worker. */
export interface RolloutWorker {
  /** Look now. */
  kick(): void
  /**
   * Stops looking, cuts the rollouts under way here short (their settles and provider calls end at
   * once) and resolves when each has returned.
   */
  stop(): Promise<void>
}

/** Options of {@link startRolloutWorker}. */
export interface RolloutWorkerOptions {
  /** Runs one rollout until it stops. @default the engine's `runRollout` */
  readonly run?: (deps: EngineDeps, id: string) => Promise<unknown>
}

/** The reason the rollouts of a stopping worker are aborted with. */
export class WorkerStopped extends Error {
  constructor() {
    super('the rollout worker stopped; the rollout continues in the next process that runs rollouts')
    this.name = 'WorkerStopped'
  }
}

/**
 * Starts the worker; errors of one rollout are reported and do not stop the others. `stop` aborts
 * the signal every run was given (`EngineDeps.signal`): a step under way — a settle of 30 minutes
 * included — ends at once, and the rollout stays as stored, as a killed process leaves it, for the
 * next process to continue.
 */
export function startRolloutWorker(
  deps: EngineDeps,
  report: (error: unknown) => void,
  options: RolloutWorkerOptions = {},
): RolloutWorker {
  const run = options.run ?? runRollout
  const letGo = new AbortController()
  const engine: EngineDeps = { ...deps, signal: letGo.signal }
  const running = new Map<string, Promise<void>>()
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const look = async () => {
    if (stopped) return
    try {
      for (const id of await runnableRollouts(engine.db)) {
        if (running.has(id) || stopped) continue
        const runs = run(engine, id)
          .then(
            () => undefined,
            (error: unknown) => {
              // Cut short by stop(): not a failure of the rollout.
              if (!(letGo.signal.aborted && error === letGo.signal.reason)) report(error)
            },
          )
          .finally(() => running.delete(id))
        running.set(id, runs)
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
      letGo.abort(new WorkerStopped())
      await Promise.allSettled(running.values())
    },
  }
}
