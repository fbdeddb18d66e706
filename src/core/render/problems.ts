import type { DiagnosticSink, Location } from '../diagnostics.ts'
import type { LocatedExpression } from '../model/fleet-model.ts'
import { RenderError } from './evaluate.ts'

/**
 * Collects rendering failures by position, counting the targets each one hit: the same typo in
 * 300 accounts is one problem, reported once with the number of targets and a few of their ids.
 */
export class RenderProblems {
  // Targets as a set: a regional stack fails once per region of the same account, which is one target.
  private readonly byPlace = new Map<
    string,
    { at: Location; message: string; targets: Set<string>; severity: 'error' | 'warning'; rule: string }
  >()

  /** How many problems were added so far (counting repeats): tells whether a render was clean. */
  count = 0

  add(error: unknown, targetId: string, rule = 'render'): void {
    if (!(error instanceof RenderError)) throw error
    this.count++
    this.record(error, targetId, 'error', rule)
  }

  /** A problem that does not make the repository invalid (it does not count: a render with warnings is clean). */
  warn(error: RenderError, targetId: string, rule = 'render'): void {
    this.record(error, targetId, 'warning', rule)
  }

  private record(error: RenderError, targetId: string, severity: 'error' | 'warning', rule: string): void {
    const key = `${severity}:${error.at.file}:${error.at.line}:${error.at.col}:${error.message}`
    const entry = this.byPlace.get(key) ?? {
      at: error.at,
      message: error.message,
      targets: new Set(),
      severity,
      rule,
    }
    entry.targets.add(targetId)
    this.byPlace.set(key, entry)
  }

  /** Evaluates a selector; a failure or a non-boolean result counts as a problem and selects nothing. */
  selects(
    selector: LocatedExpression | undefined,
    context: Record<string, unknown>,
    targetId: string,
  ): boolean {
    if (!selector) return true
    let value: unknown
    try {
      value = selector.expression.evaluate(context)
    } catch (error) {
      this.add(new RenderError((error as Error).message, selector.at, { cause: error }), targetId)
      return false
    }
    if (typeof value === 'boolean') return value
    this.add(
      new RenderError(
        // The kind of value, not the value: one message per selector, however many targets it fails for.
        `the selector must be true or false, but it gave ${kindOfValue(value)}`,
        selector.at,
      ),
      targetId,
    )
    return false
  }

  report(sink: DiagnosticSink): void {
    for (const { at, message, targets: set, severity, rule } of this.byPlace.values()) {
      const targets = [...set]
      const shown = targets.slice(0, 3).join(', ')
      const more = targets.length > 3 ? `, … ${targets.length - 3} more` : ''
      sink[severity === 'error' ? 'error' : 'warn'](
        at,
        rule,
        `${message} (for ${targets.length === 1 ? 'target' : `${targets.length} targets:`} ${shown}${more})`,
      )
    }
  }
}

function kindOfValue(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'string') return 'a string'
  if (typeof value === 'number' || typeof value === 'bigint') return 'a number'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'object' ? 'a map' : `a ${typeof value}`
}
