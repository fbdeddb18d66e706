/**
 * Input no route can use, refused with a 400 naming where it is: a NUL byte (the store cannot keep
 * one in a text column, and no name or id of Flotilla has one) in the path, a query parameter, a
 * form field or anywhere in a body — checked for every route before any of them runs — and in a
 * JSON body a NUL (`\u0000`) or a number that is not finite (`1e309` parses to Infinity) or lies
 * beyond the store's integer columns — checked by `jsonBody`, through which every route reads
 * JSON (a webhook's payload, which no route reads, may carry any number). Numbers in query
 * parameters and headers are checked by their routes ({@link intParam}), which know their range.
 */
import type { MiddlewareHandler } from 'hono'
import { InputError } from '../core/errors.ts'

/** The largest integer the store's `integer` columns hold, and so the largest number a request may carry. */
export const INT32_MAX = 2_147_483_647

/** Methods without a body to look at. */
const BODILESS = new Set(['GET', 'HEAD', 'OPTIONS'])

const hasNul = (text: string) => text.includes('\u0000')

/** The middleware (after the body size limit, before authentication). */
export function rejectMalformedInput(): MiddlewareHandler {
  return async (c, next) => {
    const url = new URL(c.req.url)
    if (/%00/i.test(url.pathname))
      throw new InputError(`the path ${JSON.stringify(url.pathname)} contains a NUL byte (%00); remove it`)
    for (const [name, value] of new URLSearchParams(url.search))
      if (hasNul(name) || hasNul(value))
        throw new InputError(`query parameter ${JSON.stringify(name)} contains a NUL byte (%00); remove it`)
    if (!BODILESS.has(c.req.method)) checkBody(await c.req.text(), c.req.header('content-type') ?? '')
    await next()
  }
}

/** Throws a 400 naming the first form field of `body` that holds a NUL byte, or the body for a raw one. */
function checkBody(body: string, contentType: string): void {
  if (/^application\/x-www-form-urlencoded/i.test(contentType)) {
    for (const [name, value] of new URLSearchParams(body))
      if (hasNul(name) || hasNul(value))
        throw new InputError(`form field ${JSON.stringify(name)} contains a NUL byte; remove it`)
  }
  if (hasNul(body)) throw new InputError('the body contains a NUL byte; remove it')
}

/**
 * Throws a 400 naming the first field of a parsed JSON body that holds a NUL byte, in a key or a
 * string, or a number that is not finite or beyond ±{@link INT32_MAX}.
 */
export function checkJsonValue(value: unknown, path: readonly string[] = []): void {
  const where = () => (path.length > 0 ? `body field ${path.join('.')}` : 'the body')
  if (typeof value === 'string') {
    if (hasNul(value)) throw new InputError(`${where()} contains a NUL byte (\\u0000); remove it`)
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value) || Math.abs(value) > INT32_MAX)
      throw new InputError(
        `${where()} is a number out of range (${value}); numbers must be between -${INT32_MAX} and ${INT32_MAX}`,
      )
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => {
      checkJsonValue(item, [...path, String(index)])
    })
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (hasNul(key)) throw new InputError(`a key of ${where()} contains a NUL byte (\\u0000); remove it`)
      checkJsonValue(item, [...path, key])
    }
  }
}

/**
 * A whole-number query parameter or header from `min` to `max` (at most {@link INT32_MAX}), or
 * `fallback` when absent; a 400 naming it otherwise (`1e309`, `-1`, `99999999999999999999`, `0x10`).
 */
export function intParam(
  name: string,
  value: string | undefined,
  range: { min: number; max: number; fallback: number },
): number {
  if (value === undefined || value === '') return range.fallback
  const n = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= range.min && n <= Math.min(range.max, INT32_MAX)))
    throw new InputError(
      `${name}=${JSON.stringify(value)} must be a whole number from ${range.min} to ${Math.min(range.max, INT32_MAX)}`,
    )
  return n
}
