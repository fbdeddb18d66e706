import type { MutantOutcome } from './fleet-fuzzer.ts'
import type { MutationOp } from './mutations.ts'

/**
 * A bug the fuzz test finds that is known and being fixed elsewhere: the operator that makes it
 * (left out of the drawn mutants) and the signature of its internal error (which other operators
 * can hit by chance, and which is then counted, not failed). Only that exact error is let
 * through; any other internal error still fails. `FUZZ_STRICT=1` lets none through.
 */
export interface KnownBug {
  readonly description: string
  readonly op: MutationOp
  /** The internal error it throws; absent for a bug that breaks property (b), which only leaving out the operator hides. */
  readonly matches?: (error: unknown) => boolean
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
  {
    description:
      'issue 18 item 1: CloudFormation Conditions are not evaluated: a Condition that is false for a target (here added to a protected resource) deletes the resource, and the plan shows a harmless update, allowed',
    op: 'add-condition',
  },
]

/** The known bug an outcome is, if it is one. */
export function knownBugOf(outcome: MutantOutcome, bugs: readonly KnownBug[]): KnownBug | undefined {
  if (outcome.kind !== 'internal-error') return undefined
  return bugs.find((bug) => bug.matches?.(outcome.error))
}
