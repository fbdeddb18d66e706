/**
 * Limits that keep a few callers from starving the server: a token bucket for how often something
 * may happen (webhook deliveries), and a concurrency limit with a short queue for work that is
 * expensive (computing plans). Both are per server process.
 */

/** How often: a burst, then a steady rate. */
export interface RateSettings {
  /** How many at once after a quiet spell. */
  readonly burst: number
  /** How many a minute after that. */
  readonly perMinute: number
}

/**
 * A token bucket: it holds up to `burst` tokens and gains `perMinute` a minute; each event takes
 * one. `take` says whether there was one, and if not, how long until there is.
 */
export class TokenBucket {
  private readonly settings: RateSettings
  private readonly clock: () => number
  private tokens: number
  private updatedAt: number

  constructor(settings: RateSettings, clock: () => number = Date.now) {
    if (!(settings.burst >= 1) || !(settings.perMinute > 0))
      throw new Error(`a token bucket needs burst >= 1 and perMinute > 0; got ${JSON.stringify(settings)}`)
    this.settings = settings
    this.clock = clock
    this.tokens = settings.burst
    this.updatedAt = clock()
  }

  /** Takes a token: `{ ok: true }`, or `{ ok: false, retryAfterMs }` when the bucket is empty. */
  take(): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = this.clock()
    const perMs = this.settings.perMinute / 60_000
    this.tokens = Math.min(this.settings.burst, this.tokens + (now - this.updatedAt) * perMs)
    this.updatedAt = now
    if (this.tokens >= 1) {
      this.tokens -= 1
      return { ok: true }
    }
    return { ok: false, retryAfterMs: (1 - this.tokens) / perMs }
  }
}

/** How much at once: running, and waiting for a place. */
export interface ConcurrencySettings {
  /** How many run at once. */
  readonly running: number
  /** How many may wait for a place; more are refused at once. */
  readonly queued: number
  /** How long one may wait before it is refused. */
  readonly maxWaitMs: number
}

/** Why {@link ConcurrencyLimit.run} did not run the work. */
export class LimitFull extends Error {
  readonly reason: 'queue-full' | 'waited-too-long'

  constructor(reason: 'queue-full' | 'waited-too-long') {
    super(reason === 'queue-full' ? 'too many waiting' : 'waited too long')
    this.name = 'LimitFull'
    this.reason = reason
  }
}

/**
 * Runs at most `running` jobs at once; up to `queued` more wait their turn (in order, each at most
 * `maxWaitMs`); beyond that, `run` rejects with {@link LimitFull} at once.
 */
export class ConcurrencyLimit {
  readonly settings: ConcurrencySettings
  private active = 0
  private readonly waiting: (() => void)[] = []

  constructor(settings: ConcurrencySettings) {
    if (!(settings.running >= 1) || !(settings.queued >= 0))
      throw new Error(
        `a concurrency limit needs running >= 1 and queued >= 0; got ${JSON.stringify(settings)}`,
      )
    this.settings = settings
  }

  /** How many run and how many wait now. */
  load(): { running: number; queued: number } {
    return { running: this.active, queued: this.waiting.length }
  }

  /** Runs `job` when there is a place (see the class comment). */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.settings.running) await this.waitForPlace()
    else this.active++
    try {
      return await job()
    } finally {
      const next = this.waiting.shift()
      // The place passes straight to the next in line, so a newcomer cannot overtake it.
      if (next) next()
      else this.active--
    }
  }

  private waitForPlace(): Promise<void> {
    if (this.waiting.length >= this.settings.queued) return Promise.reject(new LimitFull('queue-full'))
    return new Promise<void>((resolve, reject) => {
      const turn = () => {
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(turn)
        if (at >= 0) this.waiting.splice(at, 1)
        reject(new LimitFull('waited-too-long'))
      }, this.settings.maxWaitMs)
      this.waiting.push(turn)
    })
  }
}
