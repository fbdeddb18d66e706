import { InputError } from '../../core/errors.ts'
import { loadFleet } from '../../core/load/load-fleet.ts'
import type { Finding } from '../../core/model/plan.ts'
import type { ExpectedFinding } from '../../core/model/policy-test.ts'
import { describeSource } from '../../core/model/source.ts'
import { policyRegistry } from '../../core/policy/policy-rules.ts'
import { policyTestFiles, readPolicyTests } from '../../core/policy-test/policy-test-file.ts'
import { type PolicyTestResult, runPolicyTest } from '../../core/policy-test/policy-test-run.ts'
import type { PolicyTestOptions } from '../declarations.ts'
import type { CliIo } from '../io.ts'
import { readSource } from '../repository.ts'

/**
 * `flotilla policy test`: runs the policy tests of `policies/tests/*.yaml` against the
 * repository's policies and built-in safety rules, and prints `ok` or `FAIL` per test (with the
 * expected and actual findings of each failure) and `N passed, M failed`. Exit 0 when every test
 * passes (or there is none), 1 when any fails or the repository or a test file is invalid.
 */
export async function policyTestCommand(options: PolicyTestOptions, io: CliIo): Promise<number> {
  try {
    return await testAndPrint(options, io)
  } catch (error) {
    // A pipeline reading JSON gets a document saying why nothing ran, not only stderr.
    if (options.format !== 'json' || !(error instanceof InputError) || error.diagnostics.length === 0)
      throw error
    io.stdout(`${JSON.stringify({ tests: [], passed: 0, failed: 0, errors: error.diagnostics }, null, 2)}\n`)
    throw error
  }
}

async function testAndPrint(options: PolicyTestOptions, io: CliIo): Promise<number> {
  const source = await readSource(options, io.cwd)
  const loaded = loadFleet(source)
  if (!loaded.ok) {
    const count = `${loaded.errors.length} ${loaded.errors.length === 1 ? 'error' : 'errors'}`
    throw new InputError(
      `the fleet repository (${describeSource(source.ref)}) is invalid (${count}); run "flotilla validate${options.rev ? ` --rev ${options.rev}` : ''}" for details`,
      loaded.errors,
    )
  }
  const { fleet } = loaded
  const suite = readPolicyTests(policyTestFiles(source), fleet)
  if (suite.errors.length > 0) {
    const files = new Set(suite.errors.map((d) => d.file)).size
    throw new InputError(
      `${files} policy test ${files === 1 ? 'file is' : 'files are'} invalid (${suite.errors.length} ${suite.errors.length === 1 ? 'error' : 'errors'}); no test was run`,
      suite.errors,
    )
  }
  const rules = policyRegistry(fleet)
  const results = suite.tests.map((test) => runPolicyTest(test, fleet, rules))
  const failed = results.filter((r) => !r.passed).length
  const passed = results.length - failed
  if (options.format === 'json') {
    io.stdout(`${JSON.stringify({ tests: results.map(resultJson), passed, failed }, null, 2)}\n`)
    return failed > 0 ? 1 : 0
  }
  if (results.length === 0) {
    io.stdout('no policy tests: write them in policies/tests/*.yaml\n')
    return 0
  }
  for (const result of results) io.stdout(resultText(result))
  io.stdout(`${passed} passed, ${failed} failed\n`)
  return failed > 0 ? 1 : 0
}

function resultJson(result: PolicyTestResult) {
  const { test } = result
  return {
    file: test.file,
    line: test.at.line,
    name: test.name,
    passed: result.passed,
    expected: test.expected,
    actual: result.actual.map((f) => ({
      rule: f.rule,
      effect: f.effect,
      addresses: f.addresses,
      message: f.message,
    })),
    ...(test.verdict === undefined ? {} : { expectedVerdict: test.verdict }),
    verdict: result.verdict,
  }
}

/** `ok   file: name`, or `FAIL file: name` followed by the expected and actual findings. */
function resultText(result: PolicyTestResult): string {
  const { test } = result
  if (result.passed) return `ok   ${test.file}: ${test.name}\n`
  const lines = [`FAIL ${test.file}: ${test.name}`, '  expected:']
  if (test.expected.length === 0) lines.push('    no findings')
  for (const expected of test.expected) {
    lines.push(`    ${describeExpected(expected)}${result.missing.includes(expected) ? '   (missing)' : ''}`)
  }
  lines.push('  actual:')
  if (result.actual.length === 0) lines.push('    no findings')
  for (const finding of result.actual) {
    lines.push(
      `    ${describeActual(finding)}${result.unexpected.includes(finding) ? '   (unexpected)' : ''}`,
    )
    lines.push(`      ${finding.message}`)
  }
  if (test.verdict !== undefined && test.verdict !== result.verdict) {
    lines.push(`  verdict: expected ${test.verdict}, got ${result.verdict}`)
  }
  return `${lines.join('\n')}\n`
}

function describeExpected(expected: ExpectedFinding): string {
  const head = `${expected.rule} ${expected.effect}`
  if (expected.addresses !== undefined) return `${head} ${listAddresses(expected.addresses)}`
  if (expected.count !== undefined) return `${head} on ${plural(expected.count, 'address', 'addresses')}`
  return head
}

function describeActual(finding: Finding): string {
  const head = `${finding.rule} ${finding.effect}`
  return finding.addresses.length === 0 ? head : `${head} ${listAddresses(finding.addresses)}`
}

/** `on a, b` — or, for many, `on 120 addresses: a, b, c, …`. */
function listAddresses(addresses: readonly string[]): string {
  if (addresses.length === 0) return 'on no address'
  if (addresses.length <= 3) return `on ${addresses.join(', ')}`
  return `on ${addresses.length} addresses: ${addresses.slice(0, 3).join(', ')}, …`
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`
}
