import { setTimeout as delay } from 'node:timers/promises'

/**
 * Runs `tick` every `everyMs` in the foreground until SIGINT, SIGTERM or `signal` stops it — what
 * `flotilla serve` and `flotilla sim serve` do between starting and closing their servers.
 */
export async function untilStopped(
  everyMs: number,
  tick: () => Promise<void>,
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
      if (!stop.signal.aborted) await tick()
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
