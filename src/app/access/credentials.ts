/**
 * Secrets that authenticate someone — API tokens and portal sessions — and how they are checked.
 *
 * A credential is `<prefix>_<id>_<secret>`: the id is public and finds the stored row, the secret
 * is 32 random bytes of which only a SHA-256 hash is stored. A leaked database therefore leaks no
 * usable token, and the comparison of hashes is constant-time, so the time a guess takes tells an
 * attacker nothing about how close it was.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** A newly minted credential: `secret` is shown once and never stored; `hash` is. */
export interface MintedCredential {
  readonly id: string
  /** The whole credential, as the user sends it. */
  readonly secret: string
  readonly hash: string
}

/** Mints a credential: `flt_<id>_<secret>` for tokens, `fls_…` for sessions. */
export function mintCredential(prefix: 'flt' | 'fls'): MintedCredential {
  const id = randomBytes(6).toString('hex')
  const secret = randomBytes(32).toString('base64url')
  return { id, secret: `${prefix}_${id}_${secret}`, hash: hashSecret(secret) }
}

/** Splits a credential into its id and secret, or undefined when it is not one of `prefix`. */
export function parseCredential(
  prefix: 'flt' | 'fls',
  text: string,
): { id: string; secret: string } | undefined {
  const match = new RegExp(`^${prefix}_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$`).exec(text)
  return match ? { id: match[1]!, secret: match[2]! } : undefined
}

/** The stored form of a secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/** Whether `secret` hashes to `storedHash`, compared in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const given = Buffer.from(hashSecret(secret), 'hex')
  const stored = Buffer.from(storedHash, 'hex')
  return given.length === stored.length && timingSafeEqual(given, stored)
}

/** A random value for a form's CSRF field. */
export function newCsrfSecret(): string {
  return randomBytes(24).toString('base64url')
}

/** Whether two CSRF values are equal, in constant time. */
export function csrfMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
