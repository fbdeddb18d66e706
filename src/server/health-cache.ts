/**
 * The health of every cluster, as its provider last reported it, refreshed in the background:
 * the clusters list shows 250 clusters at once, and asking 250 providers on each page load would
 * make the page as slow as the slowest of them. Each result says when it was taken; a cluster not
 * asked yet is `unknown`, and one whose provider failed says so (it is not taken for healthy).
 */
import type { ProviderRegistry } from '../core/provider/registry.ts'
import type { FleetView } from './fleet-view.ts'
import { Repeat } from './repeat.ts'

/** A cluster's health as shown. */
export interface CachedHealth {
  readonly state: 'healthy' | 'unhealthy' | 'unknown'
  /** The first failed checks, or why the provider could not say. */
  readonly detail: string
  readonly at: Date | null
}

const UNKNOWN: CachedHealth = { state: 'unknown', detail: 'not checked yet', at: null }

/** Asks every cluster's provider in turn, again and again, `pauseMs` apart. */
export class HealthCache {
  private readonly results = new Map<string, CachedHealth>()
  private readonly repeat = new Repeat()

  /** The last health of a cluster. */
  get(id: string): CachedHealth {
    return this.results.get(id) ?? UNKNOWN
  }

  /** Starts refreshing. */
  start(fleets: FleetView, registry: ProviderRegistry, pauseMs = 10_000): void {
    this.repeat.start(pauseMs, async () => {
      try {
        const { fleet } = await fleets.snapshot()
        for (const target of fleet.targets) {
          if (this.repeat.isStopped) return
          if (target.kind !== 'cluster') continue
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
      } catch {
        // The repository could not be read just now: try again after the pause.
      }
    })
  }

  /** Stops refreshing. */
  stop(): Promise<void> {
    return this.repeat.stop()
  }
}
