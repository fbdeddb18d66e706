import { type ExampleOptions, generateExampleFleet } from './generate-example.ts'
import { type WrittenRepository, writeRepository } from './write-repository.ts'

/** The example's commit date: fixed, so that the same options give the same commit id everywhere. */
const EXAMPLE_DATE = '2025-01-01T00:00:00Z'

/**
 * Generates the example fleet ({@link generateExampleFleet}) into `dir` as a new git repository
 * with one commit, "Example fleet (seed S)", on branch `main`. `dir` is created when missing.
 *
 * @throws {ConflictError} when `dir` exists and is not an empty directory: nothing is overwritten
 * @throws {InputError} for options out of range, before anything is written
 * @example
 * const { commit, tree } = await writeExampleFleet('example-fleet', { seed: 7 })
 */
export async function writeExampleFleet(
  dir: string,
  options: ExampleOptions = {},
): Promise<WrittenRepository> {
  const files = generateExampleFleet(options)
  return writeRepository(dir, files, {
    message: `Example fleet (seed ${String(options.seed ?? 1)})`,
    date: EXAMPLE_DATE,
  })
}
