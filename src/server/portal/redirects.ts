/**
 * Where the portal may send someone after signing in: a path of this site, never another site.
 * A browser reads `//evil.example`, `/\evil.example` and `\/evil.example` as another host, strips
 * tabs and newlines (`/\t/evil.example` is `//evil.example`), and some proxies decode `%5C` and
 * `%2F` before it does: so a `next` is accepted only when it, and every decoding of it, is a plain
 * path that starts with one `/`.
 */

/** The page after signing in when `next` is missing or not a path of this site. */
export const DEFAULT_NEXT = '/accounts'

const BASE = 'http://flotilla.invalid'

/** Whether `text` has a control character (tab, newline, NUL, DEL …), which browsers and proxies strip or cut at. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

/** A path that no browser or proxy reads as another host. */
function plainPath(text: string): boolean {
  return text.startsWith('/') && !text.startsWith('//') && !text.includes('\\') && !hasControlCharacter(text)
}

/** `next` when it is a path of this site (normalised), else {@link DEFAULT_NEXT}. */
export function sameSitePath(next: string | undefined): string {
  if (next === undefined || next.length === 0 || next.length > 2048) return DEFAULT_NEXT
  // As sent, a path is plain ASCII: a browser percent-encodes everything else.
  if (!/^[\u0021-\u007e]+$/.test(next)) return DEFAULT_NEXT
  let text = next
  for (let round = 0; round < 4; round++) {
    if (!plainPath(text)) return DEFAULT_NEXT
    let decoded: string
    try {
      decoded = decodeURIComponent(text)
    } catch {
      return DEFAULT_NEXT // malformed percent-encoding: nothing to guess at
    }
    if (decoded === text) break
    if (round === 3) return DEFAULT_NEXT // encoded over and over: no page of ours is
    text = decoded
  }
  const url = new URL(next, BASE)
  const path = url.pathname + url.search + url.hash
  // `/.//evil.example` normalises to `//evil.example`.
  return url.origin === BASE && plainPath(path) ? path : DEFAULT_NEXT
}
