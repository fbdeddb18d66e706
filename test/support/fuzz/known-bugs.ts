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

/** Remove an entry once its fix is merged: the suite then draws its operator again. */
export const KNOWN_BUGS: readonly KnownBug[] = [
  // None today: the YAML crashes the fuzz test found (a flow mapping entry without a colon, an
  // alias inside its own anchor) are located errors since issue 18's parts 6 and 7 landed.
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
