// Whether the compiled CLI in dist/ is the sources as they are now.
//
// `npm run build` (run by `npm install` and `npm ci` through `prepare`) compiles src/ into dist/
// and writes dist/stamp.json: every file the build read (path relative to the project, size,
// modification time, SHA-256 of its content). bin/flotilla.js runs dist/ only when each of those
// files is still what the build read; otherwise it runs the sources through tsx, so an edit is
// never answered by stale compiled code, at the price of a slower start until the next build.
//
// The check must be cheap, it runs before every command: a stat of each file (a few ms for the
// ~300 files of the CLI). A file whose time changed but whose size did not is hashed to tell a
// real change from a touch (a checkout, an editor saving the same text, an npm package whose
// files all carry npm's fixed date); when the contents are the same, the stamp is rewritten with
// the new times (if it can be), so that the next start is fast again.
//
// Plain JavaScript on purpose: it runs before anything can compile TypeScript.
import { createHash } from 'node:crypto'
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join, sep } from 'node:path'

/** The stamp's file name inside the build's directory. */
export const STAMP_FILE = 'stamp.json'

/** The stamp format; a stamp of another version is not trusted. */
const VERSION = 1

/** @param {string} path */
function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/**
 * What the stamp records of one file, or undefined when it does not exist.
 * @param {string} root
 * @param {string} file
 */
export function describeFile(root, file) {
  const path = join(root, file)
  const stat = statSync(path, { throwIfNoEntry: false })
  if (!stat?.isFile()) return undefined
  return { size: stat.size, mtimeMs: stat.mtimeMs, sha256: sha256(path) }
}

/**
 * Writes the stamp of a build into `dist`: what the build read of each file (`describeFile`),
 * by its path relative to the project.
 * @param {string} dist
 * @param {Readonly<Record<string, {size: number, mtimeMs: number, sha256: string}>>} inputs
 */
export function writeStamp(dist, inputs) {
  const sorted = Object.fromEntries(Object.entries(inputs).sort(([a], [b]) => (a < b ? -1 : 1)))
  writeFileSync(join(dist, STAMP_FILE), `${JSON.stringify({ version: VERSION, inputs: sorted }, null, 1)}\n`)
}

/**
 * Whether the build in `dist` was made from the files under `root` as they are now (see the
 * module comment). False when there is no build, no stamp, or any recorded file changed or is gone.
 * @param {string} root
 * @param {string} dist
 * @returns {boolean}
 */
export function isFresh(root, dist) {
  let stamp
  try {
    stamp = JSON.parse(readFileSync(join(dist, STAMP_FILE), 'utf8'))
  } catch {
    return false
  }
  if (stamp?.version !== VERSION || typeof stamp.inputs !== 'object' || stamp.inputs === null) return false
  const inputs = stamp.inputs
  const base = root.endsWith(sep) ? root : root + sep
  let touched = false
  // A plain loop over string paths: this runs before every command, for some 300 files.
  for (const file in inputs) {
    const recorded = inputs[file]
    const path = base + file
    const stat = statSync(path, { throwIfNoEntry: false })
    if (stat === undefined || !stat.isFile() || stat.size !== recorded.size) return false
    if (stat.mtimeMs === recorded.mtimeMs) continue
    if (sha256(path) !== recorded.sha256) return false
    inputs[file] = { ...recorded, mtimeMs: stat.mtimeMs }
    touched = true
  }
  if (touched) refreshStamp(dist, stamp)
  return true
}

/**
 * Rewrites a stamp whose files were touched but not changed, so the next check is a stat again.
 * Best effort: a directory we cannot write (an installed package) only costs the hashing.
 * @param {string} dist
 * @param {unknown} stamp
 */
function refreshStamp(dist, stamp) {
  const temporary = join(dist, `${STAMP_FILE}.${process.pid}`)
  try {
    writeFileSync(temporary, `${JSON.stringify(stamp, null, 1)}\n`)
    renameSync(temporary, join(dist, STAMP_FILE))
  } catch {
    // The stamp stays as it was: correct, only slower to check.
  }
}
