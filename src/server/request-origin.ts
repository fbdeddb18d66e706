/**
 * Where a request came from, as far as the server can tell: whether the client reached it over
 * TLS (directly, or — when the server is told to trust the proxy in front — as the proxy's
 * `X-Forwarded-Proto` says), and whether a browser sent it from a page of another site
 * (`Sec-Fetch-Site`, `Origin`).
 */
import type { Context } from 'hono'

/** The first value of a header a proxy may have appended to (`https, http`). */
function firstValue(header: string | undefined): string | undefined {
  return header?.split(',')[0]?.trim().toLowerCase() || undefined
}

/**
 * Whether the client reached the server over HTTPS: the request's own scheme, or with
 * `trustProxy` the proxy's `X-Forwarded-Proto`. Without `trustProxy` the header is ignored: any
 * client could send it.
 */
export function servedOverHttps(c: Context, trustProxy: boolean | undefined): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true
  return trustProxy === true && firstValue(c.req.header('x-forwarded-proto')) === 'https'
}

/**
 * Why a browser request looks like it came from a page of another site, or undefined when it does
 * not: `Sec-Fetch-Site` other than `same-origin` (or `none`, typed by the user), or an `Origin`
 * whose host is not this server's (with `trustProxy`, also the proxy's `X-Forwarded-Host`).
 * Clients other than browsers send neither header.
 */
export function crossSiteReason(c: Context, trustProxy: boolean | undefined): string | undefined {
  const site = c.req.header('sec-fetch-site')
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return `the request came from a page of another site (Sec-Fetch-Site: ${site})`
  // A browser that says where the request came from is believed: with the portal's
  // `Referrer-Policy: no-referrer`, Chromium sends `Origin: null` even for its own forms.
  if (site !== undefined) return undefined
  const origin = c.req.header('origin')
  if (origin === undefined) return undefined
  const hosts = new Set([new URL(c.req.url).host])
  const forwarded = trustProxy ? firstValue(c.req.header('x-forwarded-host')) : undefined
  if (forwarded) hosts.add(forwarded)
  let host: string | undefined
  try {
    const url = new URL(origin)
    if (url.protocol === 'http:' || url.protocol === 'https:') host = url.host.toLowerCase()
  } catch {
    host = undefined // "null", or not a URL
  }
  return host !== undefined && hosts.has(host)
    ? undefined
    : `the request came from a page of another site (Origin: ${origin})`
}
