/** Waiting until a target has settled: the poll loop of every path that applies. */
import type { Target } from '../core/model/fleet-model.ts'
import type { Provider, ProviderEvent, SettleStatus } from '../core/provider/port.ts'
import { sleep, untilAborted } from '../lib/abortable.ts'
import { withRetries } from './retry.ts'

/** How long to wait for a target to settle when nothing else is said: 30 minutes. */
export const DEFAULT_SETTLE_TIMEOUT_MS = 30 * 60_000

/**
 * Asks the provider whether a target has settled until it has, has failed, or `timeoutMs`
 * passed (then the last `in-progress` answer is returned). Each question is retried like any
 * provider call, so throttling while waiting is not a failure. Aborting `signal` ends the wait
 * at once — the question under way too, whether or not the provider honours the signal — and
 * rejects with `signal.reason`.
 */
export async function waitUntilSettled(
  provider: Provider,
  target: Target,
  options: {
    readonly timeoutMs?: number
    readonly pollMs?: number
    /** Receives what the provider saw happen while waiting (stack events). */
    readonly onEvent?: (event: ProviderEvent) => void
    /** Ends the wait (see above). */
    readonly signal?: AbortSignal
  } = {},
): Promise<SettleStatus> {
  const { signal } = options
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS)
  const pollMs = options.pollMs ?? 200
  const call = signal ? { signal } : {}
  for (;;) {
    const status = await withRetries(
      () => untilAborted(provider.settled(target, options.onEvent, call), signal),
      call,
    )
    if (status.state !== 'in-progress' || Date.now() >= deadline) return status
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), signal)
  }
}
