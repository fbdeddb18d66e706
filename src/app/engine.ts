/**
 * The rollout engine of an application: the store, the providers and the repository wired
 * together (`rollout/runner.ts`), with the application's clock unless told otherwise.
 */
import type { PolicyClock } from '../core/policy/policy-time.ts'
import type { EngineDeps } from '../rollout/engine.ts'
import { openRunner } from '../rollout/runner.ts'
import type { Json } from '../store/tables.ts'
import type { Application } from './application.ts'

/** How an engine differs from the application's defaults. */
export interface EngineOptions {
  /** The repository revisions are read from (a server's mirror). @default the application's */
  readonly repoDir?: string
  /** The time policies see. @default the application's clock */
  readonly policyClock?: PolicyClock
  /** Receives every event of a rollout as it is stored (metrics). */
  readonly onEvent?: (event: { type: string; target?: string; detail?: Json }) => void
  /** How long one target may take to settle. @default the engine's */
  readonly settleTimeoutMs?: number
  /** How many loaded revisions to keep (each of the example is tens of megabytes). @default 4 */
  readonly keepRevisions?: number
  /** The environment of `command` gates (`flotilla test` names its ephemeral fleet's endpoints). @default the process's */
  readonly gateEnv?: NodeJS.ProcessEnv
}

/** An open engine; `close` releases what it holds. */
export interface RolloutEngine {
  readonly deps: EngineDeps
  close(): Promise<void>
}

/** Opens an engine for `app` (see the module comment). */
export async function openEngine(app: Application, options: EngineOptions): Promise<RolloutEngine> {
  const policyClock = options.policyClock ?? app.clock
  return openRunner({
    repoDir: options.repoDir ?? app.repoDir,
    db: app.db,
    registry: app.registry,
    ...(policyClock ? { policyClock } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.settleTimeoutMs !== undefined ? { settleTimeoutMs: options.settleTimeoutMs } : {}),
    ...(options.keepRevisions !== undefined ? { keepRevisions: options.keepRevisions } : {}),
    ...(options.gateEnv ? { gateEnv: options.gateEnv } : {}),
  })
}
