/**
 * Drift, on a schedule: the fleet observed through its providers and compared with what Flotilla
 * last applied to each target. A stack or object that changed outside Flotilla is drift; the
 * portal, the API and the `flotilla_drift_targets` metric show it. Changing it back goes through
 * a rollout like any change: by hand, or by the server itself with `--revert-drift`
 * (`drift-revert.ts`).
 */

import type { Kysely } from 'kysely'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import { observeFleet } from '../operations/observed-fleet.ts'
import type { FleetView } from '../server/fleet-view.ts'
import { Repeat } from '../server/repeat.ts'
import type { Database } from '../store/tables.ts'
import type { DriftRevert, DriftReverter } from './drift-revert.ts'

/** The last drift check. */
export interface DriftReport {
  readonly checkedAt: string | null
  /** Targets that drifted: what Flotilla last applied, and the addresses that differ from it. */
  readonly targets: readonly {
    readonly id: string
    readonly revision: string
    readonly addresses: readonly string[]
  }[]
  /** With `--revert-drift`: what was done about drift, newest first (the last 20). */
  readonly reverts: readonly DriftRevert[]
}

/** Checks drift every `intervalMs`, and on demand. */
export class DriftMonitor {
  private report: DriftReport = { checkedAt: null, targets: [], reverts: [] }
  private readonly repeat = new Repeat()
  private checking: Promise<DriftReport> | undefined
  private readonly fleets: FleetView
  private readonly registry: ProviderRegistry
  private readonly db: Kysely<Database>
  private readonly reverter: DriftReverter | undefined
  private readonly reverts: Counter<'status'> | undefined

  constructor(
    fleets: FleetView,
    registry: ProviderRegistry,
    db: Kysely<Database>,
    metrics?: Registry,
    reverter?: DriftReverter,
  ) {
    this.fleets = fleets
    this.registry = registry
    this.db = db
    this.reverter = reverter
    if (metrics && reverter)
      this.reverts = new Counter({
        name: 'flotilla_drift_reverts_total',
        help: 'Drift reverts by what became of them: started (a rollout), refused (by policy or missing approvals), not-reverted.',
        labelNames: ['status'],
        registers: [metrics],
      })
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
        const done = (await this.reverter?.revert(targets)) ?? []
        for (const revert of done) this.reverts?.inc({ status: revert.status })
        this.report = {
          checkedAt: new Date().toISOString(),
          targets,
          reverts: [...done, ...this.report.reverts].slice(0, 20),
        }
        return this.report
      } finally {
        this.checking = undefined
      }
    })()
    return this.checking
  }

  /** Checks every `intervalMs` until stopped; errors are reported and the next check comes anyway. */
  start(intervalMs: number, report: (error: unknown) => void): void {
    this.repeat.start(intervalMs, () => this.check().then(() => {}, report))
  }

  /** Stops checking. */
  stop(): Promise<void> {
    return this.repeat.stop()
  }
}
