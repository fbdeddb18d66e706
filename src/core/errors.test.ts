import { describe, expect, it, vi } from 'vitest'
import {
  ConflictError,
  isFlotillaError,
  isProviderError,
  PROVIDER_ERROR_KIND,
  ProviderError,
  type ProviderErrorCode,
} from './errors.ts'

describe('ProviderError in the taxonomy', () => {
  it('has the kind, retryability and Retry-After of its code', () => {
    const codes: ProviderErrorCode[] = ['throttled', 'unavailable', 'busy', 'refused', 'invalid']
    expect(
      codes.map((code) => {
        const error = new ProviderError(code, 't', 'm')
        return [code, error.kind, error.retryable, error.retryAfterSeconds]
      }),
    ).toEqual([
      ['throttled', 'unavailable', true, 10],
      ['unavailable', 'unavailable', true, 30],
      ['busy', 'unavailable', true, 60],
      ['refused', 'conflict', false, undefined],
      ['invalid', 'input', false, undefined],
    ])
    expect(Object.keys(PROVIDER_ERROR_KIND)).toEqual(codes)
  })

  it('chains its cause', () => {
    const cause = new Error('socket hang up')
    expect(new ProviderError('unavailable', 't', 'm', undefined, { cause }).cause).toBe(cause)
  })
})

describe('isProviderError and isFlotillaError', () => {
  it('tell provider failures from other errors, including ones that only take the name', () => {
    const impostor = Object.assign(new Error('x'), { name: 'ProviderError' })
    expect([isProviderError(new ProviderError('busy', 't', 'm')), isProviderError(impostor)]).toEqual([
      true,
      false,
    ])
    expect(isProviderError(new ConflictError('c'))).toBe(false)
    expect([
      isFlotillaError(new ConflictError('c')),
      isFlotillaError(impostor),
      isFlotillaError('text'),
    ]).toEqual([true, false, false])
  })

  it('recognise the errors of another copy of the module, which instanceof does not', async () => {
    vi.resetModules()
    // A second instance of the module, as a loader that keys modules differently would make.
    const path = './errors.ts?copy'
    const copy = (await import(/* @vite-ignore */ path)) as typeof import('./errors.ts')
    const theirs = new copy.ProviderError('throttled', 't', 'm')
    expect(copy.ProviderError).not.toBe(ProviderError)
    expect(theirs instanceof ProviderError).toBe(false)
    expect(isProviderError(theirs)).toBe(true)
    expect(isFlotillaError(theirs)).toBe(true)
    expect(isFlotillaError(new copy.ConflictError('c'))).toBe(true)
    expect(isProviderError(new copy.ConflictError('c'))).toBe(false)
  })
})
