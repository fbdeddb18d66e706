import fc from 'fast-check'
import type { ExampleOptions } from '../../../src/example/generate-example.ts'
import { FleetFuzzer } from './fleet-fuzzer.ts'
import { describeMutant, FuzzTally } from './fuzz-tally.ts'
import { type KnownBug, knownBugOf } from './known-bugs.ts'
import { ALL_OPS, type Mutation, type MutationOp, mutationArbitrary } from './mutations.ts'

/** How to fuzz. */
export interface FuzzOptions {
  /** fast-check's seed: the same seed (and options) draws the same mutants. */
  readonly seed: number
  /** How many mutants at most. */
  readonly numRuns: number
  /** Stop drawing new mutants after this long (a run cut short by it passes, with what it ran). */
  readonly timeLimitMs: number
  /** fast-check's path of a failure, to replay just that mutant (and its shrinks). */
  readonly path?: string
  /** The operators to draw from. @default every operator */
  readonly ops?: readonly MutationOp[]
  /** The example fleet mutated. @default 16 accounts, 8 clusters, seed 1 */
  readonly example?: ExampleOptions
  /** Mutations per mutant, at most. @default 2 */
  readonly maxMutations?: number
  /**
   * Known bugs: their operators are not drawn and their exact internal errors are counted, not
   * failed. @default none (every internal error fails)
   */
  readonly knownBugs?: readonly KnownBug[]
  /** Called before every mutant: a watchdog in another thread knows which one hangs. */
  readonly onStart?: (mutations: readonly Mutation[]) => void
  /** Called after every mutant (progress for long runs). */
  readonly onMutant?: (tally: FuzzTally) => void
}

/** The outcome of a fuzz run: the counts, and a report of the failure when there was one. */
export interface FuzzRun {
  readonly tally: FuzzTally
  readonly failure?: string
}

/**
 * Runs the fuzz test of the fleet repository: mutants of the example drawn by fast-check,
 * each loaded and planned against the example by a {@link FleetFuzzer}; the first mutant that
 * breaks a property is shrunk to a smallest one, and reported with its seed, its path, its
 * mutations and the diff they make.
 */
export function runFuzz(options: FuzzOptions): FuzzRun {
  const fuzzer = new FleetFuzzer(options.example)
  const tally = new FuzzTally()
  const knownBugs = options.knownBugs ?? []
  // Crashes would end most mutants of their operator; property problems are told apart by their words.
  const skipped = new Set(knownBugs.filter((bug) => bug.matches).map((bug) => bug.op))
  const ops = new Set((options.ops ?? ALL_OPS).filter((op) => !skipped.has(op)))
  const mutants = fc.array(mutationArbitrary(fuzzer.files, ops), {
    minLength: 1,
    maxLength: options.maxMutations ?? 2,
  })
  const property = fc.property(mutants, (mutations: Mutation[]) => {
    options.onStart?.(mutations)
    const result = fuzzer.run(mutations)
    const known = knownBugOf(result.outcome, result.problems, knownBugs)
    tally.add(result, known)
    options.onMutant?.(tally)
    if (result.problems.length > 0 && !known) throw new Error(result.problems.join('\n'))
  })
  const details = fc.check(property, {
    seed: options.seed,
    numRuns: options.numRuns,
    ...(options.path === undefined ? {} : { path: options.path }),
    plugins: [fc.interruptAfterTimeLimit(options.timeLimitMs)],
  })
  if (!details.failed) return { tally }
  const counterexample = (details.counterexample as [Mutation[]] | null)?.[0]
  const replay = `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexample ? details.counterexamplePath : ''}`
  const failure = [
    `the fuzz test failed (seed ${details.seed}, path "${details.counterexamplePath ?? ''}"; replay with ${replay}, or npm run fuzz -- --seed ${details.seed} --path "${details.counterexamplePath ?? ''}")`,
    counterexample ? describeMutant(fuzzer.files, counterexample) : '(no counterexample)',
    `what broke: ${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`,
    tally.summary(),
  ].join('\n')
  return { tally, failure }
}
