import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { watchEventLoop } from './event-loop-metrics.ts'

describe('the event loop delay metric', () => {
  it('reports the quantiles and the maximum of the delay since the last scrape, in seconds', async () => {
    const registry = new Registry()
    const loop = watchEventLoop(registry)
    try {
      await new Promise((resolve) => setTimeout(resolve, 50)) // the monitor's timer runs
      const until = performance.now() + 120
      while (performance.now() < until) {} // hold the loop, as a heavy step would
      await new Promise((resolve) => setTimeout(resolve, 30))
      const text = await registry.metrics()
      for (const quantile of ['0.5', '0.9', '0.99'])
        expect(text).toMatch(
          new RegExp(`flotilla_event_loop_delay_seconds\\{quantile="${quantile}"\\} [0-9.e-]+`),
        )
      const max = Number(/flotilla_event_loop_delay_max_seconds ([0-9.e-]+)/.exec(text)?.[1])
      expect(max).toBeGreaterThanOrEqual(0.1)
      // The scrape reset the histogram: the held loop is not reported again.
      await new Promise((resolve) => setTimeout(resolve, 30))
      const next = Number(
        /flotilla_event_loop_delay_max_seconds ([0-9.e-]+)/.exec(await registry.metrics())?.[1],
      )
      expect(next).toBeLessThan(max)
    } finally {
      loop.stop()
    }
  })
})
