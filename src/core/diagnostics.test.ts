import { describe, expect, test } from 'vitest'
import { DiagnosticSink, formatDiagnostic } from './diagnostics.ts'

describe('diagnostics', () => {
  test('are formatted file:line:col: message, warnings marked', () => {
    const sink = new DiagnosticSink()
    sink.error({ file: 'a.yaml', line: 3, col: 7 }, 'unknown-key', 'unknown key "x"')
    sink.warn({ file: 'a.yaml', line: 1, col: 1 }, 'unused-gate', 'gate "g" is not used')
    expect(sink.errors.map(formatDiagnostic)).toEqual(['a.yaml:3:7: unknown key "x"'])
    expect(sink.warnings.map(formatDiagnostic)).toEqual(['a.yaml:1:1: warning: gate "g" is not used'])
    expect(sink.hasErrors).toBe(true)
  })

  test('sorted() orders by file, line, column and message, and drops exact repeats', () => {
    const sink = new DiagnosticSink()
    sink.error({ file: 'b.yaml', line: 1, col: 1 }, 'r', 'm')
    sink.error({ file: 'a.yaml', line: 2, col: 1 }, 'r', 'm')
    sink.error({ file: 'a.yaml', line: 1, col: 9 }, 'r', 'z')
    sink.error({ file: 'a.yaml', line: 1, col: 9 }, 'r', 'a')
    sink.error({ file: 'a.yaml', line: 2, col: 1 }, 'r', 'm')
    expect(sink.sorted().errors.map(formatDiagnostic)).toEqual([
      'a.yaml:1:9: a',
      'a.yaml:1:9: z',
      'a.yaml:2:1: m',
      'b.yaml:1:1: m',
    ])
  })
})
