/**
 * Drift, on a schedule: the fleet observed through its providers and compared with what Flotilla
 * last applied to each target. A stack or object that changed outside Flotilla is drift; the
 * portal, the API and the `flotilla_drift_targets` metric show it. Changing it back goes through
 * a rollout like any change (a plan against the observed fleet shows what it would undo).
 */

import type { Kysely } from 'kysely'
import { Gauge, type Registry } from 'prom-client'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import { observeFleet } from '../operations/observed-fleet.ts'
import type { FleetView } from '../server/fleet-view.ts'
import type { Database } from '../store/tables.ts'

/** The last drift check. */
export interface DriftReport {
  readonly checkedAt: string | null
  /** Targets that drifted: what Flotilla last applied, and the addresses that differ from it. */
  readonly targets: readonly {
    readonly id: string
    readonly revision: string
    readonly addresses: readonly string[]
  }[]
}

/** Checks drift every `intervalMs`, and on demand. */
export class DriftMonitor {
  private report: DriftReport = { checkedAt: null, targets: [] }
  private stopped = false
  private wake: (() => void) | undefined
  private loop: Promise<void> | undefined
  private checking: Promise<DriftReport> | undefined
  private readonly fleets: FleetView
  private readonly registry: ProviderRegistry
  private readonly db: Kysely<Database>

  constructor(fleets: FleetView, registry: ProviderRegistry, db: Kysely<Database>, metrics?: Registry) {
    this.fleets = fleets
    this.registry = registry
    this.db = db
    if (metrics) {
      const monitor = this
      new Gauge({
        name: 'flotilla_drift_targets',
        help: 'Targets whose observed state differs from what Flotilla last applied, at the last drift check.',
        registers: [metrics],
        collect() {
          this.set(monitor.report.targets.length)
        },
      })
    }
  }

  /** The last report. */
  last(): DriftReport {
    return this.report
  }

  /** Checks now (one check at a time). */
  check(): Promise<DriftReport> {
    this.checking ??= (async () => {
      try {
        const { fleet } = await this.fleets.snapshot()
        const observed = await observeFleet(fleet, this.registry, this.db)
        const targets = [...(observed.state.drift ?? new Map()).entries()]
          .map(([id, record]) => ({ id, revision: record.revision, addresses: record.addresses }))
          .sort((a, b) => (a.id < b.id ? -1 : 1))
        this.report = { checkedAt: new Date().toISOString(), targets }
        return this.report
      } finally {
        this.checking = undefined
      }
    })()
    return this.checking
  }

  /** Checks every `intervalMs` until stopped; errors are reported and the next check comes anyway. */
  start(intervalMs: number, report: (error: unknown) => void): void {
    this.loop = (async () => {
      while (!this.stopped) {
        await this.check().catch(report)
        // Stopped during the check: its wake-up has passed, so do not start a long wait now.
        if (this.stopped) break
        await new Promise<void>((resolve) => {
          this.wake = resolve
          setTimeout(resolve, intervalMs).unref() // a stopped monitor must not hold the process open
        })
      }
    })()
  }

  /** Stops checking. */
  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    await this.loop
  }
}
