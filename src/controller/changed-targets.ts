/**
 * Which targets changed since the last look, for background work that must not look at the whole
 * fleet again and again (the health refresh, drift checks): providers that can say what changed
 * (the port's optional `changedSince`) are asked that, cheaply; a target of a provider that
 * cannot is looked at again only when its last look is older than `slowPollMs`, and those looks
 * are spread over that period instead of falling due all at once.
 */
import type { Target } from '../core/model/fleet-model.ts'
import type { Provider } from '../core/provider/port.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'

/** How often a target of a provider without `changedSince` is looked at again. @default 5 min */
export const SLOW_POLL_MS = 5 * 60_000

/** Keeps the cursors of one background task (each task keeps its own). */
export class ChangedTargets {
  private readonly cursors = new Map<Provider, string>()
  /** Target id → when it is due again, for providers without `changedSince`. */
  private readonly due = new Map<string, number>()
  private readonly registry: ProviderRegistry
  private readonly slowPollMs: number
  private readonly now: () => number

  constructor(registry: ProviderRegistry, slowPollMs = SLOW_POLL_MS, now: () => number = Date.now) {
    this.registry = registry
    this.slowPollMs = slowPollMs
    this.now = now
  }

  /** The targets of `targets` to look at now; the first call names them all. */
  async next(targets: readonly Target[]): Promise<Set<string>> {
    const out = new Set<string>()
    const now = this.now()
    for (const [provider, group] of this.registry.partition(targets)) {
      if (provider.changedSince) {
        const changes = await provider.changedSince(group, this.cursors.get(provider))
        this.cursors.set(provider, changes.cursor)
        for (const target of group)
          if (changes.changed === 'all' || changes.changed.has(target.id)) out.add(target.id)
        continue
      }
      group.forEach((target, index) => {
        const due = this.due.get(target.id)
        if (due !== undefined && due > now) return
        out.add(target.id)
        // The first look takes all at once; later ones fall due spread over the period.
        const spread = due === undefined ? (index / group.length) * this.slowPollMs : 0
        this.due.set(target.id, now + this.slowPollMs + spread)
      })
    }
    return out
  }

  /** Forgets every cursor: the next call names every target again. */
  reset(): void {
    this.cursors.clear()
    this.due.clear()
  }
}

/**
 * Lets the event loop run what waits (requests, timers) before going on: background work calls
 * it between small steps so that no step of it holds the loop for long.
 */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
