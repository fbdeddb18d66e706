import type { RenderedStack } from '../render/desired-state.ts'
import { replacementOf } from '../resource-types/aws.ts'
import { toLongForm } from '../yaml/cfn-tags.ts'
import type { Change, PropertyChange, Replacement } from './plan-model.ts'
import { diffValues, formatPath } from './value-diff.ts'

/** The type of the change that stands for a stack itself (its parameters and non-resource sections). */
export const STACK_TYPE = 'AWS::CloudFormation::Stack'

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
    if (!before && after.movedFrom !== undefined) {
      const previous = `${after.address.slice(0, after.address.lastIndexOf('/'))}/${after.movedFrom}`
      const candidate = baseByAddress.get(previous)
      if (candidate && !headAddresses.has(previous)) {
        before = candidate
        movedFrom = previous
      }
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
  const beforeTemplate = template(before)
  const afterTemplate = template(after)
  const changes: Change[] = []

  const stackProperties = [
    ...diffValues(before?.parameters ?? {}, after?.parameters ?? {}, ['Parameters']),
    ...diffValues(withoutResources(beforeTemplate), withoutResources(afterTemplate), ['Template']),
  ].map((d) => propertyChange(d.path, d.before, d.after, false))
  const stackAction = !before
    ? 'create'
    : !after
      ? 'delete'
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

  const beforeResources = resources(beforeTemplate)
  const afterResources = resources(afterTemplate)
  const ids = [...new Set([...Object.keys(beforeResources), ...Object.keys(afterResources)])].sort()
  for (const id of ids) {
    const change = diffResource(
      `${address}/${id}`,
      beforeResources[id],
      afterResources[id],
      movedFrom ? `${movedFrom}/${id}` : undefined,
      isProtected,
    )
    if (change) changes.push(change)
  }
  return changes
}

function diffResource(
  address: string,
  before: Resource | undefined,
  after: Resource | undefined,
  movedFrom: string | undefined,
  isProtected: (type: string) => boolean,
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
    ...diffValues(asObject(before.Properties), asObject(after.Properties)).map((d) =>
      propertyChange(d.path, d.before, d.after, replacementOf(type, d.path.map(String))),
    ),
    ...diffValues(attributes(before), attributes(after)).map((d) =>
      propertyChange(d.path, d.before, d.after, false),
    ),
  ]
  if (properties.length === 0)
    return movedFrom ? { ...base, action: 'move', movedFrom, properties } : undefined
  const replaces = properties.some((p) => p.forcesReplacement === true)
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
  return { path: formatPath(path), before: before ?? null, after: after ?? null, forcesReplacement }
}

/** A stack's template in long form (`{ "Fn::Sub": … }`), as CloudFormation and the differ see it. */
function template(stack: RenderedStack | undefined): Record<string, unknown> {
  return stack ? asObject(toLongForm(stack.template)) : {}
}

/** A resource's type; an `Fn::ForEach::*` entry (a list, expanded by CloudFormation) has none of its own. */
function resourceType(resource: Resource): string {
  return typeof resource.Type === 'string' ? resource.Type : 'Fn::ForEach'
}

function withoutResources(template: Record<string, unknown>): Record<string, unknown> {
  const { Resources: _, ...rest } = template
  return rest
}

function resources(template: Record<string, unknown>): Record<string, Resource> {
  return asObject(template.Resources) as Record<string, Resource>
}

function attributes(resource: Resource): Record<string, unknown> {
  const { Type: _, Properties: __, ...rest } = resource
  return rest
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}
