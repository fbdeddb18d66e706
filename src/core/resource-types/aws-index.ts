/**
 * The compact index of AWS resource types that Flotilla checks in under `aws/`, and how it is
 * built from AWS's resource specification as `@aws-cdk/aws-service-spec` packages it.
 *
 * This module never loads the specification itself: the generator script and the staleness test
 * pass it in, so the runtime (which only reads the index) does not depend on the package.
 */

/** How a property change affects the resource: `y` always replaces, `m` may replace, `n` updates in place. */
export type ReplacementCode = 'y' | 'm' | 'n'

/** One resource type in a service file of the index. */
export interface IndexedType {
  /** Top-level property names and what changing them does. */
  readonly p: Readonly<Record<string, ReplacementCode>>
  /**
   * Deeper property paths that replace more than their top-level property says, dotted
   * (`Budget.BudgetName`); `*` stands for any list index or map key. Omitted when empty.
   */
  readonly x?: Readonly<Record<string, ReplacementCode>>
  /** Identifying properties (see {@link identifyingProperties}). Omitted when empty. */
  readonly id?: readonly string[]
  /** The template transform the type needs (SAM's types). Omitted for plain CloudFormation types. */
  readonly t?: string
}

/** A service file of the index: type name → its entry. */
export type ServiceFile = Readonly<Record<string, IndexedType>>

/** `index.json`: service file name (without `.json`) → the types it holds. */
export type IndexFile = Readonly<Record<string, readonly string[]>>

/** The name of the index's own file, next to the service files. */
export const INDEX_FILE = 'index'

/**
 * The service file (without `.json`) that holds `type`: the lowercased service part for `AWS::`
 * types (`AWS::Route53::HostedZone` → `route53`), `vendor-service` for other vendors
 * (`Alexa::ASK::Skill` → `alexa-ask`). Undefined for anything that is not `Vendor::Service::Name`.
 */
export function serviceFileOf(type: string): string | undefined {
  const parts = type.split('::')
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9]+$/.test(p))) return undefined
  const [vendor, service] = parts as [string, string, string]
  return vendor === 'AWS' ? service.toLowerCase() : `${vendor}-${service}`.toLowerCase()
}

// --- the slice of @aws-cdk/aws-service-spec the builder reads --------------------------------

/** A property type of the specification (primitive, reference to a type definition, list, map, union). */
export type SpecPropertyType =
  | { readonly type: 'ref'; readonly reference: { readonly $ref: string } }
  | { readonly type: 'array' | 'map'; readonly element: SpecPropertyType }
  | { readonly type: 'union'; readonly types: readonly SpecPropertyType[] }
  | { readonly type: string }

/** A property of a resource or of a type definition. */
export interface SpecProperty {
  readonly type: SpecPropertyType
  readonly previousTypes?: readonly SpecPropertyType[]
  readonly causesReplacement?: 'yes' | 'no' | 'maybe'
}

/** A resource type of the specification. */
export interface SpecResource {
  readonly cloudFormationType: string
  readonly properties: Readonly<Record<string, SpecProperty>>
  readonly primaryIdentifier?: readonly string[]
  readonly cloudFormationTransform?: string
  readonly additionalReplacementProperties?: readonly (readonly string[])[]
  /**
   * Whether the type holds state that its deletion loses: the specification sets it for the types
   * of cfn-lint's `StatefulResources.json` (databases, file systems, keys, queues, …).
   */
  readonly isStateful?: boolean
}

/** What the builder needs of the specification database. */
export interface ResourceSpec {
  readonly resources: readonly SpecResource[]
  /** The properties of the type definition a `ref` names. */
  typeDefinition(id: string): { readonly properties: Readonly<Record<string, SpecProperty>> }
}

/** The specification database as `loadAwsServiceSpecSync()` returns it (only what {@link specOf} calls). */
export interface SpecDatabase {
  all(key: 'resource'): readonly unknown[]
  get(key: 'typeDefinition', id: string): unknown
}

/** Adapts the specification database to {@link ResourceSpec}. */
export function specOf(db: SpecDatabase): ResourceSpec {
  return {
    resources: db.all('resource') as readonly SpecResource[],
    typeDefinition: (id) => db.get('typeDefinition', id) as { properties: Record<string, SpecProperty> },
  }
}

// --- building ---------------------------------------------------------------------------------

const STRENGTH: Readonly<Record<ReplacementCode, number>> = { n: 0, m: 1, y: 2 }

function codeOf(property: SpecProperty): ReplacementCode {
  return property.causesReplacement === 'yes' ? 'y' : property.causesReplacement === 'maybe' ? 'm' : 'n'
}

/**
 * The properties that identify one resource of a type across stacks (to recognise the same
 * resource in a renamed stack): the entries of its primary identifier that are writable top-level
 * properties (`BucketName`, `RoleName`); when there are none, the properties that always force
 * replacement and whose name ends in `Name` (HostedZone `Name`, Certificate `DomainName`). May be
 * empty: such a type has nothing a template sets that identifies it.
 */
export function identifyingProperties(resource: SpecResource): string[] {
  const properties = resource.properties
  const writable = (resource.primaryIdentifier ?? []).filter((name) => Object.hasOwn(properties, name))
  if (writable.length > 0) return [...new Set(writable)].sort()
  return Object.keys(properties)
    .filter((name) => name.endsWith('Name') && properties[name]!.causesReplacement === 'yes')
    .sort()
}

/**
 * Nested property paths whose replacement behaviour is stronger than that of everything above
 * them. A walk through the type definitions a property refers to (lists and maps as `*`), guarded
 * against recursive types.
 */
function nestedReplacements(spec: ResourceSpec, resource: SpecResource): Map<string, ReplacementCode> {
  const found = new Map<string, ReplacementCode>()
  const record = (path: readonly string[], code: ReplacementCode): void => {
    const key = path.join('.')
    const before = found.get(key)
    if (before === undefined || STRENGTH[code] > STRENGTH[before]) found.set(key, code)
  }
  const walk = (
    type: SpecPropertyType,
    path: readonly string[],
    inherited: ReplacementCode,
    seen: ReadonlySet<string>,
  ): void => {
    if (inherited === 'y') return // everything below replaces already
    if (type.type === 'ref' && 'reference' in type) {
      const id = type.reference.$ref
      if (seen.has(id)) {
        // A recursive type (WAF's nested statements): what lies deeper may replace, or may not.
        if (STRENGTH[strongestWithin(spec, id)] > STRENGTH[inherited]) record(path, 'm')
        return
      }
      const inner = new Set(seen).add(id)
      for (const [name, property] of Object.entries(spec.typeDefinition(id).properties)) {
        const code = codeOf(property)
        const here = [...path, name]
        if (STRENGTH[code] > STRENGTH[inherited]) record(here, code)
        const effective = STRENGTH[code] > STRENGTH[inherited] ? code : inherited
        for (const t of typesOf(property)) walk(t, here, effective, inner)
      }
    } else if ((type.type === 'array' || type.type === 'map') && 'element' in type) {
      walk(type.element, [...path, '*'], inherited, seen)
    } else if (type.type === 'union' && 'types' in type) {
      for (const t of type.types) walk(t, path, inherited, seen)
    }
  }
  for (const [name, property] of Object.entries(resource.properties)) {
    for (const t of typesOf(property)) walk(t, [name], codeOf(property), new Set())
  }
  for (const path of resource.additionalReplacementProperties ?? []) {
    const top = resource.properties[path[0] ?? '']
    if (top && codeOf(top) !== 'y' && path.length > 1) record(path, 'y')
  }
  // Drop what an ancestor already says as strongly (additional paths can repeat the walk's finds).
  for (const [key, code] of [...found]) {
    const segments = key.split('.')
    for (let i = 1; i < segments.length; i++) {
      const ancestor = found.get(segments.slice(0, i).join('.'))
      if (ancestor !== undefined && STRENGTH[ancestor] >= STRENGTH[code]) {
        found.delete(key)
        break
      }
    }
  }
  return found
}

/** The strongest replacement code anywhere inside a type definition. */
function strongestWithin(spec: ResourceSpec, id: string, seen = new Set<string>()): ReplacementCode {
  if (seen.has(id)) return 'n'
  seen.add(id)
  let strongest: ReplacementCode = 'n'
  const visit = (type: SpecPropertyType): void => {
    if (type.type === 'ref' && 'reference' in type) {
      const inner = strongestWithin(spec, type.reference.$ref, seen)
      if (STRENGTH[inner] > STRENGTH[strongest]) strongest = inner
    } else if ((type.type === 'array' || type.type === 'map') && 'element' in type) {
      visit(type.element)
    } else if (type.type === 'union' && 'types' in type) {
      for (const t of type.types) visit(t)
    }
  }
  for (const property of Object.values(spec.typeDefinition(id).properties)) {
    const code = codeOf(property)
    if (STRENGTH[code] > STRENGTH[strongest]) strongest = code
    for (const t of typesOf(property)) visit(t)
  }
  return strongest
}

function typesOf(property: SpecProperty): SpecPropertyType[] {
  return [property.type, ...(property.previousTypes ?? [])]
}

/** Keys in code-unit order, so that the files do not depend on the machine's locale. */
function sortedRecord<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  return Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** The index entry of one resource type. */
export function indexedType(spec: ResourceSpec, resource: SpecResource): IndexedType {
  const nested = nestedReplacements(spec, resource)
  const id = identifyingProperties(resource)
  return {
    p: sortedRecord(Object.entries(resource.properties).map(([name, p]) => [name, codeOf(p)] as const)),
    ...(nested.size > 0 ? { x: sortedRecord(nested) } : {}),
    ...(id.length > 0 ? { id } : {}),
    ...(resource.cloudFormationTransform ? { t: resource.cloudFormationTransform } : {}),
  }
}

/**
 * Every file of the index, by name (`route53.json`, …, `index.json`), with its exact text: one
 * type per line, keys sorted, so that a new version of the specification gives a readable diff.
 */
export function buildAwsIndex(spec: ResourceSpec): Map<string, string> {
  const byFile = new Map<string, Map<string, IndexedType>>()
  for (const resource of spec.resources) {
    const type = resource.cloudFormationType
    const file = serviceFileOf(type)
    if (file === undefined || file === INDEX_FILE) throw new Error(`unexpected resource type name "${type}"`)
    const types = byFile.get(file) ?? new Map<string, IndexedType>()
    byFile.set(file, types)
    if (types.has(type)) throw new Error(`resource type "${type}" appears twice in the specification`)
    types.set(type, indexedType(spec, resource))
  }
  const files = new Map<string, string>()
  const index: [string, string[]][] = []
  for (const [file, types] of [...byFile].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const sorted = sortedRecord(types)
    files.set(`${file}.json`, jsonLines(sorted))
    index.push([file, Object.keys(sorted)])
  }
  files.set(`${INDEX_FILE}.json`, jsonLines(Object.fromEntries(index)))
  return files
}

/** A JSON object with one entry per line, each value on that line in compact form. */
function jsonLines(record: Readonly<Record<string, unknown>>): string {
  const lines = Object.entries(record).map(
    ([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`,
  )
  return `{\n${lines.join(',\n')}\n}\n`
}
