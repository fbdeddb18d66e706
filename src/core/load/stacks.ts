import type { DiagnosticSink } from '../diagnostics.ts'
import type { StackTemplate } from '../model/fleet-model.ts'
import { FLOTILLA_METADATA_KEYS, resourceSchema, stackFileSchema } from '../model/stack.ts'
import { compileLocatedExpression, compileTemplate } from '../render/compile.ts'
import { allAwsResourceTypes, awsResourceType } from '../resource-types/aws.ts'
import { closest, didYouMean } from '../suggest.ts'
import { CfnTag } from '../yaml/cfn-tags.ts'
import type { ParsedDocument } from '../yaml/parse.ts'
import type { LoadCache } from './load-cache.ts'
import { checkSchema } from './schema-check.ts'

const FLOTILLA_KEYS = new Set<string>(FLOTILLA_METADATA_KEYS)
const DELETION_POLICIES = ['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot']
const RESOURCE_TYPE = /^(Custom::[A-Za-z0-9_@-]+|[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+(::MODULE)?)$/
/** Vendors whose types AWS's resource specification lists; others are third-party registry types. */
const SPECIFIED_VENDORS = new Set(['aws', 'alexa'])
/** Types that take arbitrary properties: the custom resource provider receives them all. */
const FREE_FORM_TYPES = new Set(['AWS::CloudFormation::CustomResource'])
/** Unknown properties are listed in the message up to this many; beyond, the list would drown it. */
const MAX_LISTED_PROPERTIES = 20

/** Loads every stack template, reporting each problem with its position. */
export function loadStacks(
  docs: readonly ParsedDocument[],
  sink: DiagnosticSink,
  cache?: LoadCache,
): StackTemplate[] {
  const stacks: StackTemplate[] = []
  for (const doc of docs) {
    // A document reused from an earlier load (same file, same text) compiles to the same template.
    let stack = cache?.stacks.get(doc)
    if (!stack) {
      const errorsBefore = sink.errors.length
      const warningsBefore = sink.warnings.length
      stack = loadStack(doc, sink)
      const clean = sink.errors.length === errorsBefore && sink.warnings.length === warningsBefore
      if (stack && clean) cache?.stacks.set(doc, stack)
    }
    if (stack) stacks.push(stack)
  }
  checkNames(stacks, sink)
  return stacks.sort((a, b) => (a.stackName < b.stackName ? -1 : 1))
}

function loadStack(doc: ParsedDocument, sink: DiagnosticSink): StackTemplate | undefined {
  const errorsBefore = sink.errors.length
  const raw = doc.value as Record<string, unknown>
  const metadata = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw.Metadata : undefined) as
    | Record<string, unknown>
    | undefined
  // Keys that are almost Flotilla's are typos, not other tools' metadata: `StakName` must not pass.
  if (metadata && typeof metadata === 'object') {
    for (const key of Object.keys(metadata)) {
      if (FLOTILLA_KEYS.has(key)) continue
      const near = closest(key, FLOTILLA_METADATA_KEYS)
      if (near) {
        sink.error(
          doc.locateKey(['Metadata', key]),
          'unknown-key',
          `unknown key "${key}" in Metadata; did you mean "${near}"? (Flotilla's keys are ${FLOTILLA_METADATA_KEYS.join(', ')})`,
        )
      }
    }
  }
  const template = checkSchema(stackFileSchema, doc, sink)
  if (!template) return undefined

  const resources = template.Resources
  if (Object.keys(resources).length === 0) {
    sink.error(
      doc.locate(['Resources']),
      'invalid-value',
      'a stack needs at least one resource under Resources',
    )
  }
  const transforms = transformsOf(template.Transform)
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (logicalId.startsWith('Fn::ForEach::')) continue // expanded by CloudFormation's LanguageExtensions transform
    if (!/^[A-Za-z0-9]+$/.test(logicalId)) {
      sink.error(
        doc.locateKey(['Resources', logicalId]),
        'invalid-key',
        `logical id "${logicalId}" may only contain letters and digits (CloudFormation rejects it)`,
      )
    }
    if (resource instanceof CfnTag) continue
    const checked = checkSchema(resourceSchema, doc, sink, resource, ['Resources', logicalId])
    if (!checked) continue
    if (!RESOURCE_TYPE.test(checked.Type)) {
      sink.error(
        doc.locate(['Resources', logicalId, 'Type']),
        'invalid-value',
        `"${checked.Type}" is not a resource type; expected AWS::Service::Resource or Custom::Name`,
      )
    } else {
      checkResourceType(doc, logicalId, checked.Type, checked.Properties, transforms, sink)
    }
    for (const policy of ['DeletionPolicy', 'UpdateReplacePolicy'] as const) {
      const value = checked[policy]
      if (typeof value === 'string' && !DELETION_POLICIES.includes(value)) {
        sink.error(
          doc.locate(['Resources', logicalId, policy]),
          'invalid-value',
          `invalid ${policy} "${value}": expected one of ${DELETION_POLICIES.join(', ')}${didYouMean(value, DELETION_POLICIES)}`,
        )
      }
    }
  }

  const meta = template.Metadata
  const declared = template.Parameters ?? {}
  const values = meta.Parameters ?? {}
  for (const name of Object.keys(values)) {
    if (!Object.hasOwn(declared, name)) {
      sink.error(
        doc.locateKey(['Metadata', 'Parameters', name]),
        'broken-reference',
        `Metadata.Parameters sets "${name}", which is not a parameter of this template${didYouMean(name, Object.keys(declared))}`,
      )
    }
  }
  for (const [name, declaration] of Object.entries(declared)) {
    if (!Object.hasOwn(values, name) && !Object.hasOwn(declaration, 'Default')) {
      sink.error(
        doc.locateKey(['Parameters', name]),
        'missing-value',
        `parameter "${name}" has no value: set Metadata.Parameters.${name} or give it a Default`,
      )
    }
  }

  const select =
    meta.Select === undefined
      ? undefined
      : compileLocatedExpression(meta.Select, doc, ['Metadata', 'Select'], 'stack-select', sink)
  const parameters = compileTemplate(values, doc, ['Metadata', 'Parameters'], 'stack-template', sink)
  const body = compileTemplate(withoutFlotillaMetadata(raw), doc, [], 'stack-template', sink)

  if (meta.MovedFrom === meta.StackName) {
    sink.error(
      doc.locate(['Metadata', 'MovedFrom']),
      'invalid-value',
      'MovedFrom names the stack itself; it must name the stack’s previous StackName',
    )
  }
  if (sink.errors.length > errorsBefore) return undefined
  return {
    file: doc.file,
    stackName: meta.StackName,
    scope: meta.Scope?.Type ?? 'region',
    select,
    movedFrom: meta.MovedFrom,
    parameters,
    body,
    at: doc.locate(['Metadata', 'StackName']),
    locate: (path) => doc.locate(path),
    ...(meta.MovedFrom === undefined ? {} : { movedFromAt: doc.locate(['Metadata', 'MovedFrom']) }),
  }
}

/** The names of a template's transforms: `Transform: X`, a list of names, or `{ Name: X }` entries. */
function transformsOf(transform: unknown): string[] {
  const list = Array.isArray(transform) ? transform : transform === undefined ? [] : [transform]
  return list.map((t) =>
    typeof t === 'string'
      ? t
      : t !== null && typeof t === 'object' && typeof (t as { Name?: unknown }).Name === 'string'
        ? (t as { Name: string }).Name
        : '?',
  )
}

/**
 * Checks a resource's type and top-level property names against AWS's resource specification,
 * so that a misspelt type or property is found before CloudFormation rejects the stack, account by
 * account. Left alone: custom resources, modules, third-party types (other vendors), templates a
 * macro rewrites (a transform that is not AWS's own), and SAM's types under SAM's transform.
 */
function checkResourceType(
  doc: ParsedDocument,
  logicalId: string,
  type: string,
  properties: unknown,
  transforms: readonly string[],
  sink: DiagnosticSink,
): void {
  const vendor = type.split('::')[0]!
  if (!SPECIFIED_VENDORS.has(vendor.toLowerCase()) || type.endsWith('::MODULE') || type.includes('{{')) return
  if (transforms.some((t) => !t.startsWith('AWS::'))) return // a macro may define its own types and keys
  if (type.startsWith('AWS::Serverless::') && transforms.includes('AWS::Serverless-2016-10-31')) return
  const known = awsResourceType(type)
  if (!known) {
    sink.error(
      doc.locate(['Resources', logicalId, 'Type']),
      'unknown-resource-type',
      `unknown resource type "${type}"${didYouMean(type, allAwsResourceTypes()) || ' (not in the CloudFormation resource specification)'}`,
    )
    return
  }
  if (known.transform !== undefined && !transforms.includes(known.transform)) {
    sink.error(
      doc.locate(['Resources', logicalId, 'Type']),
      'unknown-resource-type',
      `${type} exists only with the ${known.transform} transform; add "Transform: ${known.transform}" to the template`,
    )
    return
  }
  if (FREE_FORM_TYPES.has(type)) return
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) return
  if (properties instanceof CfnTag) return // !If and friends choose the properties at deploy time
  const names = [...known.properties.keys()]
  for (const name of Object.keys(properties)) {
    // Fn::If, Fn::Transform (AWS::Include) and other intrinsics may stand in for properties.
    if (name.startsWith('Fn::') || name.includes('{{') || known.properties.has(name)) continue
    const hint =
      didYouMean(name, names) ||
      (names.length === 0
        ? ` (it has no properties)`
        : names.length <= MAX_LISTED_PROPERTIES
          ? ` (its properties: ${[...names].sort().join(', ')})`
          : '')
    sink.error(
      doc.locateKey(['Resources', logicalId, 'Properties', name]),
      'unknown-property',
      `${type} has no property "${name}"${hint}`,
    )
  }
}

/** The template as CloudFormation receives it: Flotilla's Metadata keys removed, all else kept. */
function withoutFlotillaMetadata(template: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(template)) {
    if (key !== 'Metadata') {
      out[key] = value
      continue
    }
    const rest = Object.fromEntries(Object.entries(value as object).filter(([k]) => !FLOTILLA_KEYS.has(k)))
    if (Object.keys(rest).length > 0) out[key] = rest
  }
  return out
}

function checkNames(stacks: readonly StackTemplate[], sink: DiagnosticSink): void {
  const byName = new Map<string, StackTemplate>()
  for (const stack of stacks) {
    const first = byName.get(stack.stackName)
    if (first) {
      sink.error(
        stack.at,
        'duplicate-id',
        `duplicate StackName "${stack.stackName}" (also in ${first.file}:${first.at.line}:${first.at.col}); each stack needs its own name`,
      )
    } else {
      byName.set(stack.stackName, stack)
    }
  }
  for (const stack of stacks) {
    const taken = stack.movedFrom === undefined ? undefined : byName.get(stack.movedFrom)
    if (taken && taken !== stack) {
      sink.error(
        stack.at,
        'invalid-value',
        `MovedFrom "${stack.movedFrom}" is still the StackName of ${taken.file}; a stack can only move from a name no longer in use`,
      )
    }
  }
}
