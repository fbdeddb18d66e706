/**
 * How a CLI on this machine finds the server that holds the embedded store: the server records
 * its URL and a credential of its own in `<store folder>/server.json`, readable by the same OS
 * user only (mode 0600), and removes the record when it stops; the CLI reads it. Both faces use
 * this module: the file is their contract. The credential runs CLI commands through the server
 * (`server/api/cli-relay.ts`) and nothing else; whoever can read the store folder
 * could open the store itself, so it proves no more than they have. A new one is made at every
 * start, so a record left by a killed server is worth nothing to the next.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The record's name in the store folder. */
export const LOCAL_LINK_FILE = 'server.json'

/** What the record holds. */
export interface LocalLinkRecord {
  readonly url: string
  /** The server's process, for telling a record left by a killed server. */
  readonly pid: number
  readonly token: string
}

/** A new local credential. */
export function newLocalCredential(): string {
  return `flt_local_${randomBytes(32).toString('base64url')}`
}

/**
 * Writes the record (whole or not at all: written aside, then renamed) and returns the function
 * that removes it — only while it is still this server's (a second server must not lose its own).
 */
export function recordLocalLink(dataDir: string, record: LocalLinkRecord): () => void {
  const path = join(dataDir, LOCAL_LINK_FILE)
  const aside = `${path}.${process.pid}.tmp`
  writeFileSync(aside, `${JSON.stringify(record)}\n`, { mode: 0o600 })
  renameSync(aside, path)
  return () => {
    try {
      const current = JSON.parse(readFileSync(path, 'utf8')) as Partial<LocalLinkRecord>
      if (current.token === record.token) unlinkSync(path)
    } catch {
      // gone already, or not ours to judge: nothing to remove
    }
  }
}

/** Whether `token` is the server's local credential (in constant time). */
export function isLocalCredential(token: string, local: string | undefined): boolean {
  if (local === undefined) return false
  const given = Buffer.from(token)
  const expected = Buffer.from(local)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/**
 * The record of a server that holds the store in `dataDir`, when one runs: none when there is no
 * record, it cannot be read, or its process is gone (a killed server leaves its record behind).
 */
export function readLocalLink(dataDir: string): LocalLinkRecord | undefined {
  let record: Partial<LocalLinkRecord>
  try {
    record = JSON.parse(readFileSync(join(dataDir, LOCAL_LINK_FILE), 'utf8')) as Partial<LocalLinkRecord>
  } catch {
    return undefined
  }
  const { url, pid, token } = record
  if (typeof url !== 'string' || typeof token !== 'string' || !Number.isInteger(pid)) return undefined
  return processAlive(pid as number) ? { url, pid: pid as number, token } : undefined
}

/** Whether a process of this machine runs with `pid` (one of another user counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
