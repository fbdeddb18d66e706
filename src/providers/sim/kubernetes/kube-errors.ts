/**
 * Errors of the simulated Kubernetes API, answered as Kubernetes answers them: a `Status`
 * object with a `reason` clients branch on (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`,
 * `TooManyRequests`, …) and the matching HTTP code.
 */

/** One cause of a failure (`details.causes`): a field and what is wrong with it. */
export interface StatusCause {
  readonly reason: string
  readonly message: string
  readonly field?: string
}

/** What a failure is about (`details`). */
export interface StatusDetails {
  readonly name?: string
  readonly group?: string
  readonly kind?: string
  readonly causes?: readonly StatusCause[]
}

/** A failed API call, answered as a `Status` with `code` as the HTTP status. */
export class KubeError extends Error {
  readonly code: number
  readonly reason: string
  readonly details: StatusDetails | undefined

  constructor(
    code: number,
    reason: string,
    message: string,
    details?: StatusDetails,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'KubeError'
    this.code = code
    this.reason = reason
    this.details = details
  }
}

/** The `Status` body of a failure. */
export function failureStatus(error: KubeError): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: error.message,
    reason: error.reason,
    ...(error.details ? { details: error.details } : {}),
    code: error.code,
  }
}

/** Any thrown value as the API answers it: a bug is an `InternalError` (500) that says so. */
export function toKubeError(error: unknown): KubeError {
  if (error instanceof KubeError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new KubeError(500, 'InternalError', `Internal error occurred: ${message}`, undefined, {
    cause: error,
  })
}

/** `<plural>[.<group>] "<name>" not found`, as the API says it. */
export function notFound(resource: { plural: string; group: string; kind: string }, name: string): KubeError {
  return new KubeError(404, 'NotFound', `${qualified(resource)} "${name}" not found`, {
    name,
    group: resource.group,
    kind: resource.plural,
  })
}

/** `deployments.apps`, `pods`. */
export function qualified(resource: { plural: string; group: string }): string {
  return resource.group === '' ? resource.plural : `${resource.plural}.${resource.group}`
}

/** A request that does not make an object valid (422), with every problem as a cause. */
export function invalid(
  resource: { kind: string; group: string },
  name: string,
  causes: readonly StatusCause[],
): KubeError {
  return new KubeError(
    422,
    'Invalid',
    `${resource.kind}${resource.group === '' ? '' : `.${resource.group}`} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
    { name, group: resource.group, kind: resource.kind, causes },
  )
}
