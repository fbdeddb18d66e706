/** Server settings that come from the environment, shared by `flotilla serve` and `flotilla users`. */
import { InputError } from '../core/errors.ts'

/**
 * The server settings read from the environment: `FLOTILLA_MAX_TOKEN_DAYS` (the longest a new API
 * token may last) and `FLOTILLA_TRUST_PROXY` (`1`/`true`: trust `X-Forwarded-Proto` from the proxy
 * in front). A value that is neither is an error, not silently ignored.
 */
export function serverSettingsFromEnv(env: NodeJS.ProcessEnv): {
  maxTokenDays?: number
  trustProxy?: boolean
} {
  const settings: { maxTokenDays?: number; trustProxy?: boolean } = {}
  const days = env.FLOTILLA_MAX_TOKEN_DAYS?.trim()
  if (days) {
    if (!/^\d{1,4}$/.test(days))
      throw new InputError(`FLOTILLA_MAX_TOKEN_DAYS="${days}" is not a whole number of days, e.g. 90`)
    settings.maxTokenDays = Number(days)
  }
  const trust = env.FLOTILLA_TRUST_PROXY?.trim().toLowerCase()
  if (trust) {
    if (!['1', 'true', 'yes', '0', 'false', 'no'].includes(trust))
      throw new InputError(`FLOTILLA_TRUST_PROXY="${trust}" is not one of 1, true, yes, 0, false, no`)
    settings.trustProxy = ['1', 'true', 'yes'].includes(trust)
  }
  return settings
}
