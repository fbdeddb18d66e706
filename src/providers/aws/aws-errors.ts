/**
 * AWS's errors in the provider port's terms: whether retrying is safe (throttling, a 5xx, a
 * network failure, a stack still in progress) or not (everything else, which says why).
 */
import { ProviderError } from '../../core/provider/port.ts'

const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'PriorRequestNotComplete',
])

/** The {@link ProviderError} for an error an AWS call threw, with `doing` saying what failed. */
export function providerErrorOf(
  error: unknown,
  target: string,
  doing: string,
  address?: string,
): ProviderError {
  if (error instanceof ProviderError) return error
  const e = error as {
    name?: string
    message?: string
    $metadata?: { httpStatusCode?: number }
    $retryable?: { throttling?: boolean }
    code?: string
  }
  const name = e.name ?? 'Error'
  const message = `${doing}: ${name}: ${e.message ?? String(error)}`
  const status = e.$metadata?.httpStatusCode
  if (THROTTLED.has(name) || e.$retryable?.throttling)
    return new ProviderError('throttled', target, message, address, { cause: error })
  if (
    (status !== undefined && status >= 500) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT'].includes(e.code ?? '')
  )
    return new ProviderError('unavailable', target, message, address, { cause: error })
  // CloudFormation refuses a change to a stack that is still changing: it can be retried when it settled.
  if (/is in [A-Z_]*IN_PROGRESS state and can not be updated/.test(e.message ?? ''))
    return new ProviderError('busy', target, message, address, { cause: error })
  return new ProviderError('refused', target, message, address, { cause: error })
}
