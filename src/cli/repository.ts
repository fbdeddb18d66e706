import { resolve } from 'node:path'
import { InputError } from '../core/errors.ts'
import type { LoadCache } from '../core/load/load-cache.ts'
import { type LoadResult, loadFleet } from '../core/load/load-fleet.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import { describeSource, type FleetSource } from '../core/model/source.ts'
import { readDirectorySource } from '../source/directory.ts'
import { readRevisionSource } from '../source/git.ts'

/** The options every repository-reading command takes. */
export interface RepositoryOptions {
  /** The fleet repository directory. @default the current directory */
  readonly repo?: string
  /** A git revision to read instead of the working tree. */
  readonly rev?: string
}

/** Reads the repository's files: the working tree, or a revision when `rev` is given. */
export function readSource(options: RepositoryOptions, cwd: string): Promise<FleetSource> {
  const dir = resolve(cwd, options.repo ?? '.')
  return options.rev === undefined ? readDirectorySource(dir) : readRevisionSource(dir, options.rev)
}

/** Loads a repository and returns the fleet, or throws an {@link InputError} carrying every problem. */
export async function loadValidFleet(
  options: RepositoryOptions,
  cwd: string,
  role?: 'base' | 'head' | 'trusted revision',
  cache?: LoadCache,
): Promise<{ fleet: Fleet; result: LoadResult }> {
  const source = await readSource(options, cwd)
  const result = loadFleet(source, cache ? { cache } : {})
  if (!result.ok) throw invalidFleetError(options, source, result, role)
  return { fleet: result.fleet, result }
}

/** The error of a repository that did not load, carrying every problem. */
export function invalidFleetError(
  options: RepositoryOptions,
  source: FleetSource,
  result: Extract<LoadResult, { ok: false }>,
  role?: 'base' | 'head' | 'trusted revision',
): InputError {
  const what = role === undefined ? 'the fleet repository' : `the ${role} (${describeSource(source.ref)})`
  const count = `${result.errors.length} ${result.errors.length === 1 ? 'error' : 'errors'}`
  return new InputError(
    `${what} is invalid (${count}); run "flotilla validate${options.rev ? ` --rev ${options.rev}` : ''}" for details`,
    result.errors,
  )
}
