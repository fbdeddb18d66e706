import { describe, expect, it } from 'vitest'
import { ConcurrencyLimit, LimitFull, TokenBucket } from './request-limits.ts'

describe('TokenBucket', () => {
  it('gives a burst, then one token per 60/perMinute seconds, and says how long until the next', () => {
    let now = 0
    const bucket = new TokenBucket({ burst: 3, perMinute: 6 }, () => now)
    expect([bucket.take(), bucket.take(), bucket.take()].every((t) => t.ok)).toBe(true)
    expect(bucket.take()).toEqual({ ok: false, retryAfterMs: expect.closeTo(10_000, 3) })
    now = 4_000
    expect(bucket.take()).toEqual({ ok: false, retryAfterMs: expect.closeTo(6_000, 3) })
    now = 10_000
    expect(bucket.take()).toEqual({ ok: true })
    expect(bucket.take().ok).toBe(false)
    // A long quiet spell refills it to the burst, no more.
    now = 10_000_000
    expect(Array.from({ length: 5 }, () => bucket.take().ok)).toEqual([true, true, true, false, false])
  })
})

describe('ConcurrencyLimit', () => {
  /** A job that runs until released. */
  const gate = () => {
    let release = () => {}
    const done = new Promise<void>((resolve) => {
      release = resolve
    })
    return { release, job: () => done }
  }

  it('runs `running` at once, queues `queued` in order, refuses the rest at once', async () => {
    const limit = new ConcurrencyLimit({ running: 1, queued: 1, maxWaitMs: 10_000 })
    const first = gate()
    const order: string[] = []
    const a = limit.run(async () => {
      await first.job()
      order.push('a')
    })
    const b = limit.run(async () => {
      order.push('b')
    })
    expect(limit.load()).toEqual({ running: 1, queued: 1 })
    await expect(limit.run(async () => 'c')).rejects.toEqual(new LimitFull('queue-full'))
    first.release()
    await Promise.all([a, b])
    expect(order).toEqual(['a', 'b'])
    expect(limit.load()).toEqual({ running: 0, queued: 0 })
    // A job that throws gives its place back too.
    await expect(limit.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await limit.run(async () => 'again')).toBe('again')
  })

  it('refuses one that waited too long, and forgets it', async () => {
    const limit = new ConcurrencyLimit({ running: 1, queued: 2, maxWaitMs: 20 })
    const held = gate()
    const running = limit.run(held.job)
    await expect(limit.run(async () => 'late')).rejects.toEqual(new LimitFull('waited-too-long'))
    expect(limit.load()).toEqual({ running: 1, queued: 0 })
    held.release()
    await running
    expect(limit.load()).toEqual({ running: 0, queued: 0 })
  })
})
