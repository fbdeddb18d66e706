/** Where something is in the fleet repository: a repository-relative file and a 1-based line and column. */
export interface Location {
  readonly file: string
  readonly line: number
  readonly col: number
}

/** How bad a problem is: errors make the repository invalid, warnings are reported and change nothing. */
export type Severity = 'error' | 'warning'

/**
 * One problem found while loading, validating or rendering a fleet repository.
 * `rule` is a stable, machine-readable name (`unknown-key`, `broken-reference`, …) for tooling and tests.
 */
export interface Diagnostic extends Location {
  readonly severity: Severity
  readonly rule: string
  readonly message: string
}

/** Formats a diagnostic the way compilers do, `file:line:col: message`, so editors and CI can link to it. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`
}

/** Orders diagnostics by file, line and column so that every run reports them in the same order. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    a.line - b.line ||
    a.col - b.col ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  )
}

/**
 * Collects problems as they are found. Validation never stops at the first problem: every
 * check reports into a sink, and the caller decides at the end whether anything may be used.
 */
export class DiagnosticSink {
  readonly errors: Diagnostic[] = []
  readonly warnings: Diagnostic[] = []

  error(at: Location, rule: string, message: string): void {
    this.errors.push({ file: at.file, line: at.line, col: at.col, severity: 'error', rule, message })
  }

  warn(at: Location, rule: string, message: string): void {
    this.warnings.push({ file: at.file, line: at.line, col: at.col, severity: 'warning', rule, message })
  }

  get hasErrors(): boolean {
    return this.errors.length > 0
  }

  /** Both lists, each sorted and free of exact repeats (the same check can reach one spot twice). */
  sorted(): { errors: Diagnostic[]; warnings: Diagnostic[] } {
    return { errors: dedupe(this.errors), warnings: dedupe(this.warnings) }
  }
}

function dedupe(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>()
  const out: Diagnostic[] = []
  for (const d of [...list].sort(compareDiagnostics)) {
    const key = `${d.file}\0${d.line}\0${d.col}\0${d.message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(d)
  }
  return out
}
