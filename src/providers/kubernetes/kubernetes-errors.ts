import { ProviderError, type ProviderErrorCode } from '../../core/provider/port.ts'

/** The `message` of a Kubernetes `Status` body, when the error carries one. */
function statusMessage(body: unknown): string | undefined {
  try {
    const parsed = typeof body === 'string' ? (JSON.parse(body) as unknown) : body
    const message = (parsed as { message?: unknown } | null)?.message
    return typeof message === 'string' ? message : undefined
  } catch {
    return undefined
  }
}

/**
 * A failed call of `@kubernetes/client-node` as a provider error: 429 is throttling, 5xx and
 * network failures are outages (retry later); a refusal of the API server (400, 403, 404, 409,
 * 422) is not retried. The API server's own message is kept.
 */
export function providerErrorOf(
  error: unknown,
  target: string,
  doing: string,
  address?: string,
): ProviderError {
  if (error instanceof ProviderError) return error
  const code = (error as { code?: unknown }).code
  const status = typeof code === 'number' ? code : undefined
  const kind: ProviderErrorCode =
    status === undefined || status >= 500
      ? 'unavailable'
      : status === 429
        ? 'throttled'
        : status === 403
          ? 'refused'
          : 'invalid'
  const detail =
    statusMessage((error as { body?: unknown }).body) ??
    (error instanceof Error ? error.message : String(error))
  return new ProviderError(kind, target, `${doing}: ${detail}`, address, { cause: error })
}
