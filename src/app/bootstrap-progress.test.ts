import { describe, expect, test } from 'vitest'
import { BootstrapProgress } from './bootstrap-progress.ts'

describe('the progress of the example apply', () => {
  const clock = () => {
    let now = Date.parse('2026-11-10T10:00:00Z')
    return {
      now: () => now,
      advance: (ms: number) => {
        now += ms
      },
    }
  }

  test('counts what an earlier start finished, rates only this one, and says what is left', () => {
    const c = clock()
    const p = new BootstrapProgress(c.now)
    expect(p.current()).toBeUndefined()
    expect(p.shown()).toBe(false)
    p.begin('abc1234', 550, 100)
    expect(p.current()).toMatchObject({ state: 'applying', total: 550, done: 100, failed: 0 })
    expect(p.shown()).toBe(true)
    c.advance(10_000)
    p.update({ total: 450, applied: 138, failed: 2, unchanged: 0 })
    expect(p.current()).toMatchObject({ done: 240, failed: 2, perSecond: 14 })
    expect(p.current()!.summary).toBe(
      'Applying the example: 240 of 550 targets, 14/s, about 22 s left; 2 failed …',
    )
    c.advance(22_000)
    p.update({ total: 450, applied: 448, failed: 2, unchanged: 0 })
    p.end('done')
    expect(p.current()!.summary).toBe('Applied the example: 550 of 550 targets in 32 s; 2 failed.')
    // Failures keep the banner up after the end.
    expect(p.shown()).toBe(true)
  })

  test('a clean end takes the banner down; a stop and a failure say so', () => {
    const p = new BootstrapProgress()
    p.begin('abc1234', 10, 0)
    p.update({ total: 10, applied: 10, failed: 0, unchanged: 0 })
    p.end('done')
    expect(p.shown()).toBe(false)
    p.begin('abc1234', 10, 0)
    p.update({ total: 10, applied: 4, failed: 0, unchanged: 0 })
    p.end('stopped')
    expect(p.current()!.summary).toBe(
      'Stopped applying the example at 4 of 10 targets; the next start applies the rest.',
    )
    expect(p.shown()).toBe(true)
    p.begin('abc1234', 10, 4)
    p.end('failed', 'its plan is denied')
    expect(p.current()).toMatchObject({ state: 'failed', error: 'its plan is denied', done: 4 })
    expect(p.current()!.summary).toBe('Applying the example failed at 4 of 10 targets: its plan is denied')
  })
})
