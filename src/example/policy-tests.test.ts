import { describe, expect, test } from 'vitest'
import { formatDiagnostic } from '../core/diagnostics.ts'
import { loadFleet } from '../core/load/load-fleet.ts'
import { memorySource } from '../core/model/source.ts'
import { readPolicyTests, policyTestFiles as testFilesOf } from '../core/policy-test/policy-test-file.ts'
import { runPolicyTest } from '../core/policy-test/policy-test-run.ts'
import { type ExampleOptions, generateExampleFleet } from './generate-example.ts'

/** Runs the example's policy tests in-process; every result as `ok name` or `FAIL name: why`. */
function runExampleTests(options: ExampleOptions) {
  const source = memorySource(generateExampleFleet(options))
  const loaded = loadFleet(source)
  if (!loaded.ok) throw new Error(loaded.errors.map(formatDiagnostic).join('\n'))
  const suite = readPolicyTests(testFilesOf(source), loaded.fleet)
  expect(suite.errors.map(formatDiagnostic)).toEqual([])
  return suite.tests.map((t) => {
    const result = runPolicyTest(t, loaded.fleet)
    return result.passed
      ? `ok ${t.name}`
      : `FAIL ${t.name}: ${JSON.stringify({ missing: result.missing, unexpected: result.unexpected, verdict: result.verdict })}`
  })
}

describe('the example fleet: policy tests', () => {
  test.each([
    { accounts: 10, clusters: 0 },
    { accounts: 20, clusters: 15, seed: 7 },
    { accounts: 57, clusters: 80, seed: 'demo' },
    { accounts: 120, clusters: 0, seed: 42 },
  ])('all pass for $accounts accounts and $clusters clusters', (options) => {
    const results = runExampleTests(options)
    expect(results.filter((r) => r.startsWith('FAIL'))).toEqual([])
    expect(results.length).toBeGreaterThanOrEqual(12)
  })

  test('a fleet of more than 100 targets also tests the many-targets-at-once warning', () => {
    const large = runExampleTests({ accounts: 57, clusters: 80, seed: 'demo' })
    expect(large).toContain('ok a change to all 137 targets at once is flagged')
    const small = runExampleTests({ accounts: 20, clusters: 15, seed: 7 })
    expect(small.some((r) => r.includes('many-targets') || r.includes('all 35 targets'))).toBe(false)
  })

  test('each policy of the example is expected to fire in some test', () => {
    const files = generateExampleFleet({ accounts: 20, clusters: 15, seed: 7 })
    const tests = [...files].filter(([p]) => p.startsWith('policies/tests/')).map(([, text]) => text)
    const policies = [...files]
      .filter(([p]) => /^policies\/[^/]+\.yaml$/.test(p))
      .flatMap(([, text]) => [...text.matchAll(/^- name: ([\w-]+)$/gm)].map((m) => m[1]!))
    expect(policies.length).toBeGreaterThanOrEqual(6)
    for (const name of policies.filter((n) => n !== 'many-targets-at-once')) {
      expect(tests.join('\n'), name).toContain(`rule: ${name},`)
    }
  })
})
