/**
 * What a CloudFormation change set shows and what a stack policy allows — pure functions over
 * templates. Resource changes come from the planner's own `diffStacks`, so `Replacement` is
 * decided by the resource types' schemas exactly as Flotilla's plan decides `forcesReplacement`.
 */

import type { RenderedStack } from '../../../core/model/desired-state.ts'
import type { Change, Replacement } from '../../../core/model/plan.ts'
import { diffStacks, STACK_TYPE } from '../../../core/plan/diff-stacks.ts'
import type { StackResource } from '../sim-stacks.ts'
import { validationError } from './aws-errors.ts'

/** One `ResourceChange` of `DescribeChangeSet`, as stored with its change set. */
export interface ResourceChange {
  readonly action: 'Add' | 'Modify' | 'Remove'
  readonly logicalId: string
  readonly type: string
  readonly physicalId?: string
  /** For `Modify`: whether the resource is replaced. */
  readonly replacement?: 'True' | 'False' | 'Conditional'
  /** For `Remove` and a replacing `Modify`: what becomes of the physical resource. */
  readonly policyAction?: 'Delete' | 'Retain' | 'ReplaceAndDelete' | 'ReplaceAndRetain'
  /** For `Modify`: `Properties` when properties changed. */
  readonly scope: readonly string[]
  readonly details: readonly ResourceChangeDetail[]
}

/** One changed property of a `Modify` (`ResourceChangeDetail`). */
export interface ResourceChangeDetail {
  /** The top-level property name. */
  readonly name: string
  readonly requiresRecreation: 'Always' | 'Never' | 'Conditionally'
}

type Declared = Record<string, { DeletionPolicy?: unknown; UpdateReplacePolicy?: unknown }>

/**
 * The resource changes of deploying `after` over `before` (undefined for a new stack), in
 * logical id order, as CloudFormation lists them in a change set.
 */
export function resourceChangesOf(
  before: RenderedStack | undefined,
  after: RenderedStack,
  resources: Readonly<Record<string, StackResource>>,
): ResourceChange[] {
  const changes = diffStacks(before ? [before] : [], [after], () => false).filter(
    (change) => change.type !== STACK_TYPE,
  )
  const declared = ((before?.template as { Resources?: Declared } | undefined)?.Resources ?? {}) as Declared
  return changes.map((change) => toResourceChange(change, resources, declared))
}

function toResourceChange(
  change: Change,
  resources: Readonly<Record<string, StackResource>>,
  declared: Declared,
): ResourceChange {
  const logicalId = change.address.slice(change.address.lastIndexOf('/') + 1)
  const physicalId = resources[logicalId]?.physicalId
  const base = { logicalId, type: change.type, ...(physicalId ? { physicalId } : {}) }
  if (change.action === 'create') return { ...base, action: 'Add', scope: [], details: [] }
  if (change.action === 'delete') {
    const retain = isRetain(declared[logicalId]?.DeletionPolicy)
    return { ...base, action: 'Remove', policyAction: retain ? 'Retain' : 'Delete', scope: [], details: [] }
  }
  const replacement =
    change.action === 'replace' ? 'True' : change.mayReplace === true ? 'Conditional' : 'False'
  const details = new Map<string, ResourceChangeDetail>()
  for (const property of change.properties) {
    const name = property.path.split(/[.[]/)[0]!
    const requiresRecreation = recreation(property.forcesReplacement)
    const known = details.get(name)
    if (!known || strength(requiresRecreation) > strength(known.requiresRecreation))
      details.set(name, { name, requiresRecreation })
  }
  const retainOld = isRetain(declared[logicalId]?.UpdateReplacePolicy)
  return {
    ...base,
    action: 'Modify',
    replacement,
    ...(replacement === 'True' ? { policyAction: retainOld ? 'ReplaceAndRetain' : 'ReplaceAndDelete' } : {}),
    scope: ['Properties'],
    details: [...details.values()],
  }
}

/**
 * A `Modify` shown as a replacement (the `surprise-replacement` fault): what a cloud reports when
 * it knows better than the resource type's schema that a property cannot change in place.
 */
export function asReplacement(change: ResourceChange): ResourceChange {
  if (change.action !== 'Modify' || change.replacement === 'True') return change
  return {
    ...change,
    replacement: 'True',
    policyAction: 'ReplaceAndDelete',
    details: change.details.map((detail) => ({ ...detail, requiresRecreation: 'Always' })),
  }
}

function isRetain(policy: unknown): boolean {
  return policy === 'Retain' || policy === 'RetainExceptOnCreate'
}

function recreation(replacement: Replacement): ResourceChangeDetail['requiresRecreation'] {
  return replacement === true ? 'Always' : replacement === false ? 'Never' : 'Conditionally'
}

function strength(requiresRecreation: ResourceChangeDetail['requiresRecreation']): number {
  return requiresRecreation === 'Always' ? 2 : requiresRecreation === 'Conditionally' ? 1 : 0
}

/** A stack policy statement, as `SetStackPolicy` takes it. */
interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny'
  readonly Action?: string | readonly string[]
  readonly NotAction?: string | readonly string[]
  readonly Resource?: string | readonly string[]
  readonly NotResource?: string | readonly string[]
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>
}

/** A checked stack policy. */
export interface StackPolicy {
  readonly Statement: readonly PolicyStatement[]
}

/** Parses and checks a `StackPolicyBody`; an invalid one is refused as CloudFormation does. */
export function parseStackPolicy(body: string): StackPolicy {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch (error) {
    throw validationError(`Error validating stack policy: Invalid JSON (${(error as Error).message})`)
  }
  const statements = (parsed as { Statement?: unknown } | null)?.Statement
  const list = Array.isArray(statements) ? statements : statements === undefined ? [] : [statements]
  if (list.length === 0) throw validationError('Error validating stack policy: Statement is required')
  list.forEach((statement, index) => {
    const s = statement as Partial<PolicyStatement> | null
    if (s?.Effect !== 'Allow' && s?.Effect !== 'Deny')
      throw validationError(
        `Error validating stack policy: Statement #${index + 1}: Effect must be Allow or Deny`,
      )
    if (s.Action === undefined && s.NotAction === undefined)
      throw validationError(
        `Error validating stack policy: Statement #${index + 1}: Action or NotAction is required`,
      )
    if (s.Resource === undefined && s.NotResource === undefined)
      throw validationError(
        `Error validating stack policy: Statement #${index + 1}: Resource or NotResource is required`,
      )
  })
  return { Statement: list as PolicyStatement[] }
}

/** The stack policy action a resource change is: `Update:Modify`, `Update:Replace`, `Update:Delete`. */
function policyActions(change: ResourceChange): string[] {
  if (change.action === 'Remove') return ['Update:Delete']
  if (change.replacement === 'True') return ['Update:Replace']
  // A conditional replacement may replace: it must be allowed to (fail closed).
  if (change.replacement === 'Conditional') return ['Update:Modify', 'Update:Replace']
  return ['Update:Modify']
}

/**
 * Why `policy` refuses the change set's `changes`, or undefined when it allows them all. As in
 * CloudFormation: once a stack has a policy, an update of an existing resource needs an
 * `Allow` that matches it and no `Deny` that does; adding resources is not governed by it.
 */
export function stackPolicyDenial(
  policy: StackPolicy,
  changes: readonly ResourceChange[],
): string | undefined {
  for (const change of changes) {
    if (change.action === 'Add') continue
    for (const action of policyActions(change)) {
      const matching = policy.Statement.map((statement, index) => ({ statement, index })).filter(
        ({ statement }) => matches(statement, action, change),
      )
      const deny = matching.find(({ statement }) => statement.Effect === 'Deny')
      if (deny)
        return `Action denied by stack policy: Statement [#${deny.index + 1}] denies [${action}] on resource [LogicalResourceId/${change.logicalId}]`
      if (!matching.some(({ statement }) => statement.Effect === 'Allow'))
        return `Action denied by stack policy: no statement allows [${action}] on resource [LogicalResourceId/${change.logicalId}]`
    }
  }
  return undefined
}

function matches(statement: PolicyStatement, action: string, change: ResourceChange): boolean {
  const resource = `LogicalResourceId/${change.logicalId}`
  const actionMatches =
    statement.Action !== undefined
      ? listOf(statement.Action).some((pattern) => glob(pattern, action))
      : !listOf(statement.NotAction).some((pattern) => glob(pattern, action))
  const resourceMatches =
    statement.Resource !== undefined
      ? listOf(statement.Resource).some((pattern) => glob(pattern, resource))
      : !listOf(statement.NotResource).some((pattern) => glob(pattern, resource))
  return actionMatches && resourceMatches && conditionHolds(statement.Condition, change.type)
}

function conditionHolds(condition: PolicyStatement['Condition'], type: string): boolean {
  if (condition === undefined) return true
  return Object.entries(condition).every(([operator, keys]) =>
    Object.entries(keys).every(([key, values]) => {
      if (key !== 'ResourceType') return false
      const list = listOf(values)
      if (operator === 'StringEquals') return list.includes(type)
      if (operator === 'StringNotEquals') return !list.includes(type)
      if (operator === 'StringLike') return list.some((pattern) => glob(pattern, type))
      if (operator === 'StringNotLike') return !list.some((pattern) => glob(pattern, type))
      return false
    }),
  )
}

function listOf(value: string | readonly string[] | undefined): readonly string[] {
  return value === undefined ? [] : typeof value === 'string' ? [value] : value
}

/** IAM-style wildcards: `*` any run of characters, `?` one. */
function glob(pattern: string, text: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.')
  return new RegExp(`^${source}$`).test(text)
}
