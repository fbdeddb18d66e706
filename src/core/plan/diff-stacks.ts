import { asObject, type EvaluatedTemplate, isKnown, referencedResources } from '../cloudformation/evaluate.ts'
import { evaluateStack, longFormTemplate } from '../cloudformation/evaluate-stack.ts'
import type { RenderedStack } from '../model/desired-state.ts'
import { type Change, type PropertyChange, type Replacement, STACK_TYPE } from '../model/plan.ts'
import { replacementOf } from '../resource-types/aws.ts'
import { moveStatus, previousAddress } from './moved-from.ts'
import { diffValues, formatPath } from './value-diff.ts'

// Defined with the plan model (policies name it too); re-exported for the differ's callers.
export { STACK_TYPE } from '../model/plan.ts'

type Resource = { Type?: unknown; Properties?: unknown; [attribute: string]: unknown }

/**
 * Diffs one account's stacks, base against head. Stacks are matched by address; a head stack
 * with `MovedFrom` takes over the base stack of that name in the same region (a `move`, nothing
 * destroyed). Resources are matched by logical id and classified with the resource type's
 * schema: a changed immutable property is a `replace`, a possibly immutable one an update that
 * may replace, an unknown type a change that may replace (fail closed).
 */
export function diffStacks(
  base: readonly RenderedStack[],
  head: readonly RenderedStack[],
  isProtected: (type: string) => boolean,
): Change[] {
  const baseByAddress = new Map(base.map((s) => [s.address, s]))
  const headAddresses = new Set(head.map((s) => s.address))
  const changes: Change[] = []
  const consumed = new Set<string>()
  for (const after of head) {
    let before = baseByAddress.get(after.address)
    let movedFrom: string | undefined
    // A MovedFrom only moves: where it would not (see moveStatus) the old stack is deleted.
    if (!before && moveStatus(after, baseByAddress, headAddresses) === 'moved') {
      movedFrom = previousAddress(after)!
      before = baseByAddress.get(movedFrom)
    }
    if (before) consumed.add(before.address)
    changes.push(...diffStack(before, after, movedFrom, isProtected))
  }
  for (const before of base) {
    if (!consumed.has(before.address)) changes.push(...diffStack(before, undefined, undefined, isProtected))
  }
  return changes
}

function diffStack(
  before: RenderedStack | undefined,
  after: RenderedStack | undefined,
  movedFrom: string | undefined,
  isProtected: (type: string) => boolean,
): Change[] {
  // The same rendering object on both sides (reused by the load cache) cannot differ.
  if (before === after) return []
  const address = (after ?? before)!.address
  const beforeTemplate = longFormTemplate(before)
  const afterTemplate = longFormTemplate(after)
  const changes: Change[] = []

  // A global stack follows its account's first region: when that changes, the stack is created
  // in the new region and the old one deleted — every resource with it — under the same address.
  const regionMoved = before !== undefined && after !== undefined && before.region !== after.region
  const stackProperties = [
    ...(regionMoved ? [{ path: ['Region'], before: before.region, after: after.region }] : []),
    ...diffValues(before?.parameters ?? {}, after?.parameters ?? {}, ['Parameters']),
    ...diffValues(withoutResources(beforeTemplate), withoutResources(afterTemplate), ['Template']),
  ].map((d) => propertyChange(d.path, d.before, d.after, false))
  const stackAction = !before
    ? 'create'
    : !after
      ? 'delete'
      : regionMoved
        ? 'replace'
        : movedFrom
          ? 'move'
          : stackProperties.length
            ? 'update'
            : 'no-op'
  if (stackAction !== 'no-op') {
    changes.push({
      address,
      action: stackAction,
      type: STACK_TYPE,
      protected: false,
      ...(movedFrom ? { movedFrom } : {}),
      properties: stackAction === 'create' || stackAction === 'delete' ? [] : stackProperties,
    })
  }

  // Resources are compared as CloudFormation will create them for this account, region and
  // parameter values: conditions held, mappings and parameters put in. A condition that turns
  // false deletes its resources though no resource line changed; a new DomainName parameter
  // replaces a zone whose `Name: !Sub "${DomainName}."` did not change.
  const beforeEvaluated = before ? evaluateStack(before) : undefined
  const afterEvaluated = after ? evaluateStack(after) : undefined
  const beforeResources = (beforeEvaluated?.resources ?? {}) as Record<string, Resource>
  const afterResources = (afterEvaluated?.resources ?? {}) as Record<string, Resource>
  const ids = [...new Set([...Object.keys(beforeResources), ...Object.keys(afterResources)])].sort()
  const resourceChanges = new Map<string, Change>()
  for (const id of ids) {
    // A resource the moved stack no longer has is deleted where it is: under the old stack.
    const at = movedFrom && !afterResources[id] ? `${movedFrom}/${id}` : `${address}/${id}`
    const change = diffResource(
      at,
      beforeResources[id],
      afterResources[id],
      movedFrom ? `${movedFrom}/${id}` : undefined,
      isProtected,
      regionMoved ? [before.region, after.region] : undefined,
    )
    if (change) resourceChanges.set(id, withCondition(change, id, beforeEvaluated, afterEvaluated))
  }
  propagateReplacements(address, beforeResources, afterResources, resourceChanges, isProtected)
  changes.push(...[...resourceChanges.values()].sort((a, b) => (a.address < b.address ? -1 : 1)))
  return changes
}

function diffResource(
  address: string,
  before: Resource | undefined,
  after: Resource | undefined,
  movedFrom: string | undefined,
  isProtected: (type: string) => boolean,
  regionMove?: readonly [string, string],
): Change | undefined {
  const type = resourceType((after ?? before)!)
  const base = { address, type, protected: isProtected(type) }
  if (!before || !after) {
    const present = (before ?? after)!
    const properties = Object.entries(asObject(present.Properties)).map(([key, value]) =>
      before
        ? propertyChange([key], value, undefined, false)
        : propertyChange([key], undefined, value, false),
    )
    return { ...base, action: before ? 'delete' : 'create', properties }
  }
  if (resourceType(before) !== type) {
    return {
      ...base,
      protected: base.protected || isProtected(resourceType(before)),
      action: 'replace',
      properties: [propertyChange(['Type'], before.Type, after.Type, true)],
    }
  }
  const properties: PropertyChange[] = [
    ...(regionMove ? [propertyChange(['Region'], regionMove[0], regionMove[1], true)] : []),
    ...diffValues(asObject(before.Properties), asObject(after.Properties)).map((d) =>
      propertyChange(d.path, d.before, d.after, replacementOf(type, d.path.map(String))),
    ),
    ...diffValues(attributes(before), attributes(after)).map((d) =>
      // A condition Flotilla cannot evaluate may remove the resource: fail closed.
      propertyChange(d.path, d.before, d.after, d.path[0] === 'Condition' ? 'unknown' : false),
    ),
  ]
  if (properties.length === 0)
    return movedFrom ? { ...base, action: 'move', movedFrom, properties } : undefined
  return classified(base, properties, movedFrom)
}

/**
 * An update's action from its property changes: a known change of an immutable property
 * replaces; a change that may replace (a conditional property, an unknown type, or a value
 * known only at deploy time in a property that can force replacement) is an update that may
 * replace — destructive for protected resources.
 */
function classified(
  base: { address: string; type: string; protected: boolean },
  properties: readonly PropertyChange[],
  movedFrom: string | undefined,
): Change {
  const replaces = properties.some((p) => p.forcesReplacement === true && p.unknown !== true)
  const mayReplace = !replaces && properties.some((p) => p.forcesReplacement !== false)
  return {
    ...base,
    action: replaces ? 'replace' : movedFrom ? 'move' : 'update',
    ...(movedFrom ? { movedFrom } : {}),
    ...(mayReplace ? { mayReplace } : {}),
    properties,
  }
}

function propertyChange(
  path: readonly (string | number)[],
  before: unknown,
  after: unknown,
  forcesReplacement: Replacement,
): PropertyChange {
  const unknown = !isKnown(before) || !isKnown(after)
  return {
    path: formatPath(path),
    before: before ?? null,
    after: after ?? null,
    forcesReplacement,
    ...(unknown ? { unknown } : {}),
  }
}

/** A create or delete that a condition decided carries the condition, so the reader sees why. */
function withCondition(
  change: Change,
  id: string,
  before: EvaluatedTemplate | undefined,
  after: EvaluatedTemplate | undefined,
): Change {
  const name =
    change.action === 'delete'
      ? after?.excluded.get(id)
      : change.action === 'create'
        ? before?.excluded.get(id)
        : undefined
  return name === undefined ? change : { ...change, condition: { name, value: change.action === 'create' } }
}

/**
 * A replaced resource gets a new physical id and new attributes: every resource that reads them
 * (`Ref`, `Fn::GetAtt`, `${Resource}` in `Fn::Sub`) changes too, though its template did not —
 * CloudFormation updates it, and replaces it when the property is immutable. Those changes are
 * added as unknown values, transitively, so a protected resource downstream of a replacement
 * is seen as possibly replaced.
 */
function propagateReplacements(
  stackAddress: string,
  before: Record<string, Resource>,
  after: Record<string, Resource>,
  changes: Map<string, Change>,
  isProtected: (type: string) => boolean,
): void {
  const ids = new Set(Object.keys(after))
  const destroyed = (change: Change | undefined) =>
    change !== undefined && (change.action === 'replace' || change.mayReplace === true)
  let grew = true
  while (grew) {
    grew = false
    const replaced = new Set([...changes].filter(([, c]) => destroyed(c)).map(([id]) => id))
    if (replaced.size === 0) return
    for (const [id, resource] of Object.entries(after)) {
      const previous = before[id]
      const existing = changes.get(id)
      if (!previous || destroyed(existing) || existing?.action === 'create' || existing?.action === 'delete')
        continue
      const type = resourceType(resource)
      const added: PropertyChange[] = []
      for (const [key, value] of Object.entries(asObject(resource.Properties))) {
        const hits = [...referencedResources(value, ids)].filter((r) => replaced.has(r) && r !== id)
        if (hits.length === 0 || existing?.properties.some((p) => p.path === key)) continue
        added.push({
          path: key,
          before: value,
          after: value,
          forcesReplacement: replacementOf(type, [key]),
          unknown: true,
          dependsOn: hits.sort(),
        })
      }
      if (added.length === 0) continue
      const base = existing ?? { address: `${stackAddress}/${id}`, type, protected: isProtected(type) }
      changes.set(
        id,
        classified(
          { address: base.address, type: base.type, protected: base.protected },
          [...(existing?.properties ?? []), ...added],
          existing?.movedFrom,
        ),
      )
      grew = true
    }
  }
}

/** A resource's type; an `Fn::ForEach::*` entry (a list, expanded by CloudFormation) has none of its own. */
function resourceType(resource: Resource): string {
  return typeof resource.Type === 'string' ? resource.Type : 'Fn::ForEach'
}

function withoutResources(template: Record<string, unknown>): Record<string, unknown> {
  const { Resources: _, ...rest } = template
  return rest
}

function attributes(resource: Resource): Record<string, unknown> {
  const { Type: _, Properties: __, ...rest } = resource
  return rest
}
