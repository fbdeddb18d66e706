/**
 * Errors as responses, in one place for the API and the portal: bad input 400, not signed in
 * 401, not allowed 403, unknown 404, a clash with the current state 409, a policy that forbids
 * it 422, too much at once 429, a cloud that fails for now 503 — the last two with
 * `Retry-After`; anything else is a bug: a 500 with a short id, the details in the log.
 */
import { randomBytes } from 'node:crypto'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { isFlotillaError } from '../core/errors.ts'
import { ERROR_STATUS, errorHeaders, errorMessage, RetryLater } from './api/http-helpers.ts'

/**
 * The response to an error a route threw: JSON `{ error }` under `/api/`, plain text elsewhere.
 * `log` receives a bug's details with its id.
 */
export function errorResponse(c: Context, error: Error, log: (message: string) => void): Response {
  const api = c.req.path.startsWith('/api/')
  const reply = (status: number, message: string, headers: Record<string, string> = {}) => {
    const response = api ? c.json({ error: message }, status as 400) : c.text(message, status as 400)
    for (const [name, value] of Object.entries(headers)) response.headers.set(name, value)
    return response
  }
  if (error instanceof HTTPException) return reply(error.status, error.message)
  if (error instanceof RetryLater)
    return reply(error.status, error.message, { 'retry-after': String(error.retryAfterSeconds) })
  if (isFlotillaError(error)) return reply(ERROR_STATUS[error.kind], errorMessage(error), errorHeaders(error))
  const id = randomBytes(4).toString('hex')
  log(`error ${id} on ${c.req.method} ${c.req.path}: ${error.stack ?? error.message}`)
  return reply(500, `internal error ${id}: a bug in Flotilla; the server log has the details`)
}
