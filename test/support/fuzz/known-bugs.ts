import type { MutantOutcome } from './fleet-fuzzer.ts'
import type { MutationOp } from './mutations.ts'

/**
 * A bug the fuzz test finds that is known and being fixed elsewhere: the operator that makes it
 * and the signature of what it does — an internal error, or the words of a property problem.
 * An operator whose bug is an internal error is left out of the drawn mutants; a mutant of any
 * operator that meets a known bug exactly is counted, not failed, and any other problem still
 * fails. `FUZZ_STRICT=1` lets none through.
 */
export interface KnownBug {
  readonly description: string
  readonly op: MutationOp
  /** The internal error it throws. */
  readonly matches?: (error: unknown) => boolean
  /** The property (b) problems it causes (see fleet-fuzzer.ts), matched by their words. */
  readonly problem?: RegExp
}

const topFrameIn = (error: Error, file: string) =>
  (error.stack ?? '')
    .split('\n')
    .find((line) => line.trimStart().startsWith('at '))
    ?.includes(file) ?? false

/** Remove an entry once its fix is merged: the suite then draws its operator again. */
export const KNOWN_BUGS: readonly KnownBug[] = [
  {
    description:
      'issue 18 item 7: a flow mapping entry without a colon (`{ a: 1, b "2" }`, `{ a,e: 1 }`) crashes src/core/yaml/parse.ts (ValueBuilder.build reads `.anchor` of a null value) instead of a located error',
    op: 'broken-flow',
    matches: (error) =>
      error instanceof TypeError &&
      /reading 'anchor'/.test(error.message) &&
      topFrameIn(error, 'src/core/yaml/parse.ts'),
  },
  {
    description:
      "issue 18 item 7: an alias inside the node its anchor names (`a: &x { b: *x }`) overflows the stack in src/core/yaml/parse.ts (Alias.resolve, the yaml library's visit) instead of a located error",
    op: 'anchor-alias',
    matches: (error) =>
      error instanceof RangeError &&
      /Maximum call stack/.test(error.message) &&
      /node_modules\/yaml\/|src\/core\/yaml\//.test(error.stack ?? ''),
  },
]

/**
 * The known bug a mutant's result is, if it is one: its internal error is a known bug's, or every
 * problem it has is a known bug's.
 */
export function knownBugOf(
  outcome: MutantOutcome,
  problems: readonly string[],
  bugs: readonly KnownBug[],
): KnownBug | undefined {
  if (outcome.kind === 'internal-error') return bugs.find((bug) => bug.matches?.(outcome.error))
  if (problems.length === 0) return undefined
  const bugOf = (problem: string) => bugs.find((bug) => bug.problem?.test(problem))
  return problems.every((p) => bugOf(p) !== undefined) ? bugOf(problems[0]!) : undefined
}
