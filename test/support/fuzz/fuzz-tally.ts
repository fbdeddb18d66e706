import { createPatch } from 'diff'
import type { MutantResult } from './fleet-fuzzer.ts'
import type { KnownBug } from './known-bugs.ts'
import { applyMutations, type Mutation } from './mutations.ts'

/** Counts of a fuzz run: what became of the mutants, and how fast they went. */
export class FuzzTally {
  mutants = 0
  unchanged = 0
  valid = 0
  invalid = 0
  planInvalid = 0
  rejected = 0
  internalErrors = 0
  /** Mutants that broke a property, known bugs left out. */
  failing = 0
  readonly verdicts: Record<string, number> = {}
  totalMs = 0
  slowestMs = 0
  private readonly started = performance.now()
  private readonly cpuAtStart = process.cpuUsage()

  /** Internal errors that are known bugs, by bug. */
  readonly known = new Map<string, number>()

  add(result: MutantResult, known?: KnownBug): void {
    this.mutants++
    if (known) this.known.set(known.description, (this.known.get(known.description) ?? 0) + 1)
    this.totalMs += result.ms
    this.slowestMs = Math.max(this.slowestMs, result.ms)
    if (result.problems.length > 0 && !known) this.failing++
    const { outcome } = result
    switch (outcome.kind) {
      case 'unchanged':
        this.unchanged++
        break
      case 'invalid':
        this.invalid++
        break
      case 'plan-invalid':
        this.planInvalid++
        break
      case 'rejected':
        this.rejected++
        break
      case 'internal-error':
        this.internalErrors++
        break
      case 'planned':
        this.valid++
        this.verdicts[outcome.plan.verdict] = (this.verdicts[outcome.plan.verdict] ?? 0) + 1
        break
    }
  }

  /** Mutants per second of wall time since the tally was made. */
  get perSecond(): number {
    return this.mutants / ((performance.now() - this.started) / 1000)
  }

  /**
   * Mutants per second of this process's CPU time: what an idle machine gives in wall time, on
   * a machine that other work keeps busy.
   */
  get perCpuSecond(): number {
    const { user, system } = process.cpuUsage(this.cpuAtStart)
    return this.mutants / ((user + system) / 1e6)
  }

  /** One paragraph for a log. */
  summary(): string {
    const verdicts = Object.entries(this.verdicts)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([v, n]) => `${v} ${n}`)
      .join(', ')
    return [
      `${this.mutants} mutants in ${((performance.now() - this.started) / 1000).toFixed(1)} s (${this.perSecond.toFixed(1)}/s, ${this.perCpuSecond.toFixed(1)} per CPU second; slowest ${Math.round(this.slowestMs)} ms)`,
      `  valid fleets ${this.valid} (plans: ${verdicts || 'none'})`,
      `  invalid with located errors ${this.invalid}, plans invalid with located errors ${this.planInvalid}, project errors thrown ${this.rejected}, unchanged ${this.unchanged}`,
      `  internal errors ${this.internalErrors}; mutants that met a known bug ${[...this.known.values()].reduce((a, b) => a + b, 0)}; mutants breaking a property otherwise ${this.failing}`,
      ...[...this.known].map(([bug, n]) => `  known bug met ${n} times: ${bug}`),
    ].join('\n')
  }
}

/** The mutations as the files they changed, as a unified diff with a line of context: for failure reports. */
export function describeMutant(files: ReadonlyMap<string, string>, mutations: readonly Mutation[]): string {
  const head = applyMutations(files, mutations)
  const parts = [`mutations: ${JSON.stringify(mutations)}`]
  for (const path of new Set([...files.keys(), ...head.keys()])) {
    const before = files.get(path)
    const after = head.get(path)
    if (before === after) continue
    if (after === undefined) {
      parts.push(`deleted ${path}`)
      continue
    }
    const patch = createPatch(path, before ?? '', after, '', '', { context: 1 })
    // Long lines (deep nesting, long scalars) would drown the report.
    parts.push(
      patch
        .split('\n')
        .slice(2)
        .map((l) => (l.length > 300 ? `${l.slice(0, 300)}… (${l.length} characters)` : l))
        .join('\n'),
    )
  }
  return parts.join('\n')
}
