/**
 * The health of every cluster, as its provider last reported it, refreshed in the background:
 * the clusters list shows 250 clusters at once, and asking 250 providers on each page load would
 * make the page as slow as the slowest of them. Each result says when it was taken; a cluster not
 * asked yet is `unknown`, and one whose provider failed says so (it is not taken for healthy).
 * An answer stands until its cluster changes (`changedSince` counts a provider's own time — a
 * fault expiring, an object becoming ready — as a change); a provider that did not answer is
 * asked again the next round.
 */

import type { FleetView } from '../app/fleet-view.ts'
import { Repeat } from '../app/repeat.ts'
import { ChangedTargets, yieldToLoop } from '../controller/changed-targets.ts'
import type { Target } from '../core/model/fleet-model.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'

/** A cluster's health as shown. */
export interface CachedHealth {
  readonly state: 'healthy' | 'unhealthy' | 'unknown'
  /** The first failed checks, or why the provider could not say. */
  readonly detail: string
  readonly at: Date | null
}

const UNKNOWN: CachedHealth = { state: 'unknown', detail: 'not checked yet', at: null }

/**
 * Asks the providers about the clusters that changed since the last round (all of them at first),
 * one cluster at a time with the event loop let run between them, every `pauseMs`: an idle fleet
 * costs one cheap look per round, not 250 health checks in a burst (see `ChangedTargets`).
 */
export class HealthCache {
  private readonly results = new Map<string, CachedHealth>()
  private readonly repeat = new Repeat()
  private asked = 0

  /** The last health of a cluster. */
  get(id: string): CachedHealth {
    return this.results.get(id) ?? UNKNOWN
  }

  /** How many health checks were asked of providers so far (the refresh's cost, for tests and metrics). */
  get checksAsked(): number {
    return this.asked
  }

  /** Starts refreshing. */
  start(fleets: FleetView, registry: ProviderRegistry, pauseMs = 10_000): void {
    const changes = new ChangedTargets(registry)
    this.repeat.start(pauseMs, async () => {
      try {
        const { fleet } = await fleets.snapshot()
        const clusters = fleet.targets.filter((t) => t.kind === 'cluster')
        const ids = new Set(clusters.map((t) => t.id))
        // A cluster gone from the inventory is forgotten: the map stays the fleet's size.
        for (const id of this.results.keys()) if (!ids.has(id)) this.results.delete(id)
        const changed = await changes.next(clusters)
        for (const target of clusters) {
          if (this.repeat.isStopped) return
          // A provider that did not answer is asked again next round; a known answer stands until its cluster changes.
          if (
            !changed.has(target.id) &&
            this.results.get(target.id)?.at &&
            this.results.get(target.id)?.state !== 'unknown'
          )
            continue
          await this.check(registry, target)
          await yieldToLoop()
        }
      } catch {
        // The repository could not be read just now: try again after the pause.
      }
    })
  }

  private async check(registry: ProviderRegistry, target: Target): Promise<void> {
    this.asked++
    try {
      const health = await registry.forTarget(target).health(target)
      const failed = health.checks.filter((c) => !c.healthy)
      this.results.set(target.id, {
        state: health.healthy ? 'healthy' : 'unhealthy',
        detail: failed
          .slice(0, 3)
          .map((c) => `${c.name}: ${c.detail}`)
          .join('; '),
        at: new Date(),
      })
    } catch (error) {
      this.results.set(target.id, {
        state: 'unknown',
        detail: `the provider did not answer: ${(error as Error).message}`,
        at: new Date(),
      })
    }
  }

  /** Stops refreshing. */
  stop(): Promise<void> {
    return this.repeat.stop()
  }
}
