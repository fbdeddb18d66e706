/**
 * Waiting that an {@link AbortSignal} cuts short: the timers of the apply path (retry backoff,
 * settle polls), the polls of the providers, and calls of clients that may not honour a signal
 * themselves. In `lib/` because both sides of the provider port need it and neither may import
 * the other.
 */
import { setTimeout as delay } from 'node:timers/promises'

/** Sleeps `ms`; rejects with `signal.reason` as soon as `signal` aborts (at once if it already has). */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, signal ? { signal } : {}).catch((error: unknown) => {
    // node:timers wraps the reason in its own AbortError; the caller expects the signal's reason.
    if (signal?.aborted) throw signal.reason
    throw error
  })
}

/**
 * Resolves like `promise`, or rejects with `signal.reason` once `signal` aborts, whichever comes
 * first. For a call whose callee may not honour the signal: the caller stops waiting for it (the
 * call may finish unobserved, as it would if the process were killed).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise
  if (signal.aborted) {
    promise.catch(() => {}) // nobody waits for it any more
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {})
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
