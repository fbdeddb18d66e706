// Runs dependency-cruiser over src/ with the rules of .dependency-cruiser.cjs: shared by
// test/layering.test.ts (which fails on an error) and `npm run layering` (which prints).
import { fileURLToPath } from 'node:url'
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser'
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** What the import graph says about the rules. */
export interface LayeringReport {
  /** Modules of src/ that were cruised (tests left out). */
  readonly modules: readonly string[]
  readonly errors: readonly IViolation[]
  readonly warnings: readonly IViolation[]
  /** Rule name → its comment, for messages. */
  readonly comments: ReadonlyMap<string, string>
}

/**
 * Cruises `src/` (from `baseDir`, the repository by default) with the repository's rules. Type-only
 * imports count (the configuration sets `tsPreCompilationDeps`).
 */
export async function checkLayering(baseDir = ROOT): Promise<LayeringReport> {
  const options = await extractDepcruiseOptions(`${ROOT}.dependency-cruiser.cjs`)
  const reported = await cruise(['src'], { ...options, baseDir })
  if (typeof reported.output === 'string') throw new Error('dependency-cruiser returned text, not a result')
  const result: ICruiseResult = reported.output
  const violations = result.summary.violations
  const comments = new Map<string, string>()
  for (const rule of options.ruleSet?.forbidden ?? []) {
    if (rule.name && rule.comment) comments.set(rule.name, rule.comment)
  }
  return {
    modules: result.modules.map((m) => m.source).filter((source) => source.startsWith('src/')),
    errors: violations.filter((v) => v.rule.severity === 'error'),
    warnings: violations.filter((v) => v.rule.severity === 'warn'),
    comments,
  }
}

/**
 * Violations grouped by rule, one line each: `from → to`, and the way round for a cycle.
 * @example
 * core-imports-only-core — core/ imports nothing of Flotilla outside core/ …
 *   src/core/yaml/emit.ts → src/source/git.ts
 */
export function formatViolations(
  violations: readonly IViolation[],
  comments: ReadonlyMap<string, string>,
): string {
  const byRule = new Map<string, string[]>()
  for (const v of violations) {
    const cycle = v.cycle?.length ? `  (cycle: ${[v.from, ...v.cycle.map((c) => c.name)].join(' → ')})` : ''
    const lines = byRule.get(v.rule.name) ?? []
    lines.push(`  ${v.from} → ${v.to}${cycle}`)
    byRule.set(v.rule.name, lines)
  }
  return [...byRule]
    .map(([rule, lines]) => `${rule} — ${comments.get(rule) ?? ''}\n${lines.join('\n')}`)
    .join('\n')
}
