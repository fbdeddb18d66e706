import type { Target } from '../model/fleet-model.ts'
import type { Provider, ProviderEvent, SettleStatus } from './port.ts'
import { withRetries } from './retry.ts'

/** How long to wait for a target to settle when nothing else is said: 30 minutes. */
export const DEFAULT_SETTLE_TIMEOUT_MS = 30 * 60_000

/**
 * Asks the provider whether a target has settled until it has, has failed, or `timeoutMs`
 * passed (then the last `in-progress` answer is returned). Each question is retried like any
 * provider call, so throttling while waiting is not a failure.
 */
export async function waitUntilSettled(
  provider: Provider,
  target: Target,
  options: {
    readonly timeoutMs?: number
    readonly pollMs?: number
    /** Receives what the provider saw happen while waiting (stack events). */
    readonly onEvent?: (event: ProviderEvent) => void
  } = {},
): Promise<SettleStatus> {
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS)
  const pollMs = options.pollMs ?? 200
  for (;;) {
    const status = await withRetries(() => provider.settled(target, options.onEvent))
    if (status.state !== 'in-progress' || Date.now() >= deadline) return status
    await new Promise<void>((resolve) =>
      setTimeout(resolve, Math.min(pollMs, Math.max(0, deadline - Date.now()))),
    )
  }
}
