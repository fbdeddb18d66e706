/**
 * How long the server's event loop was held up: `flotilla_event_loop_delay_seconds`, a summary of
 * the delay `perf_hooks.monitorEventLoopDelay` measures (p50, p90, p99 and the maximum, since
 * the last scrape), and `flotilla_event_loop_delay_max_seconds`. While the loop is held, every
 * request waits: a server with nothing heavy on its loop keeps the maximum under 50 ms.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks'
import { Gauge, type Registry } from 'prom-client'

/** Watches the event loop and reports its delay in `registry`; `stop` ends the watch. */
export function watchEventLoop(registry: Registry): { stop(): void; histogram: IntervalHistogram } {
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  const seconds = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0)
  // Percentiles are read and the histogram reset by the collect of the last gauge, so each scrape
  // reports the period since the one before.
  new Gauge({
    name: 'flotilla_event_loop_delay_seconds',
    help: 'How long the event loop was delayed since the last scrape, by quantile (monitorEventLoopDelay, 10 ms resolution).',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      for (const q of [50, 90, 99]) this.set({ quantile: String(q / 100) }, seconds(histogram.percentile(q)))
    },
  })
  new Gauge({
    name: 'flotilla_event_loop_delay_max_seconds',
    help: 'The longest the event loop was delayed since the last scrape.',
    registers: [registry],
    collect() {
      this.set(seconds(histogram.max))
      histogram.reset()
    },
  })
  return { stop: () => histogram.disable(), histogram }
}
