/**
 * How far `npm start`'s apply of the example fleet has got: an in-memory holder the apply writes
 * and the server reads (the portal's banner, `GET /api/bootstrap`), and the sentence the banner
 * and the log share. It lives as long as the process: a restarted process resumes the apply and
 * starts a new one.
 */
import type { ApplyFleetProgress } from '../operations/apply-fleet.ts'

/** Where the apply is: under way, finished (perhaps with failures), stopped with the process, or failed as a whole. */
export type BootstrapState = 'applying' | 'done' | 'stopped' | 'failed'

/** A snapshot of the apply, as the API returns it. */
export interface BootstrapStatus {
  readonly state: BootstrapState
  /** The revision applied. */
  readonly revision: string
  /** The targets of the revision the apply is about, including those an earlier start applied. */
  readonly total: number
  /** Done so far (applied, failed, or with nothing to apply), including an earlier start's. */
  readonly done: number
  /** Failed or not settled, in this process. */
  readonly failed: number
  /** Targets done per second in this process. */
  readonly perSecond: number
  /** ISO 8601: when this process began applying. */
  readonly startedAt: string
  /** ISO 8601, once no longer applying. */
  readonly endedAt: string | null
  /** Why the apply as a whole failed (its plan blocked, the fleet-wide stop, an error). */
  readonly error: string | null
  /** One sentence for people: the banner's and the log's. */
  readonly summary: string
}

/** The apply's progress (see the module comment). */
export class BootstrapProgress {
  private status: BootstrapStatus | undefined
  private startedMs = 0
  private before = 0
  private readonly now: () => number

  /** @param now the clock the rate is measured with @default `Date.now` */
  constructor(now: () => number = Date.now) {
    this.now = now
  }

  /** The apply begins: `total` targets, of which `alreadyDone` an earlier start finished. */
  begin(revision: string, total: number, alreadyDone: number): void {
    this.startedMs = this.now()
    this.before = alreadyDone
    this.status = this.withSummary({
      state: 'applying',
      revision,
      total,
      done: alreadyDone,
      failed: 0,
      perSecond: 0,
      startedAt: new Date(this.startedMs).toISOString(),
      endedAt: null,
      error: null,
    })
  }

  /** What {@link applyFleet}'s `onProgress` reports (counts of this process). */
  update(progress: ApplyFleetProgress): void {
    const current = this.status
    if (!current) return
    const doneHere = progress.applied + progress.failed + progress.unchanged
    const seconds = (this.now() - this.startedMs) / 1000
    this.status = this.withSummary({
      ...current,
      done: this.before + doneHere,
      failed: progress.failed,
      perSecond: seconds > 0 ? doneHere / seconds : 0,
    })
  }

  /** The apply ended: finished (`done`), stopped with the process, or failed as a whole (`error`). */
  end(state: Exclude<BootstrapState, 'applying'>, error?: string): void {
    const current = this.status
    if (!current) return
    this.status = this.withSummary({
      ...current,
      state,
      endedAt: new Date(this.now()).toISOString(),
      error: error ?? null,
    })
  }

  /** The apply as it is now; undefined when this process has not applied the example. */
  current(): BootstrapStatus | undefined {
    return this.status
  }

  /**
   * Whether the portal shows a banner: while applying, and after an end people should know of
   * (failures, a failed apply); not once everything applied.
   */
  shown(): boolean {
    const s = this.status
    return s !== undefined && (s.state !== 'done' || s.failed > 0 || s.error !== null)
  }

  private withSummary(status: Omit<BootstrapStatus, 'summary'>): BootstrapStatus {
    return { ...status, summary: summarise(status, (this.now() - this.startedMs) / 1000) }
  }
}

/** The sentence of a status, `seconds` after this process began applying. */
function summarise(s: Omit<BootstrapStatus, 'summary'>, seconds: number): string {
  const failed = s.failed > 0 ? `; ${s.failed} failed` : ''
  switch (s.state) {
    case 'applying': {
      const left = s.total - s.done
      const eta = s.perSecond > 0 && left > 0 ? `, about ${formatSeconds(left / s.perSecond)} left` : ''
      return `Applying the example: ${s.done} of ${s.total} targets, ${rate(s.perSecond)}${eta}${failed} …`
    }
    case 'done':
      return `Applied the example: ${s.done} of ${s.total} targets in ${formatSeconds(seconds)}${failed}.`
    case 'stopped':
      return `Stopped applying the example at ${s.done} of ${s.total} targets${failed}; the next start applies the rest.`
    case 'failed':
      return `Applying the example failed at ${s.done} of ${s.total} targets${failed}: ${s.error ?? 'see the log'}`
  }
}

function rate(perSecond: number): string {
  return perSecond >= 10 || perSecond === 0 ? `${Math.round(perSecond)}/s` : `${perSecond.toFixed(1)}/s`
}

function formatSeconds(seconds: number): string {
  return seconds < 600 ? `${seconds.toFixed(seconds < 10 ? 1 : 0)} s` : `${Math.round(seconds / 60)} min`
}
