/**
 * Drift, on a schedule: the fleet observed through its providers and compared with what Flotilla
 * last applied to each target. A stack or object that changed outside Flotilla is drift; the
 * portal, the API and the `flotilla_drift_targets` metric show it. Changing it back goes through
 * a rollout like any change: by hand, or by the server itself with `--revert-drift`
 * (`drift-revert.ts`).
 */

import { Counter, Gauge, type Registry } from 'prom-client'
import type { Application } from '../app/application.ts'
import type { FleetView } from '../app/fleet-view.ts'
import { Repeat } from '../app/repeat.ts'
import { ChangedTargets } from './changed-targets.ts'
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
  private readonly app: Application
  private readonly fleets: FleetView
  private readonly reverter: DriftReverter | undefined
  private readonly reverts: Counter<'status'> | undefined
  private readonly changes: ChangedTargets
  /** The commit the last check observed the fleet for. */
  private checkedCommit: string | undefined

  constructor(app: Application, fleets: FleetView, metrics?: Registry, reverter?: DriftReverter) {
    this.app = app
    this.fleets = fleets
    this.reverter = reverter
    this.changes = new ChangedTargets(app.registry)
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

  /**
   * Checks now (one check at a time). A full check observes every target; the scheduled ones
   * observe only the targets whose provider says they changed since the last check (all of them
   * when the revision shown changed), and keep the rest of the last report.
   */
  check(options: { readonly full?: boolean } = {}): Promise<DriftReport> {
    this.checking ??= (async () => {
      try {
        const { commit, fleet } = await this.fleets.snapshot()
        const full = options.full !== false || commit !== this.checkedCommit
        const changed = await this.changes.next(fleet.targets)
        if (!full && changed.size === 0 && this.report.checkedAt !== null) {
          this.report = { ...this.report, checkedAt: new Date().toISOString() }
          return this.report
        }
        const observed = await this.app.observe(fleet, full ? undefined : (t) => changed.has(t.id))
        const found = new Map<string, DriftReport['targets'][number]>()
        if (!full) {
          const ids = new Set(fleet.targets.map((t) => t.id))
          for (const t of this.report.targets) if (ids.has(t.id) && !changed.has(t.id)) found.set(t.id, t)
        }
        for (const [id, record] of observed.state.drift ?? new Map())
          found.set(id, { id, revision: record.revision, addresses: record.addresses })
        const targets = [...found.values()].sort((a, b) => (a.id < b.id ? -1 : 1))
        const done = (await this.reverter?.revert(targets)) ?? []
        for (const revert of done) this.reverts?.inc({ status: revert.status })
        this.checkedCommit = commit
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

  /**
   * Checks every `intervalMs` until stopped, the first time one interval after the start: a
   * server that just started has its fleet to load and pages to serve (and under `npm start` the
   * example to apply) before anything can have drifted. Errors are reported and the next check
   * comes anyway; {@link check} checks at once.
   */
  start(intervalMs: number, report: (error: unknown) => void): void {
    this.repeat.start(intervalMs, () => this.check({ full: false }).then(() => {}, report), intervalMs)
  }

  /** Stops checking. */
  stop(): Promise<void> {
    return this.repeat.stop()
  }
}
