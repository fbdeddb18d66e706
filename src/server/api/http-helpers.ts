/** What every API route needs: the signed-in principal, a parsed body, and errors as statuses. */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { z } from 'zod'
import type { Decision, Principal } from '../../app/access/permissions.ts'
import {
  describeProviderError,
  type ErrorKind,
  type FlotillaError,
  ForbiddenError,
  InputError,
  isProviderError,
} from '../../core/errors.ts'
import { SERVER_CLOCK_ONLY } from '../../core/policy/policy-time.ts'
import { csrfValid } from '../request-auth.ts'
import { checkJsonValue, intParam } from '../request-guard.ts'
import type { ServerEnv } from '../server-deps.ts'

/** The signed-in principal; a 401 when there is none. */
export function signedIn(c: Context<ServerEnv>): Principal {
  const principal = c.get('principal')
  if (!principal)
    throw new HTTPException(401, {
      message: 'sign in: send "Authorization: Bearer <token>" (flotilla serve prints the first admin token)',
    })
  return principal
}

/**
 * The principal of a request that changes something: signed in, and — with a session cookie —
 * carrying the session's CSRF secret.
 */
export function changer(c: Context<ServerEnv>, formCsrf?: string): Principal {
  const principal = signedIn(c)
  requireCsrf(c, formCsrf)
  refuseClockFields(Object.keys(c.req.query()), 'query parameter')
  return principal
}

/** Names a request might give its own time under; any spelling of them is refused. */
const CLOCK_FIELDS = new Set(['now', 'policynow', 'policytime', 'policy_time', 'policy-time'])

/**
 * Refuses (400) a request that changes something and names the time its policies should see —
 * in its body, a form or its query: policies see the server's clock.
 */
export function refuseClockFields(names: Iterable<string>, where: string): void {
  for (const name of names)
    if (CLOCK_FIELDS.has(name.toLowerCase()))
      throw new InputError(`${where} "${name}" is not accepted: ${SERVER_CLOCK_ONLY}`)
}

/** Refuses (403) a request made with a session cookie that lacks the session's CSRF secret. */
export function requireCsrf(c: Context<ServerEnv>, formCsrf: string | undefined): void {
  if (!csrfValid(c, formCsrf))
    throw new ForbiddenError(
      'the form is stale or not from this portal (CSRF check failed); reload the page and try again',
    )
}

/**
 * The HTTP status of each kind of error a user can cause or meet, for the API and the portal
 * alike: `unavailable` (a cloud throttling, failing or busy) is a 503 with `Retry-After`
 * ({@link errorHeaders}), not a 500 — it is no bug of Flotilla's.
 */
export const ERROR_STATUS = {
  input: 400,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  policy: 422,
  unavailable: 503,
} as const satisfies Record<ErrorKind, number>

/** The message of an error of the taxonomy as a response says it: a provider's in one line with what to do. */
export function errorMessage(error: FlotillaError): string {
  return isProviderError(error) ? describeProviderError(error) : error.message
}

/** The headers a response to an error of the taxonomy carries: `Retry-After` when trying again makes sense. */
export function errorHeaders(error: FlotillaError): Record<string, string> {
  const seconds = error.retryAfterSeconds
  return seconds === undefined ? {} : { 'retry-after': String(seconds) }
}

/** Throws a 403 with the reason when the decision is no. */
export function enforce(decision: Decision): void {
  if (!decision.allowed) throw new ForbiddenError(decision.reason)
}

/**
 * Parses a JSON body with a schema; a 400 naming each bad field and what it should be, and one for
 * a NUL byte or an out-of-range number anywhere in it (`request-guard.ts`).
 */
export async function jsonBody<T extends z.ZodType>(c: Context<ServerEnv>, schema: T): Promise<z.output<T>> {
  let body: unknown
  const text = await c.req.text()
  if (text.trim() === '') body = {}
  else {
    try {
      body = JSON.parse(text)
    } catch (error) {
      throw new InputError(`the body is not JSON: ${(error as Error).message}`)
    }
  }
  checkJsonValue(body)
  if (typeof body === 'object' && body !== null && !Array.isArray(body))
    refuseClockFields(Object.keys(body), 'field')
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    throw new InputError(
      `invalid body: ${parsed.error.issues
        .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`)
        .join('; ')}`,
    )
  }
  return parsed.data
}

/** A query parameter that must be one of `values` when present; a 400 otherwise. */
export function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  values: readonly T[],
): T | undefined {
  if (value === undefined || value === '') return undefined
  if (!(values as readonly string[]).includes(value))
    throw new InputError(
      `query parameter ${name}=${JSON.stringify(value)} is not one of ${values.join(', ')}`,
    )
  return value as T
}

/** A positive integer query parameter with a default and a maximum. */
export function limitParam(value: string | undefined, fallback: number, max: number): number {
  return intParam('query parameter limit', value, { min: 1, max, fallback })
}

/**
 * Too much at once: a 429 (this caller sends too often) or a 503 (the server is busy), with
 * `Retry-After` in seconds.
 */
export class RetryLater extends Error {
  readonly status: 429 | 503
  readonly retryAfterSeconds: number

  constructor(status: 429 | 503, retryAfterSeconds: number, message: string) {
    super(message)
    this.name = 'RetryLater'
    this.status = status
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds))
  }
}
