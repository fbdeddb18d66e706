import { type Diagnostic, formatDiagnostic } from '../../../src/core/diagnostics.ts'
import { FlotillaError } from '../../../src/core/errors.ts'
import { type CachedParse, LoadCache } from '../../../src/core/load/load-cache.ts'
import { loadFleet } from '../../../src/core/load/load-fleet.ts'
import type { RenderedStack } from '../../../src/core/model/desired-state.ts'
import type { Fleet } from '../../../src/core/model/fleet-model.ts'
import type { Change, Plan, Verdict } from '../../../src/core/model/plan.ts'
import { memorySource } from '../../../src/core/model/source.ts'
import { strictestSettings } from '../../../src/core/plan/plan-fleet.ts'
import { planRevisions } from '../../../src/core/plan/plan-revisions.ts'
import { protectedTypes } from '../../../src/core/plan/protected.ts'
import { renderPlanMarkdown } from '../../../src/core/plan/render-markdown.ts'
import { renderPlanText } from '../../../src/core/plan/render-text.ts'
import { toLongForm } from '../../../src/core/yaml/cfn-tags.ts'
import { type ExampleOptions, generateExampleFleet } from '../../../src/example/generate-example.ts'
import { applyMutations, type Mutation } from './mutations.ts'

/** The time every plan is made at: a Tuesday outside the example's freeze windows. */
const NOW = new Date('2026-11-10T10:00:00Z')

/** What became of one mutant. */
export type MutantOutcome =
  /** The mutations changed no file. */
  | { readonly kind: 'unchanged' }
  /** The head does not load: every error located. */
  | { readonly kind: 'invalid'; readonly errors: readonly Diagnostic[] }
  /** The head loads, but the plan cannot be made (a target left the inventory): located errors. */
  | { readonly kind: 'plan-invalid'; readonly errors: readonly Diagnostic[] }
  /** A project error was thrown (an {@link FlotillaError}): a user error, not a crash. */
  | { readonly kind: 'rejected'; readonly error: FlotillaError }
  /** The head loads and the plan was made. */
  | { readonly kind: 'planned'; readonly plan: Plan; readonly vanished: readonly Vanished[] }
  /** Anything else that was thrown: a bug. */
  | { readonly kind: 'internal-error'; readonly error: unknown }

/** A mutant's outcome, how long it took, and every way it breaks the fuzz test's properties. */
export interface MutantResult {
  readonly outcome: MutantOutcome
  readonly ms: number
  /** Empty when the mutant is fine. */
  readonly problems: readonly string[]
}

/**
 * Loads an example fleet once and then loads and plans mutants of it in process, the way
 * `flotilla plan --base main --head <mutant>` would (the same load, {@link planRevisions} and
 * plan renderings), checking each outcome:
 *
 * (a) a valid fleet, or errors that each name a file, line and column — never another exception;
 * (b) no plan that deletes or replaces a protected resource (or may replace one) is `allowed`,
 *     and no protected resource of the base that is gone from the head's rendered state (or
 *     changed its type, or is under a condition now false) goes unreported: the plan lists it as
 *     a delete, a replacement or a move, and needs an approval.
 *
 * Fast on purpose: the base's parsed files are kept for every mutant, so a mutant costs the
 * parsing of the files it changed, the renders they feed and the plan.
 */
export class FleetFuzzer {
  readonly files: ReadonlyMap<string, string>
  private cache!: BaseKeepingCache
  private baseFleet!: Fleet
  private loads = 0

  /** How long one mutant may take before it counts as a near-hang. */
  readonly slowMs: number

  constructor(example: ExampleOptions = { accounts: 16, clusters: 8, seed: 1 }, slowMs = 10_000) {
    this.files = generateExampleFleet(example)
    this.slowMs = slowMs
    this.loadBase()
  }

  /** The unmutated example, loaded. */
  get base(): Fleet {
    return this.baseFleet
  }

  /** Loads and plans the example with these mutations applied; never throws. */
  run(mutations: readonly Mutation[]): MutantResult {
    // Render results of clusters are kept by component set for the life of a cache: start afresh
    // now and then so that a long run's memory stays flat.
    if (++this.loads % 2000 === 0) this.loadBase()
    const head = applyMutations(this.files, mutations)
    const start = performance.now()
    const outcome = this.outcomeOf(head)
    const ms = performance.now() - start
    const problems = problemsOf(outcome, this.files, head)
    if (ms > this.slowMs) problems.push(`took ${Math.round(ms)} ms (limit ${this.slowMs} ms): a near-hang`)
    return { outcome, ms, problems }
  }

  private outcomeOf(head: ReadonlyMap<string, string>): MutantOutcome {
    if ([...head].every(([p, t]) => this.files.get(p) === t) && head.size === this.files.size)
      return { kind: 'unchanged' }
    try {
      const loaded = loadFleet(memorySource(head, '(mutant)'), { cache: this.cache })
      if (!loaded.ok) return { kind: 'invalid', errors: [...loaded.errors, ...loaded.warnings] }
      const outcome = planRevisions(this.baseFleet, loaded.fleet, { now: NOW })
      if (!outcome.ok) return { kind: 'plan-invalid', errors: outcome.errors }
      // What the CLI prints: a crash here is as much a crash as one in the load.
      renderPlanText(outcome.plan, { color: false })
      renderPlanMarkdown(outcome.plan)
      JSON.stringify(outcome.plan)
      const isProtected = protectedTypes(
        strictestSettings(this.baseFleet.settings, loaded.fleet.settings).protect,
      )
      return {
        kind: 'planned',
        plan: outcome.plan,
        vanished: vanishedProtected(this.baseFleet, loaded.fleet, isProtected),
      }
    } catch (error) {
      if (error instanceof FlotillaError) return { kind: 'rejected', error }
      return { kind: 'internal-error', error }
    }
  }

  private loadBase(): void {
    this.cache = new BaseKeepingCache()
    const loaded = loadFleet(memorySource(this.files, '(example)'), { cache: this.cache })
    if (!loaded.ok)
      throw new Error(`the example fleet does not load:\n${loaded.errors.map(formatDiagnostic).join('\n')}`)
    this.baseFleet = loaded.fleet
    for (const [path, text] of this.files) this.cache.keep(path, text)
  }
}

/**
 * A load cache that keeps the base's parsed files for good, not only for the next two loads: a
 * mutant then parses only the files it changed, whatever the mutant before it changed.
 */
class BaseKeepingCache extends LoadCache {
  private readonly kept = new Map<string, CachedParse>()

  keep(path: string, text: string): void {
    const parsed = super.parsed(path, text)
    if (parsed) this.kept.set(`${path}\0${text}`, parsed)
  }

  override parsed(path: string, text: string): CachedParse | undefined {
    return super.parsed(path, text) ?? this.kept.get(`${path}\0${text}`)
  }
}

/** Every way an outcome breaks the properties (see {@link FleetFuzzer}). */
export function problemsOf(
  outcome: MutantOutcome,
  base: ReadonlyMap<string, string>,
  head: ReadonlyMap<string, string>,
): string[] {
  switch (outcome.kind) {
    case 'unchanged':
    case 'rejected':
      return []
    case 'internal-error': {
      const error = outcome.error
      return [`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`]
    }
    case 'invalid':
    case 'plan-invalid': {
      const problems = outcome.errors.flatMap((d) => unlocated(d, base, head))
      if (outcome.errors.length === 0) problems.push(`${outcome.kind} without a single error`)
      return problems
    }
    case 'planned':
      return destroysAllowed(outcome.plan, outcome.vanished)
  }
}

/** Why a diagnostic is not located: no file, no line or column, or a line past the end of its file. */
function unlocated(
  d: Diagnostic,
  base: ReadonlyMap<string, string>,
  head: ReadonlyMap<string, string>,
): string[] {
  const problems: string[] = []
  const at = `${formatDiagnostic(d)} [${d.rule}]`
  if (typeof d.file !== 'string' || d.file === '') problems.push(`diagnostic without a file: ${at}`)
  if (!Number.isInteger(d.line) || d.line < 1) problems.push(`diagnostic without a line: ${at}`)
  if (!Number.isInteger(d.col) || d.col < 1) problems.push(`diagnostic without a column: ${at}`)
  if (typeof d.message !== 'string' || d.message.trim() === '')
    problems.push(`diagnostic without a message: ${at}`)
  const lines = Math.max(
    ...[base.get(d.file), head.get(d.file)].map((t) => (t === undefined ? 0 : t.split('\n').length)),
  )
  if (lines > 0 && d.line > lines)
    problems.push(`diagnostic past the end of ${d.file} (${lines} lines): ${at}`)
  return problems
}

const DESTROYING: ReadonlySet<Change['action']> = new Set(['delete', 'replace'])

/** Whether a change destroys (or may destroy) what it changes. */
export function destroys(change: Change): boolean {
  return DESTROYING.has(change.action) || change.mayReplace === true
}

const BLOCKING: ReadonlySet<Verdict> = new Set(['requires-approval', 'denied'])

/** Why a protected thing of the base is not in the head. */
export type VanishReason = 'gone' | 'retyped' | 'condition-false'

/** A protected resource or object the base has and the head does not, and why. */
export interface Vanished {
  readonly address: string
  readonly reason: VanishReason
}

/** How each reason reads in a problem: known bugs are told apart by these words. */
const VANISH_WORDS: Readonly<Record<VanishReason, string>> = {
  gone: 'gone from the head',
  retyped: 'of another type in the head',
  'condition-false': 'under a CloudFormation Condition that is false for the target in the head',
}

function destroysAllowed(plan: Plan, vanished: readonly Vanished[]): string[] {
  const problems: string[] = []
  const changes = plan.targets.flatMap((t) => t.changes)
  const destroyed = changes.filter((c) => c.protected && destroys(c)).map((c) => `${c.action} ${c.address}`)
  if (destroyed.length > 0 && !BLOCKING.has(plan.verdict))
    problems.push(
      `verdict ${plan.verdict} for a plan that destroys protected resources: ${destroyed.slice(0, 5).join(', ')}`,
    )
  const reported = new Set(changes.filter((c) => destroys(c)).map((c) => c.address))
  const moved = new Set(changes.flatMap((c) => (c.action === 'move' && c.movedFrom ? [c.movedFrom] : [])))
  for (const reason of Object.keys(VANISH_WORDS) as VanishReason[]) {
    const these = vanished.filter((v) => v.reason === reason && !moved.has(v.address)).map((v) => v.address)
    const hidden = these.filter((a) => !reported.has(a))
    if (hidden.length > 0)
      problems.push(
        `protected resources ${VANISH_WORDS[reason]}, not deleted, replaced or moved in the plan: ${hidden.slice(0, 5).join(', ')}`,
      )
    if (these.length > 0 && !BLOCKING.has(plan.verdict))
      problems.push(
        `verdict ${plan.verdict} while protected resources are ${VANISH_WORDS[reason]}: ${these.slice(0, 5).join(', ')}`,
      )
  }
  return problems
}

/** A protected thing in a rendered fleet: its type, and whether it exists (`undefined`: its Condition cannot be told). */
interface ProtectedThing {
  readonly type: string
  readonly exists: boolean | undefined
}

/**
 * The addresses of protected resources and objects that surely exist in the base's rendered
 * state and surely not in the head's at the same address with the same type: gone, retyped, or
 * under a CloudFormation `Condition` that is false for the target. Conditions are evaluated here
 * independently of the planner, for the plain cases (`Fn::Equals` of literals, template values,
 * parameters and the account's and region's pseudo parameters, `Fn::Not`, `Fn::And`, `Fn::Or`,
 * `Condition`); a condition it cannot decide is left to the plan.
 */
export function vanishedProtected(
  base: Fleet,
  head: Fleet,
  isProtected: (type: string) => boolean,
): Vanished[] {
  const before = protectedThings(base, isProtected)
  const after = protectedThings(head, () => true)
  const out: Vanished[] = []
  for (const [address, thing] of before) {
    if (thing.exists !== true) continue
    const now = after.get(address)
    if (now === undefined) out.push({ address, reason: 'gone' })
    else if (now.type !== thing.type) out.push({ address, reason: 'retyped' })
    else if (now.exists === false) out.push({ address, reason: 'condition-false' })
  }
  return out.sort((a, b) => (a.address < b.address ? -1 : 1))
}

function protectedThings(fleet: Fleet, isProtected: (type: string) => boolean): Map<string, ProtectedThing> {
  const out = new Map<string, ProtectedThing>()
  for (const desired of fleet.desired.values()) {
    for (const stack of desired.stacks) {
      const template = toLongForm(stack.template) as { Resources?: unknown; Conditions?: unknown } | null
      const resources = template?.Resources
      if (typeof resources !== 'object' || resources === null) continue
      const conditions = new ConditionOracle(template?.Conditions, stack)
      for (const [logicalId, resource] of Object.entries(resources)) {
        const { Type: type, Condition: condition } = (resource ?? {}) as {
          Type?: unknown
          Condition?: unknown
        }
        if (typeof type !== 'string' || !isProtected(type)) continue
        out.set(`${stack.address}/${logicalId}`, {
          type,
          exists: condition === undefined ? true : conditions.holds(condition),
        })
      }
    }
    for (const manifest of desired.manifests) {
      const type = `${String(manifest.object.apiVersion)}/${String(manifest.object.kind)}`
      if (isProtected(type)) out.set(manifest.address, { type, exists: true })
    }
  }
  return out
}

/** Decides the plain CloudFormation conditions of one rendered stack; `undefined` for anything else. */
class ConditionOracle {
  private readonly definitions: Record<string, unknown>
  private readonly evaluating = new Set<string>()
  private readonly stack: RenderedStack

  constructor(definitions: unknown, stack: RenderedStack) {
    this.stack = stack
    this.definitions =
      typeof definitions === 'object' && definitions !== null ? (definitions as Record<string, unknown>) : {}
  }

  /** Whether the named condition holds. */
  holds(name: unknown): boolean | undefined {
    if (typeof name !== 'string' || !Object.hasOwn(this.definitions, name) || this.evaluating.has(name))
      return undefined
    this.evaluating.add(name)
    try {
      return this.truth(this.definitions[name])
    } finally {
      this.evaluating.delete(name)
    }
  }

  private truth(node: unknown): boolean | undefined {
    const [fn, args] = intrinsic(node)
    const list = Array.isArray(args) ? args : []
    switch (fn) {
      case 'Condition':
        return this.holds(args)
      case 'Fn::Equals': {
        if (list.length !== 2) return undefined
        const [a, b] = list.map((v) => this.scalar(v))
        return a === undefined || b === undefined ? undefined : a === b
      }
      case 'Fn::Not': {
        const inner = list.length === 1 ? this.truth(list[0]) : undefined
        return inner === undefined ? undefined : !inner
      }
      case 'Fn::And':
      case 'Fn::Or': {
        const values = list.map((v) => this.truth(v))
        // false decides an And, true an Or.
        const decisive = fn === 'Fn::Or'
        if (values.includes(decisive)) return decisive
        return values.includes(undefined) || values.length === 0 ? undefined : !decisive
      }
      default:
        return undefined
    }
  }

  private scalar(node: unknown): string | undefined {
    if (typeof node === 'string') return node
    if (typeof node === 'number' || typeof node === 'boolean') return String(node)
    const [fn, name] = intrinsic(node)
    if (fn !== 'Ref' || typeof name !== 'string') return undefined
    if (name === 'AWS::Region') return this.stack.region
    if (name === 'AWS::AccountId') return this.stack.address.slice(0, this.stack.address.indexOf('/'))
    if (name === 'AWS::StackName') return this.stack.stackName
    return Object.hasOwn(this.stack.parameters, name) ? this.stack.parameters[name] : undefined
  }
}

/** `{ "Fn::Equals": [...] }` → `["Fn::Equals", [...]]`; anything else → `[undefined, undefined]`. */
function intrinsic(node: unknown): [string | undefined, unknown] {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return [undefined, undefined]
  const keys = Object.keys(node)
  return keys.length === 1 ? [keys[0], (node as Record<string, unknown>)[keys[0]!]] : [undefined, undefined]
}
