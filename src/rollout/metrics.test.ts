import { describe, expect, test } from 'vitest'
import { testBackends, useTestStore } from '../store/test-store.ts'
import { RolloutMetrics } from './metrics.ts'
import { setFleetStop } from './rollout-store.ts'

/** The value of one series in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe.each(testBackends)('the rollout engine metrics, on %s', (backend) => {
  const testStore = useTestStore(backend)

  test('gauges read the store at each scrape; counters and histograms follow the events', async () => {
    const { db } = testStore.store
    await db
      .insertInto('plans')
      .values({ id: 'p-1', base: 'observed', head: 'c1', verdict: 'allowed', document: '{}' })
      .execute()
    await db
      .insertInto('rollouts')
      .values(
        ['running', 'running', 'queued', 'halted'].map((state, i) => ({
          id: `r-${i}`,
          plan_id: 'p-1',
          state,
          revision: 'c1',
          created_by: 'alice',
        })),
      )
      .execute()
    const metrics = new RolloutMetrics(db)
    let text = await metrics.scrape()
    expect(sample(text, 'flotilla_rollouts{state="running"}')).toBe(2)
    expect(sample(text, 'flotilla_rollouts{state="queued"}')).toBe(1)
    expect(sample(text, 'flotilla_rollouts{state="halted"}')).toBe(1)
    expect(sample(text, 'flotilla_rollouts{state="succeeded"}')).toBe(0)
    expect(sample(text, 'flotilla_fleet_stopped')).toBe(0)
    await setFleetStop(db, { reason: 'incident', by: 'carol' })
    expect(sample(await metrics.scrape(), 'flotilla_fleet_stopped')).toBe(1)

    const gates = [
      { name: 'healthy', type: 'health', state: 'passed', detail: '', durationMs: 40 },
      { name: 'errors', type: 'prometheus', state: 'failed', detail: '', durationMs: 2500 },
    ]
    metrics.observe({ type: 'target-applying', target: 'a', detail: { stage: 'dev' } })
    metrics.observe({ type: 'target-succeeded', target: 'a', detail: { stage: 'dev', gates: [gates[0]!] } })
    metrics.observe({ type: 'target-applying', target: 'b', detail: { stage: 'dev' } })
    metrics.observe({ type: 'target-failed', target: 'b', detail: { stage: 'dev', gates } })
    metrics.observe({
      type: 'target-failed',
      target: 'c',
      detail: { stage: 'dev', reason: 'changed since the plan' },
    })
    metrics.observe({ type: 'target-rolled-back', target: 'b', detail: { stage: 'dev', restored: [] } })
    metrics.observe({ type: 'rolled-back', detail: { stage: 'dev', reason: '…' } })
    metrics.observe({ type: 'stage-started', detail: { stage: 'dev' } })
    text = await metrics.scrape()
    expect(sample(text, 'flotilla_rollout_targets_total{stage="dev",state="succeeded"}')).toBe(1)
    expect(sample(text, 'flotilla_rollout_targets_total{stage="dev",state="failed"}')).toBe(2)
    expect(sample(text, 'flotilla_rollout_targets_total{stage="dev",state="rolled-back"}')).toBe(1)
    expect(sample(text, 'flotilla_rollout_target_step_seconds_count{stage="dev"}')).toBe(2)
    expect(sample(text, 'flotilla_rollouts_finished_total{state="rolled-back"}')).toBe(1)
    expect(sample(text, 'flotilla_rollouts_finished_total{state="succeeded"}')).toBeUndefined()
    expect(
      sample(
        text,
        'flotilla_rollout_gate_duration_seconds_count{gate="healthy",type="health",state="passed"}',
      ),
    ).toBe(2)
    expect(
      sample(
        text,
        'flotilla_rollout_gate_duration_seconds_sum{gate="errors",type="prometheus",state="failed"}',
      ),
    ).toBe(2.5)
    expect(sample(text, 'flotilla_rollout_gate_failures_total{gate="errors",type="prometheus"}')).toBe(1)
    expect(metrics.contentType).toMatch(/^text\/plain/)
  })
})
