import { join, resolve } from 'node:path'
import { LoadCache } from '../core/load/load-cache.ts'
import { type LoadOptions, type LoadResult, loadFleet } from '../core/load/load-fleet.ts'
import type { FleetSource } from '../core/model/source.ts'
import { openParseStore } from '../source/parse-store.ts'
import { type RepositoryOptions, readSource } from './repository.ts'

/** The data directory of a repository, where the parse cache is kept: `<repo>/.flotilla`. */
export function dataDirOf(options: RepositoryOptions, cwd: string): string {
  return resolve(cwd, join(options.repo ?? '.', '.flotilla'))
}

/**
 * Reads and loads a repository (the working tree, or `rev`) with the parse cache of its data
 * directory: files parsed by an earlier command are read back instead of parsed, and the files
 * parsed now are stored for the next. The cache never changes the result, only how fast it comes.
 */
export async function loadWithParseCache(
  options: RepositoryOptions,
  cwd: string,
  load: Omit<LoadOptions, 'cache'> = {},
): Promise<{ source: FleetSource; result: LoadResult }> {
  const source = await readSource(options, cwd)
  const store = await openParseStore(dataDirOf(options, cwd), source)
  const result = loadFleet(source, { ...load, cache: new LoadCache({ store }) })
  await store.flush()
  return { source, result }
}
