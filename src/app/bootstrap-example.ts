/**
 * `npm start`'s apply of the example fleet to the empty simulated fleet, done while the server
 * already answers: on the first start every target of the served revision, and — when a start
 * was stopped before it finished — on the next start what is left (the targets with something to
 * apply and no finished apply recorded). Anything else never applies: a target added to the
 * repository later goes through a rollout like any change.
 *
 * Whether an apply is unfinished is in the audit log: `bootstrap-started` when one begins (with
 * the simulator's latency scale to restore), `bootstrap-finished` when it ran to its end. The
 * simulated clouds settle at once meanwhile (latency scale 0: built in seconds, not at the
 * clouds' pace of minutes); the scale is put back when the apply ends, is stopped, or fails —
 * and, after a process killed outright, by the next start's.
 */
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import { appliedStates } from '../operations/applied-states.ts'
import { applyFleet, BOOTSTRAP_POLICY_TIME } from '../operations/apply-fleet.ts'
import { appendAuditEntry, listAuditEntries } from '../store/audit.ts'
import type { Application } from './application.ts'
import type { BootstrapProgress } from './bootstrap-progress.ts'

/** The audit subject of the example's apply. */
const SUBJECT = 'example fleet'

/** What {@link bootstrapExample} needs. */
export interface BootstrapExampleOptions {
  readonly app: Application
  /** The revision served, loaded. */
  readonly fleet: Fleet
  readonly revision: string
  readonly progress: BootstrapProgress
  /** Stops the apply (the process is stopping): what is left is applied by the next start. */
  readonly signal?: AbortSignal
  /** Where the log lines go (one line each, no newline). */
  readonly log: (line: string) => void
  /** How often a progress line is logged. @default 5 s */
  readonly logEveryMs?: number
  /** Targets applied at once: modest, the server shares the process. @default 4 */
  readonly concurrency?: number
  /** Targets planned at once (see `applyFleet`'s `batchSize`). @default 16 */
  readonly batchSize?: number
}

/** What is left of the example's apply. */
export interface ExampleWork {
  /** The targets to apply. */
  readonly left: readonly Target[]
  /** Targets of the revision (with something to apply) that an earlier start finished. */
  readonly alreadyDone: number
  /** The simulator's latency scale before the first start set it to 0. */
  readonly latencyScale: number
  /** Whether an earlier start began it. */
  readonly resumed: boolean
}

/** Whether a target has anything to apply (a requested or decommissioned target has not). */
function hasDesired(fleet: Fleet, target: Target): boolean {
  const desired = fleet.desired.get(target.id)
  return desired !== undefined && (desired.stacks.length > 0 || desired.manifests.length > 0)
}

/**
 * What the example's apply still has to do on this start, or undefined when nothing: no simulated
 * fleet, or the example was applied (or other changes were) and no apply is unfinished.
 */
export async function exampleWork(
  app: Application,
  fleet: Fleet,
  revision: string,
): Promise<ExampleWork | undefined> {
  const sim = app.simulator()
  if (!sim) return undefined
  const candidates = fleet.targets.filter((t) => hasDesired(fleet, t))
  const applied = await appliedStates(
    app.db,
    candidates.map((t) => t.id),
  )
  const [last] = await listAuditEntries(app.db, { subject: SUBJECT, limit: 1 })
  const unfinished = last !== undefined && last.action !== 'bootstrap-finished'
  if (!unfinished && applied.size > 0) return undefined
  // A target is done once an apply of it finished (at this revision or since, by anyone); one
  // whose first apply was cut short has only the intended record of it.
  const finished = (t: Target) => {
    const record = applied.get(t.id)
    return record !== undefined && !(record.intended !== null && record.revision === revision)
  }
  const recorded = (last?.detail as { latencyScale?: unknown } | undefined)?.latencyScale
  return {
    left: candidates.filter((t) => !finished(t)),
    alreadyDone: candidates.filter(finished).length,
    latencyScale: unfinished && typeof recorded === 'number' ? recorded : (await sim.settings()).latencyScale,
    resumed: unfinished,
  }
}

/**
 * Applies what is left of the example (see the module comment), reporting to `progress` and the
 * log. Resolves when done, failed or stopped by `signal` — it never rejects, the progress says
 * how it ended.
 */
export async function bootstrapExample(options: BootstrapExampleOptions): Promise<void> {
  const { app, fleet, revision, progress, log } = options
  const sim = app.simulator()
  const work = await exampleWork(app, fleet, revision)
  if (!sim || !work) return
  const total = work.left.length + work.alreadyDone
  log(
    work.resumed
      ? `Applying the rest of the example (${revision.slice(0, 7)}) in the background: ${work.left.length} of ${total} targets left …`
      : `Applying the example (${revision.slice(0, 7)}) to the simulated fleet in the background: ${total} targets …`,
  )
  progress.begin(revision, total, work.alreadyDone)
  await appendAuditEntry(app.db, {
    actor: 'bootstrap',
    action: work.resumed ? 'bootstrap-resumed' : 'bootstrap-started',
    subject: SUBJECT,
    source: 'cli',
    detail: { revision, targets: work.left.length, latencyScale: work.latencyScale },
  })
  const ticker = setInterval(() => {
    const status = progress.current()
    if (status?.state === 'applying') log(status.summary)
  }, options.logEveryMs ?? 5000)
  ticker.unref()
  const left = new Set(work.left.map((t) => t.id))
  try {
    await sim.updateSettings({ latencyScale: 0 })
    const result = await applyFleet({
      head: fleet,
      registry: app.registry,
      db: app.db,
      revision,
      include: (t) => left.has(t.id),
      // Policies see an ordinary weekday: the example's freeze covers some days of the year.
      now: BOOTSTRAP_POLICY_TIME,
      concurrency: options.concurrency ?? 4,
      batchSize: options.batchSize ?? 16,
      onProgress: (p) => progress.update(p),
      ...(options.signal ? { signal: options.signal } : {}),
    })
    if (result.blocked) progress.end('failed', `its plan is ${result.blocked}`)
    else progress.end('done')
    await appendAuditEntry(app.db, {
      actor: 'bootstrap',
      action: 'bootstrap-finished',
      subject: SUBJECT,
      source: 'cli',
      detail: {
        revision,
        applied: result.applied,
        failed: Object.fromEntries(result.failed),
        ...(result.blocked ? { blocked: result.blocked } : {}),
      },
    })
  } catch (error) {
    if (options.signal?.aborted) progress.end('stopped')
    else progress.end('failed', error instanceof Error ? error.message : String(error))
  } finally {
    clearInterval(ticker)
    await sim.updateSettings({ latencyScale: work.latencyScale }).catch((error: unknown) => {
      log(`could not restore the simulator's latency scale ${work.latencyScale}: ${String(error)}`)
    })
  }
  log(progress.current()!.summary)
}
