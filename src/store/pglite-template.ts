/**
 * An empty embedded database to copy from. Creating a PGlite database runs `initdb` in a second
 * PostgreSQL instance beside the first: seconds of work and, for a moment, about half a gigabyte
 * more memory than the store needs afterwards. It is done once per version of PGlite on a machine
 * (`npm install` does it, see scripts/pglite-template.ts), and every new store on disk starts as a
 * copy: the first `npm start`, each drill. The copy is only ever read; it is not migrated, so
 * checkouts with other migrations share it. Any trouble with it falls back to `initdb`.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'

/** The installed PGlite's version: a data directory belongs to the PostgreSQL it was made by. */
function pgliteVersion(): string {
  // Through require.resolve: the compiled CLI (scripts/build.ts) cannot resolve through import.meta.
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite')
  const manifest = join(dirname(entry), '..', 'package.json')
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version
}

/** Where the empty database is kept for this version of PGlite (`FLOTILLA_PGLITE_TEMPLATE` to move it). */
export function templateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FLOTILLA_PGLITE_TEMPLATE ?? join(tmpdir(), 'flotilla-pglite', `pglite-${pgliteVersion()}`)
}

/** Whether `dir` holds a database (PostgreSQL writes PG_VERSION first thing). */
export function holdsDatabase(dir: string): boolean {
  return existsSync(join(dir, 'PG_VERSION'))
}

/** Makes the empty database in `dir` unless it is there (built aside and moved in place: starts may race). */
export async function ensureTemplate(dir: string = templateDir()): Promise<string> {
  if (holdsDatabase(dir)) return dir
  mkdirSync(dirname(dir), { recursive: true })
  const building = mkdtempSync(`${dir}.building-`)
  try {
    await (await PGlite.create({ dataDir: building })).close()
    try {
      renameSync(building, dir)
    } catch (error) {
      // Another process put its copy in place first: it is as good as this one.
      if (!holdsDatabase(dir)) throw error
    }
  } finally {
    rmSync(building, { recursive: true, force: true })
  }
  return dir
}

/**
 * Fills `dataDir` with a copy of the empty database when it does not exist yet or is empty, and
 * says whether it did. A directory with anything in it is left alone: a store that lost a file is
 * not papered over with a fresh one.
 */
export async function seedFromTemplate(dataDir: string): Promise<boolean> {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) return false
  try {
    const template = await ensureTemplate()
    cpSync(template, dataDir, { recursive: true })
    return true
  } catch {
    // No template to be had (a read-only temporary directory, a full disk): PGlite runs initdb itself.
    rmSync(dataDir, { recursive: true, force: true })
    return false
  }
}

/**
 * The empty database as the tar archive PGlite loads an in-memory database from
 * (`loadDataDir`), made from the template once and kept beside it; undefined when it cannot be
 * had (then PGlite runs initdb itself). In-memory stores are the tests' and the benchmarks'.
 */
export function templateArchive(): Promise<Blob | undefined> {
  // Read once per process: a test file opens several stores, and the archive is 40 MB.
  archive ??= readArchive()
  return archive
}

let archive: Promise<Blob | undefined> | undefined

async function readArchive(): Promise<Blob | undefined> {
  try {
    const dir = await ensureTemplate()
    const file = `${dir}.tar`
    if (!existsSync(file)) {
      // PGlite writes to a database it opens: the archive is made from a scratch copy.
      const scratch = mkdtempSync(`${dir}.archiving-`)
      try {
        cpSync(dir, scratch, { recursive: true })
        const pglite = await PGlite.create({ dataDir: scratch })
        const dump = Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer())
        await pglite.close()
        const partial = `${scratch}.tar`
        writeFileSync(partial, dump)
        renameSync(partial, file)
      } finally {
        rmSync(scratch, { recursive: true, force: true })
      }
    }
    return new Blob([readFileSync(file)])
  } catch {
    return undefined
  }
}
