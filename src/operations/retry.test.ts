import { describe, expect, it } from 'vitest'
import { ProviderError, type ProviderErrorCode } from '../core/provider/port.ts'
import { withRetries } from './retry.ts'

/** A call that fails with the given errors, in order, then returns `done`. */
function failing(errors: readonly Error[]) {
  let calls = 0
  const call = async () => {
    const error = errors[calls++]
    if (error) throw error
    return 'done'
  }
  return { call, calls: () => calls }
}

const error = (code: ProviderErrorCode) => new ProviderError(code, 'acct-1', `${code} happened`, 'acct-1/x')

describe('ProviderError', () => {
  it('is retryable for throttling, outages and busy stacks only', () => {
    const retryable = (['throttled', 'unavailable', 'busy', 'refused', 'invalid'] as const).map((code) => [
      code,
      error(code).retryable,
    ])
    expect(Object.fromEntries(retryable)).toEqual({
      throttled: true,
      unavailable: true,
      busy: true,
      refused: false,
      invalid: false,
    })
    expect(error('busy')).toMatchObject({ name: 'ProviderError', target: 'acct-1', address: 'acct-1/x' })
    expect(new ProviderError('refused', 't', 'm').address).toBeUndefined()
  })
})

describe('withRetries', () => {
  it('retries retryable errors with exponential backoff and full jitter', async () => {
    const waits: number[] = []
    const retries: string[] = []
    const { call, calls } = failing([error('throttled'), error('unavailable'), error('busy')])
    const result = await withRetries(call, {
      baseMs: 100,
      sleep: async (ms) => {
        waits.push(ms)
      },
      random: () => 0.5,
      onRetry: (e, attempt, waitMs) => retries.push(`${attempt} ${e.code} ${waitMs}`),
    })
    expect(result).toBe('done')
    expect(calls()).toBe(4)
    expect(waits).toEqual([50, 100, 200])
    expect(retries).toEqual(['1 throttled 50', '2 unavailable 100', '3 busy 200'])
  })

  it('throws refused, invalid and foreign errors at once', async () => {
    for (const thrown of [error('refused'), error('invalid'), new TypeError('a bug')]) {
      const { call, calls } = failing([thrown])
      const waits: number[] = []
      await expect(withRetries(call, { sleep: async (ms) => void waits.push(ms) })).rejects.toBe(thrown)
      expect(calls()).toBe(1)
      expect(waits).toEqual([])
    }
  })

  it('gives up after the attempts, with the last error', async () => {
    const errors = Array.from(
      { length: 10 },
      (_, i) => new ProviderError('unavailable', 't', `failure ${i + 1}`),
    )
    const { call, calls } = failing(errors)
    await expect(withRetries(call, { attempts: 4, sleep: async () => {} })).rejects.toThrow('failure 4')
    expect(calls()).toBe(4)
    const defaults = failing(errors)
    await expect(withRetries(defaults.call, { sleep: async () => {} })).rejects.toThrow('failure 6')
    expect(defaults.calls()).toBe(6)
    const once = failing(errors)
    await expect(withRetries(once.call, { attempts: 1, sleep: async () => {} })).rejects.toThrow('failure 1')
    expect(once.calls()).toBe(1)
  })

  it('never waits longer than maxMs, and waits within [0, base * 2^n] with jitter', async () => {
    const errors = Array.from({ length: 12 }, () => error('throttled'))
    const highest: number[] = []
    await withRetries(failing(errors).call, {
      attempts: 13,
      baseMs: 200,
      maxMs: 5000,
      random: () => 0.999999,
      sleep: async (ms) => void highest.push(ms),
    })
    expect(highest).toEqual([200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000, 5000, 5000, 5000])
    const lowest: number[] = []
    await withRetries(failing(errors.slice(0, 3)).call, {
      random: () => 0,
      sleep: async (ms) => void lowest.push(ms),
    })
    expect(lowest).toEqual([0, 0, 0])
  })

  it('returns the first success without waiting', async () => {
    const waits: number[] = []
    expect(await withRetries(async () => 42, { sleep: async (ms) => void waits.push(ms) })).toBe(42)
    expect(waits).toEqual([])
  })
})
