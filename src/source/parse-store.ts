import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ParseStore } from '../core/load/load-cache.ts'
import type { FleetSource } from '../core/model/source.ts'
import { PARSED_FILE_FORMAT } from '../core/yaml/parsed-codec.ts'

/** Where the parse cache lives inside Flotilla's data directory (`<repo>/.flotilla`). */
export const PARSE_CACHE_FOLDER = join('cache', 'parsed')

/** Entries kept at most; beyond it the oldest written go first. A fleet has tens to hundreds of files. */
const MAX_ENTRIES = 2000

/**
 * A {@link ParseStore} in a directory: one file per parse, named by a hash of the Flotilla
 * version, the stored format, the file's path and its text — content-addressed, so an entry is
 * never stale, only unused, and a new release never reads an older one's entries. Reading is done
 * ahead, for the files of one source ({@link openParseStore}); writing is done after the load
 * ({@link DirectoryParseStore.flush}). Neither ever fails the command: a missing, unreadable or
 * corrupt entry is a miss, and a cache that cannot be written is not written.
 */
export class DirectoryParseStore implements ParseStore {
  private readonly dir: string
  private readonly entries: ReadonlyMap<string, string>
  private readonly pending = new Map<string, string>()

  constructor(dir: string, entries: ReadonlyMap<string, string>) {
    this.dir = dir
    this.entries = entries
  }

  read(path: string, text: string): string | undefined {
    return this.entries.get(entryKey(path, text))
  }

  write(path: string, text: string, encoded: string): void {
    this.pending.set(entryKey(path, text), encoded)
  }

  /** How many entries this store was given to write: for tests and for reports. */
  get written(): number {
    return this.pending.size
  }

  /**
   * Writes the parses made since it was opened, each under a temporary name renamed into place
   * (a concurrent reader sees a whole entry or none), and keeps the directory within bounds.
   * Never throws.
   */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return
    try {
      await mkdir(this.dir, { recursive: true })
      // Git ignores the cache even in a repository whose .gitignore does not name .flotilla/.
      await writeFile(join(this.dir, '..', '.gitignore'), '*\n', { flag: 'wx' }).catch(() => undefined)
      await Promise.all(
        [...this.pending].map(async ([key, encoded]) => {
          const partial = join(this.dir, `${key}.${process.pid}.tmp`)
          await writeFile(partial, encoded)
          await rename(partial, join(this.dir, `${key}.json`))
        }),
      )
      this.pending.clear()
      await prune(this.dir)
    } catch {
      // A cache is an optimisation: a read-only or full disk must not fail validate.
    }
  }
}

/**
 * Opens the parse cache in `dataDir` for the files of `source`: reads the entries of those files
 * that are there. Never throws.
 */
export async function openParseStore(dataDir: string, source: FleetSource): Promise<DirectoryParseStore> {
  const dir = join(dataDir, PARSE_CACHE_FOLDER)
  const entries = new Map<string, string>()
  await Promise.all(
    [...source.files].map(async ([path, text]) => {
      if (!/\.ya?ml$/.test(path)) return
      const key = entryKey(path, text)
      try {
        entries.set(key, await readFile(join(dir, `${key}.json`), 'utf8'))
      } catch {
        // Not cached yet (or unreadable): parsed as if there were no cache.
      }
    }),
  )
  return new DirectoryParseStore(dir, entries)
}

/** The name of a file's entry: what its parse depends on, hashed. */
function entryKey(path: string, text: string): string {
  return createHash('sha256')
    .update(`flotilla ${FLOTILLA_VERSION} parsed-v${PARSED_FILE_FORMAT}\0${path}\0`)
    .update(text)
    .digest('hex')
}

/** Removes the oldest entries (by when they were written) when there are more than {@link MAX_ENTRIES}. */
async function prune(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json'))
  if (names.length <= MAX_ENTRIES) return
  const dated = await Promise.all(
    names.map(async (name) => ({
      name,
      at: (await stat(join(dir, name)).catch(() => undefined))?.mtimeMs ?? 0,
    })),
  )
  dated.sort((a, b) => a.at - b.at)
  await Promise.all(
    dated.slice(0, names.length - (MAX_ENTRIES * 3) / 4).map((d) => rm(join(dir, d.name), { force: true })),
  )
}

/**
 * The version of the running Flotilla, from its package.json (found above this module, wherever
 * the sources or a build of them are). Part of every entry's name: another release — which may
 * parse differently — never reads this one's entries.
 */
const FLOTILLA_VERSION = ((): string => {
  for (const up of ['../../package.json', '../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string
        version?: string
      }
      if (pkg.name === 'flotilla' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // Not there: look one level further.
    }
  }
  return 'unknown'
})()
