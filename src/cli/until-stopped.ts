import { setTimeout as delay } from 'node:timers/promises'

/**
 * Runs `tick` every `everyMs` in the foreground until SIGINT, SIGTERM or `signal` stops it — what
 * `flotilla serve` and `flotilla sim serve` do between starting and closing their servers. `tick`
 * gets a signal that aborts when stopping, so that a tick under way can end at once (it is waited
 * for: what it holds, such as the store, is closed after it); a tick that rejects because of it
 * is no error.
 */
export async function untilStopped(
  everyMs: number,
  tick: (signal: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const stop = new AbortController()
  const onSignal = () => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  signal?.addEventListener('abort', onSignal, { once: true })
  if (signal?.aborted) stop.abort()
  try {
    while (!stop.signal.aborted) {
      // The timer's promise removes its abort listener when it fires: one per wait would pile up.
      await delay(everyMs, undefined, { signal: stop.signal }).catch((error: unknown) => {
        if (!stop.signal.aborted) throw error
      })
      if (!stop.signal.aborted)
        await tick(stop.signal).catch((error: unknown) => {
          if (!stop.signal.aborted) throw error
        })
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
