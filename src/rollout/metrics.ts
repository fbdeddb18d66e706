/**
 * Prometheus metrics of the rollout engine, in a prom-client registry of their own:
 *
 * - `flotilla_rollouts{state}` (gauge): rollouts in each state, read from the store at each
 *   scrape — so every process that serves them tells the same truth, whoever runs the rollouts;
 * - `flotilla_fleet_stopped` (gauge): 1 while the fleet-wide stop is on;
 * - `flotilla_rollouts_finished_total{state}` (counter): rollouts this process ended, by how;
 * - `flotilla_rollout_targets_total{stage, state}` (counter): target steps this process ended
 *   (`succeeded`, `failed`, `rolled-back`);
 * - `flotilla_rollout_target_step_seconds{stage}` (histogram): apply → settle → gates of a target;
 * - `flotilla_rollout_gate_duration_seconds{gate, type, state}` (histogram) and
 *   `flotilla_rollout_gate_failures_total{gate, type}` (counter): every gate run.
 *
 * The counters and histograms follow the engine's events (`observe`, given as its `onEvent`), so
 * the engine itself knows nothing of Prometheus.
 */
import type { Kysely } from 'kysely'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Database, Json } from '../store/tables.ts'
import { ROLLOUT_STATES } from './rollout-model.ts'
import { countRolloutsByState, fleetStop } from './rollout-store.ts'

/** The events that end a rollout, and the state each ends it in. */
const ENDINGS: Readonly<Record<string, string>> = {
  succeeded: 'succeeded',
  'nothing-left-to-change': 'succeeded',
  'rolled-back': 'rolled-back',
  halted: 'halted',
  aborted: 'aborted',
}

/** The events that end a target step, and the target's state after it. */
const TARGET_ENDINGS: Readonly<Record<string, string>> = {
  'target-succeeded': 'succeeded',
  'target-failed': 'failed',
  'target-rolled-back': 'rolled-back',
}

/** The engine's metrics; `observe` is its `onEvent`, `scrape` what `/metrics` serves. */
export class RolloutMetrics {
  /** The registry the metrics are in; nothing else is registered there. */
  readonly registry = new Registry()
  private readonly finished: Counter<'state'>
  private readonly targets: Counter<'stage' | 'state'>
  private readonly stepSeconds: Histogram<'stage'>
  private readonly gateSeconds: Histogram<'gate' | 'type' | 'state'>
  private readonly gateFailures: Counter<'gate' | 'type'>
  /** When each target step under way began (its `target-applying`), by target. */
  private readonly began = new Map<string, number>()

  constructor(db: Kysely<Database>) {
    const registers = [this.registry]
    new Gauge({
      name: 'flotilla_rollouts',
      help: 'Rollouts in each state, as stored.',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await countRolloutsByState(db)
        for (const state of ROLLOUT_STATES) this.set({ state }, counts.get(state) ?? 0)
      },
    })
    new Gauge({
      name: 'flotilla_fleet_stopped',
      help: '1 while the fleet-wide stop is on, else 0.',
      registers,
      async collect() {
        this.set((await fleetStop(db)) ? 1 : 0)
      },
    })
    this.finished = new Counter({
      name: 'flotilla_rollouts_finished_total',
      help: 'Rollouts this process ended, by the state they ended in.',
      labelNames: ['state'],
      registers,
    })
    this.targets = new Counter({
      name: 'flotilla_rollout_targets_total',
      help: 'Target steps this process ended, by stage and the state they ended in.',
      labelNames: ['stage', 'state'],
      registers,
    })
    this.stepSeconds = new Histogram({
      name: 'flotilla_rollout_target_step_seconds',
      help: 'How long a target step took: apply, settle and gates.',
      labelNames: ['stage'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800],
      registers,
    })
    this.gateSeconds = new Histogram({
      name: 'flotilla_rollout_gate_duration_seconds',
      help: 'How long each gate run took, by gate, type and result.',
      labelNames: ['gate', 'type', 'state'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    })
    this.gateFailures = new Counter({
      name: 'flotilla_rollout_gate_failures_total',
      help: 'Gate runs that failed, by gate and type.',
      labelNames: ['gate', 'type'],
      registers,
    })
  }

  /** Counts one engine event (pass this as the engine's `onEvent`). */
  observe(event: { type: string; target?: string; detail?: Json }): void {
    const detail = (event.detail ?? {}) as Record<string, unknown>
    const stage = typeof detail.stage === 'string' ? detail.stage : ''
    const ended = ENDINGS[event.type]
    if (ended && event.target === undefined) this.finished.inc({ state: ended })
    if (event.target === undefined) return
    if (event.type === 'target-applying') this.began.set(event.target, performance.now())
    const targetEnded = TARGET_ENDINGS[event.type]
    if (!targetEnded) return
    this.targets.inc({ stage, state: targetEnded })
    const began = this.began.get(event.target)
    if (began !== undefined && event.type !== 'target-rolled-back') {
      this.stepSeconds.observe({ stage }, (performance.now() - began) / 1000)
      this.began.delete(event.target)
    }
    for (const gate of Array.isArray(detail.gates) ? detail.gates : []) {
      const { name, type = 'unknown', state, durationMs } = gate as Record<string, unknown>
      if (typeof name !== 'string' || typeof state !== 'string') continue
      const labels = { gate: name, type: String(type) }
      if (typeof durationMs === 'number') this.gateSeconds.observe({ ...labels, state }, durationMs / 1000)
      if (state === 'failed') this.gateFailures.inc(labels)
    }
  }

  /** The `Content-Type` of {@link RolloutMetrics.scrape}'s text. */
  get contentType(): string {
    return this.registry.contentType
  }

  /** Every metric in the Prometheus text format. */
  scrape(): Promise<string> {
    return this.registry.metrics()
  }
}
