/**
 * Retrying provider calls with backoff: the one timer-holding helper every path that calls a
 * provider shares (out of `core/`, which does no I/O and holds no timers).
 */
import { ProviderError } from '../core/provider/port.ts'
import { sleep } from '../lib/abortable.ts'

/** How {@link withRetries} backs off. */
export interface RetryOptions {
  /** Attempts in total, the first included. @default 6 */
  readonly attempts?: number
  /** The first wait; each next one doubles, with full jitter. @default 200 ms */
  readonly baseMs?: number
  /** No wait is longer. @default 5000 ms */
  readonly maxMs?: number
  /** @default setTimeout-based sleep that the signal cuts short (tests pass their own) */
  readonly sleep?: (ms: number) => Promise<void>
  /** @default Math.random */
  readonly random?: () => number
  /** Called before each retry, e.g. to print or record it. */
  readonly onRetry?: (error: ProviderError, attempt: number, waitMs: number) => void
  /**
   * Stops retrying: no attempt starts after it aborted, and a wait between attempts rejects at
   * once with `signal.reason`. The call itself gets the signal from its caller.
   */
  readonly signal?: AbortSignal
}

/**
 * Runs `call`, retrying it while it fails with a retryable {@link ProviderError} (throttling,
 * an outage, a busy stack) with exponential backoff and full jitter — AWS's recommended scheme,
 * which keeps many clients from retrying in lock step. Anything else is thrown at once: a
 * refused or invalid request will not succeed by asking again, and a bug must surface.
 * Only idempotent calls may be wrapped: a call that failed may have been half done.
 */
export async function withRetries<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 6
  const base = options.baseMs ?? 200
  const max = options.maxMs ?? 5000
  const { signal } = options
  const wait = options.sleep ?? ((ms: number) => sleep(ms, signal))
  const random = options.random ?? Math.random
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted()
    try {
      return await call()
    } catch (error) {
      if (!(error instanceof ProviderError) || !error.retryable || attempt >= attempts) throw error
      if (signal?.aborted) throw signal.reason
      const ms = Math.round(random() * Math.min(max, base * 2 ** (attempt - 1)))
      options.onRetry?.(error, attempt, ms)
      await wait(ms)
    }
  }
}
