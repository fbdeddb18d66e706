import { basename, resolve } from 'node:path'
import { InputError } from '../../core/errors.ts'
import { skeletonFleet } from '../../example/skeleton.ts'
import { writeExampleFleet } from '../../example/write-example.ts'
import { writeRepository } from '../../example/write-repository.ts'
import type { InitOptions } from '../declarations.ts'
import type { CliIo } from '../io.ts'

/**
 * `flotilla init DIR [--example]`: creates a fleet repository (git init + first commit). The
 * example is deterministic: the same seed and sizes give the same commit tree.
 */
export async function initCommand(given: string, options: InitOptions, io: CliIo): Promise<number> {
  const dir = resolve(io.cwd, given)
  const name =
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'fleet'
  if (
    !options.example &&
    (options.accounts !== undefined || options.clusters !== undefined || options.seed !== undefined)
  ) {
    throw new InputError('--accounts, --clusters and --seed only apply with --example')
  }
  const accounts = options.accounts ?? 300
  const clusters = options.clusters ?? 250
  const seed = options.seed ?? '1'
  const written = options.example
    ? await writeExampleFleet(dir, { accounts, clusters, seed })
    : await writeRepository(dir, skeletonFleet(name), { message: 'New fleet repository' })
  if (options.format === 'json') {
    io.stdout(`${JSON.stringify({ dir, ...written })}\n`)
  } else {
    io.stdout(
      `Created ${options.example ? `an example fleet (${accounts} accounts, ${clusters} clusters, seed ${seed})` : 'a fleet repository'} in ${dir}: ${written.files} files, commit ${written.commit.slice(0, 7)}.\nNext: flotilla validate --repo ${given}\n`,
    )
  }
  return 0
}
