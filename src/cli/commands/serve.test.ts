import { describe, expect, it } from 'vitest'
import { serverSettingsFromEnv } from '../server-settings.ts'

describe('serverSettingsFromEnv', () => {
  it('reads FLOTILLA_MAX_TOKEN_DAYS and FLOTILLA_TRUST_PROXY', () => {
    expect(serverSettingsFromEnv({})).toEqual({})
    expect(serverSettingsFromEnv({ FLOTILLA_MAX_TOKEN_DAYS: '90', FLOTILLA_TRUST_PROXY: '1' })).toEqual({
      maxTokenDays: 90,
      trustProxy: true,
    })
    expect(serverSettingsFromEnv({ FLOTILLA_TRUST_PROXY: 'false' })).toEqual({ trustProxy: false })
  })

  it.each([
    [
      { FLOTILLA_MAX_TOKEN_DAYS: '90d' },
      'FLOTILLA_MAX_TOKEN_DAYS="90d" is not a whole number of days, e.g. 90',
    ],
    [
      { FLOTILLA_MAX_TOKEN_DAYS: '1e3' },
      'FLOTILLA_MAX_TOKEN_DAYS="1e3" is not a whole number of days, e.g. 90',
    ],
    [
      { FLOTILLA_TRUST_PROXY: 'maybe' },
      'FLOTILLA_TRUST_PROXY="maybe" is not one of 1, true, yes, 0, false, no',
    ],
  ])('refuses %j', (env, message) => {
    expect(() => serverSettingsFromEnv(env)).toThrow(message)
  })
})
