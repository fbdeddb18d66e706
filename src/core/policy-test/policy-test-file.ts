import { type Diagnostic, DiagnosticSink, type Location } from '../diagnostics.ts'
import { ExpressionError } from '../expr/cel.ts'
import { classifyPath } from '../load/files.ts'
import { checkSchema } from '../load/schema-check.ts'
import type { Fleet, Target } from '../model/fleet-model.ts'
import type { Change, TargetPlan, Verdict } from '../model/plan.ts'
import {
  type ExpectedFinding,
  type PolicyTest,
  type PolicyTestChange,
  policyTestFileSchema,
} from '../model/policy-test.ts'
import type { FleetSource } from '../model/source.ts'
import { STACK_TYPE } from '../plan/diff-stacks.ts'
import { targetPlanOf } from '../plan/plan-fleet.ts'
import { protectedTypes } from '../plan/protected.ts'
import { type Approval, parseApproval } from '../policy/approvals.ts'
import { policyRegistry } from '../policy/policy-rules.ts'
import { compileLocatedExpression } from '../render/compile.ts'
import { fleetVariable, targetVariable } from '../render/contexts.ts'
import { closest, didYouMean } from '../suggest.ts'
import { type ParsedDocument, parseYamlFile, type ValuePath } from '../yaml/parse.ts'

/**
 * One policy test, read and resolved against the fleet: the changes grouped into the targets of
 * a plan (with the inventory's fields), the time, the approvals, and what the rules must find.
 */
export interface PolicyTestCase {
  /** The test file, repository-relative: `policies/tests/freeze.yaml`. */
  readonly file: string
  readonly name: string
  /** Where the test starts in its file. */
  readonly at: Location
  readonly now: Date
  /** The plan's changed targets, accounts before clusters, each by id (the order of a real plan). */
  readonly targets: readonly TargetPlan[]
  readonly approvals: readonly Approval[]
  readonly expected: readonly ExpectedFinding[]
  /** The verdict the plan must have; `undefined` when the test does not say. */
  readonly verdict: Exclude<Verdict, 'no-changes'> | undefined
}

/** The policy tests of a repository, or every problem found in its test files. */
export interface PolicyTestSuite {
  /** The test files read, in path order. */
  readonly files: readonly string[]
  readonly tests: readonly PolicyTestCase[]
  /** Problems in the test files, each with its file:line:col; the tests are not to be run when there are any. */
  readonly errors: readonly Diagnostic[]
}

/**
 * Findings that come from somewhere else than a registered rule: a policy that failed to evaluate,
 * and what the approvals given did (see `applyApprovals`).
 */
const OTHER_FINDING_RULES = [
  'policy-error',
  'stale-approval',
  'approval-mismatch',
  'approval-not-exact',
] as const

/** The `policies/tests/*.yaml` files of a source, in path order. */
export function policyTestFiles(source: FleetSource): [path: string, text: string][] {
  return [...source.files]
    .filter(([path]) => classifyPath(path).role === 'policy-test')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * Reads policy test files against a loaded fleet. Every problem is collected with its position:
 * YAML and schema errors, targets that are not in the inventory (with the closest one), a
 * `select` that selects nothing, addresses outside their target, approvals that cannot be read,
 * expected rules that do not exist (with the closest one), duplicate test names.
 */
export function readPolicyTests(files: Iterable<readonly [string, string]>, fleet: Fleet): PolicyTestSuite {
  const sink = new DiagnosticSink()
  const read: string[] = []
  const tests: PolicyTestCase[] = []
  const context = new TestContext(fleet)
  for (const [file, text] of files) {
    read.push(file)
    const errorsBefore = sink.errors.length
    const parsed = parseYamlFile(file, text, sink)
    if (!parsed) continue
    const [doc, extra] = parsed.documents
    if (!doc) {
      sink.error({ file, line: 1, col: 1 }, 'empty-file', `${file} is empty; write at least one test`)
      continue
    }
    if (extra) {
      sink.error(
        extra.locate([]),
        'multiple-documents',
        `${file} must hold one YAML document; remove the extra "---"`,
      )
      continue
    }
    const entries = checkSchema(policyTestFileSchema, doc, sink)
    if (!entries) continue
    const fileTests: PolicyTestCase[] = []
    const names = new Map<string, Location>()
    entries.forEach((entry, t) => {
      const first = names.get(entry.name)
      if (first) {
        sink.error(
          doc.locate([t, 'name']),
          'duplicate-id',
          `duplicate test name "${entry.name}" (first at ${first.file}:${first.line}:${first.col})`,
        )
        return
      }
      names.set(entry.name, doc.locate([t, 'name']))
      const test = context.resolve(entry, doc, t, sink)
      if (test) fileTests.push(test)
    })
    // A file with any problem is not run at all: never half of a file's tests.
    if (sink.errors.length === errorsBefore) tests.push(...fileTests)
  }
  return { files: read, tests, errors: sink.sorted().errors }
}

/** What resolving a test needs from the fleet, computed once for all tests. */
class TestContext {
  private readonly fleet: Fleet
  private readonly isProtected: (type: string) => boolean
  private readonly ruleIds: readonly string[]
  private readonly fleetVar: unknown

  constructor(fleet: Fleet) {
    this.fleet = fleet
    this.isProtected = protectedTypes(fleet.settings.protect)
    this.ruleIds = [...policyRegistry(fleet).rules.map((r) => r.id), ...OTHER_FINDING_RULES]
    this.fleetVar = fleetVariable(fleet.settings)
  }

  resolve(
    entry: PolicyTest,
    doc: ParsedDocument,
    t: number,
    sink: DiagnosticSink,
  ): PolicyTestCase | undefined {
    const errorsBefore = sink.errors.length
    const byTarget = new Map<string, { target: Target; changes: Change[] }>()
    const addresses = new Map<string, Location>()
    entry.changes.forEach((change, i) => {
      const path: ValuePath = [t, 'changes', i]
      for (const target of this.targetsOf(change, doc, path, sink)) {
        const address = change.address ?? defaultAddress(target, change.type)
        const at = doc.locate(change.address === undefined ? path : [...path, 'address'])
        if (!address.startsWith(`${target.id}/`)) {
          sink.error(
            at,
            'invalid-value',
            `address "${address}" is not in target ${target.id} (${target.name}): the addresses of its changes start with "${target.id}/"`,
          )
          continue
        }
        const first = addresses.get(address)
        if (first) {
          sink.error(
            at,
            'duplicate-id',
            `address "${address}" is changed twice in this test (first at ${first.file}:${first.line}:${first.col}); give each change its own "address"`,
          )
          continue
        }
        addresses.set(address, at)
        const entry = byTarget.get(target.id) ?? { target, changes: [] }
        entry.changes.push(this.changeOf(change, address))
        byTarget.set(target.id, entry)
      }
    })
    const approvals = this.approvalsOf(entry, doc, t, sink)
    entry.expect.forEach((expected, e) => {
      this.checkExpected(expected, doc, [t, 'expect', e], sink)
    })
    if (sink.errors.length > errorsBefore) return undefined
    return {
      file: doc.file,
      name: entry.name,
      at: doc.locate([t]),
      now: new Date(entry.now),
      targets: [...byTarget.values()]
        .sort((a, b) => byTargetOrder(a.target, b.target))
        .map(({ target, changes }) => this.targetPlan(target, changes)),
      approvals,
      expected: entry.expect,
      verdict: entry.verdict,
    }
  }

  /** The target a change names, or every target its `select` selects. */
  private targetsOf(
    change: PolicyTestChange,
    doc: ParsedDocument,
    path: ValuePath,
    sink: DiagnosticSink,
  ): readonly Target[] {
    if (change.target !== undefined && change.select !== undefined) {
      sink.error(
        doc.locateKey([...path, 'select']),
        'invalid-value',
        'give "target" or "select", not both: "target" names one target, "select" picks several',
      )
      return []
    }
    if (change.target !== undefined) {
      const wanted = change.target
      const found =
        this.fleet.targets.find((x) => x.id === wanted) ?? this.fleet.targets.find((x) => x.name === wanted)
      if (found) return [found]
      const near = closest(
        wanted,
        this.fleet.targets.flatMap((x) => [x.id, x.name]),
      )
      sink.error(
        doc.locate([...path, 'target']),
        'broken-reference',
        `no target "${wanted}" in the fleet${near ? `; did you mean "${near}"?` : ''} (give an account id or name, or a cluster id or alias)`,
      )
      return []
    }
    if (change.select === undefined) {
      sink.error(
        doc.locate(path),
        'missing-key',
        'missing required key "target" (the target of the change) or "select" (CEL picking the targets)',
      )
      return []
    }
    if (change.address !== undefined) {
      sink.error(
        doc.locateKey([...path, 'address']),
        'invalid-value',
        'a change with "select" takes no "address": each selected target gets "<target id>/policy-test/<last part of type>"; to give an address, name one target with "target"',
      )
      return []
    }
    const compiled = compileLocatedExpression(change.select, doc, [...path, 'select'], 'stage-select', sink)
    if (!compiled) return []
    const selected: Target[] = []
    for (const target of this.fleet.targets) {
      let result: unknown
      try {
        result = compiled.expression.evaluate({ target: targetVariable(target), fleet: this.fleetVar })
      } catch (error) {
        const message = error instanceof ExpressionError ? error.message : String(error)
        sink.error(compiled.at, 'expression', `${message} (for target ${target.id})`)
        return []
      }
      if (result === true) selected.push(target)
      else if (result !== false) {
        sink.error(compiled.at, 'expression', `this expression must be true or false, not ${String(result)}`)
        return []
      }
    }
    if (selected.length === 0) {
      sink.error(compiled.at, 'invalid-value', `"${change.select}" selects no target of the fleet`)
    }
    return selected
  }

  private changeOf(change: PolicyTestChange, address: string): Change {
    return {
      address,
      action: change.action,
      type: change.type,
      // As a plan marks them: a stack entry is never protected itself (its resources are, one by
      // one), although a nested stack resource of the same type is.
      protected: change.protected ?? (change.type !== STACK_TYPE && this.isProtected(change.type)),
      ...(change.mayReplace ? { mayReplace: true } : {}),
      properties: change.properties.map((p) => ({
        path: p.path,
        before: p.before ?? null,
        after: p.after ?? null,
        forcesReplacement: p.forcesReplacement,
      })),
    }
  }

  private targetPlan(target: Target, changes: readonly Change[]): TargetPlan {
    return targetPlanOf(target, this.fleet.stageOf.get(target.id) ?? null, changes)
  }

  private approvalsOf(entry: PolicyTest, doc: ParsedDocument, t: number, sink: DiagnosticSink): Approval[] {
    const approvals: Approval[] = []
    ;(entry.approvals ?? []).forEach((approval, a) => {
      try {
        if (typeof approval === 'string') approvals.push(parseApproval(approval))
        else if ('address' in approval) approvals.push(parseApproval(approval.address))
        else
          approvals.push({ kind: 'pattern', glob: approval.pattern, expectedCount: approval.expectedCount })
      } catch (error) {
        sink.error(doc.locate([t, 'approvals', a]), 'invalid-value', (error as Error).message)
      }
    })
    return approvals
  }

  private checkExpected(
    expected: ExpectedFinding,
    doc: ParsedDocument,
    path: ValuePath,
    sink: DiagnosticSink,
  ) {
    if (!this.ruleIds.includes(expected.rule)) {
      sink.error(
        doc.locate([...path, 'rule']),
        'broken-reference',
        `no rule "${expected.rule}"${didYouMean(expected.rule, this.ruleIds)} (the rules are the policies of policies/*.yaml, the built-in safety rules, ${OTHER_FINDING_RULES.join(', ')})`,
      )
    }
    if (expected.addresses !== undefined && expected.count !== undefined) {
      sink.error(
        doc.locateKey([...path, 'count']),
        'invalid-value',
        'give "addresses" or "count", not both ("addresses" already says how many)',
      )
    }
  }
}

/** `<target id>/policy-test/<Name>`: the address of a change written without one. */
function defaultAddress(target: Target, type: string): string {
  return `${target.id}/policy-test/${type.split(/::|\//).at(-1)}`
}

/** Accounts before clusters, each by id: the order of a plan's targets. */
function byTargetOrder(a: Target, b: Target): number {
  if (a.kind !== b.kind) return a.kind === 'account' ? -1 : 1
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
