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

  // Resources are compared with the stack's parameter values put in: a new DomainName parameter
  // changes a zone's `Name: !Sub "${DomainName}."` — and replaces the zone — though neither
  // template changed.
  const beforeResources = substituteParameters(
    resources(beforeTemplate),
    parameterValues(beforeTemplate, before),
  )
  const afterResources = substituteParameters(resources(afterTemplate), parameterValues(afterTemplate, after))
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

/** The value of every template parameter: the stack's own values over the template's defaults. */
function parameterValues(
  template: Record<string, unknown>,
  stack: RenderedStack | undefined,
): Map<string, string> {
  const values = new Map<string, string>()
  for (const [name, declaration] of Object.entries(asObject(template.Parameters))) {
    const fallback = asObject(declaration).Default
    if (fallback !== undefined && fallback !== null && typeof fallback !== 'object')
      values.set(name, String(fallback))
  }
  for (const [name, value] of Object.entries(stack?.parameters ?? {})) values.set(name, value)
  return values
}

/**
 * Resources with `{ "Ref": P }` and `${P}` in `Fn::Sub` replaced by parameter P's value, so that
 * what CloudFormation will see is what is compared. Pseudo parameters (`AWS::Region`) and
 * references to resources stay as they are.
 */
function substituteParameters(
  resources: Record<string, Resource>,
  values: ReadonlyMap<string, string>,
): Record<string, Resource> {
  if (values.size === 0) return resources
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit)
    if (value === null || typeof value !== 'object') return value
    const object = value as Record<string, unknown>
    const keys = Object.keys(object)
    if (keys.length === 1 && keys[0] === 'Ref' && typeof object.Ref === 'string' && values.has(object.Ref)) {
      return values.get(object.Ref)
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub') return substituteInSub(object['Fn::Sub'], values, visit)
    return Object.fromEntries(keys.map((k) => [k, visit(object[k])]))
  }
  return Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, visit(r) as Resource]))
}

function substituteInSub(
  sub: unknown,
  values: ReadonlyMap<string, string>,
  visit: (v: unknown) => unknown,
): unknown {
  const [text, variables] = Array.isArray(sub) ? [sub[0], asObject(sub[1])] : [sub, {}]
  if (typeof text !== 'string') return { 'Fn::Sub': visit(sub) }
  const replaced = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) =>
    !Object.hasOwn(variables, name) && values.has(name) ? values.get(name)! : whole,
  )
  if (Object.keys(variables).length > 0) return { 'Fn::Sub': [replaced, visit(variables)] }
  // Nothing left for CloudFormation to substitute: the plain string is what it will use.
  return /\$\{/.test(replaced) ? { 'Fn::Sub': replaced } : replaced
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
