/** What every API route needs: the signed-in principal, a parsed body, and errors as statuses. */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { z } from 'zod'
import { ForbiddenError, InputError } from '../../core/errors.ts'
import type { Decision, Principal } from '../access/permissions.ts'
import { csrfValid } from '../request-auth.ts'
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
  return principal
}

/** Refuses (403) a request made with a session cookie that lacks the session's CSRF secret. */
export function requireCsrf(c: Context<ServerEnv>, formCsrf: string | undefined): void {
  if (!csrfValid(c, formCsrf))
    throw new ForbiddenError(
      'the form is stale or not from this portal (CSRF check failed); reload the page and try again',
    )
}

/** The HTTP status of each kind of error a user can cause, for the API and the portal alike. */
export const ERROR_STATUS = {
  input: 400,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  policy: 422,
} as const

/** Throws a 403 with the reason when the decision is no. */
export function enforce(decision: Decision): void {
  if (!decision.allowed) throw new ForbiddenError(decision.reason)
}

/** Parses a JSON body with a schema; a 400 naming each bad field and what it should be. */
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
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new InputError(
      `query parameter limit=${JSON.stringify(value)} must be a whole number from 1 to ${max}`,
    )
  return n
}
