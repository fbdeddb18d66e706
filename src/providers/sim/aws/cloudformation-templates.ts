/**
 * Templates given to the simulated CloudFormation: parsed (JSON or YAML with short-form tags),
 * and their parameter values checked against their constraints, as CloudFormation does.
 */
import { DiagnosticSink } from '../../../core/diagnostics.ts'
import { isKnownAwsResourceType } from '../../../core/resource-types/aws.ts'
import { toLongForm } from '../../../core/yaml/cfn-tags.ts'
import { parseYamlFile } from '../../../core/yaml/parse.ts'
import type { SimStack } from '../sim-stacks.ts'
import type { AwsCall } from './aws-call.ts'
import { validationError } from './aws-errors.ts'

/** A `TemplateBody` in JSON or YAML (short-form tags such as `!Sub` allowed), in long form. */
export function parseTemplate(body: string): Record<string, unknown> {
  let value: unknown
  const trimmed = body.trimStart()
  if (trimmed.startsWith('{')) {
    try {
      value = JSON.parse(body)
    } catch (error) {
      throw validationError(`Template format error: JSON not well-formed. (${(error as Error).message})`)
    }
  } else {
    const sink = new DiagnosticSink()
    const parsed = parseYamlFile('template', body, sink)
    const problem = sink.errors[0]
    if (!parsed || problem)
      throw validationError(
        `Template format error: YAML not well-formed. (line ${problem?.line}, column ${problem?.col}: ${problem?.message})`,
      )
    value = toLongForm(parsed.documents[0]?.value)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw validationError('Template format error: the template must be a JSON or YAML object')
  const template = value as Record<string, unknown>
  const resources = template.Resources as Record<string, { Type?: unknown }> | undefined
  if (!resources || typeof resources !== 'object' || Object.keys(resources).length === 0)
    throw validationError('Template format error: At least one Resources member must be defined.')
  const unknown = Object.values(resources)
    .map((resource) => String(resource?.Type))
    .filter((type) => !type.startsWith('Custom::') && !isKnownAwsResourceType(type))
  if (unknown.length > 0)
    throw validationError(
      `Template format error: Unrecognized resource types: [${[...new Set(unknown)].join(', ')}]`,
    )
  return template
}

/** The parameter values of a change set: given ones, previous ones asked for, checked against the template. */
export function parametersOf(
  call: AwsCall,
  template: Record<string, unknown>,
  stack: SimStack | undefined,
): Record<string, string> {
  const declared = (template.Parameters ?? {}) as Record<string, { Default?: unknown }>
  const values: Record<string, string> = {}
  const undeclared: string[] = []
  for (let index = 1; call.params.has(`Parameters.member.${index}.ParameterKey`); index++) {
    const key = call.params.get(`Parameters.member.${index}.ParameterKey`)!
    if (!(key in declared)) undeclared.push(key)
    if (call.params.get(`Parameters.member.${index}.UsePreviousValue`) === 'true') {
      const previous = stack?.parameters[key]
      if (previous === undefined)
        throw validationError(
          `Invalid input for parameter key ${key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template`,
        )
      values[key] = previous
    } else values[key] = call.params.get(`Parameters.member.${index}.ParameterValue`) ?? ''
  }
  if (undeclared.length > 0)
    throw validationError(`Parameters: [${undeclared.join(', ')}] do not exist in the template`)
  const missing = Object.entries(declared)
    .filter(([key, declaration]) => values[key] === undefined && declaration?.Default === undefined)
    .map(([key]) => key)
  if (missing.length > 0) throw validationError(`Parameters: [${missing.join(', ')}] must have values`)
  for (const [key, declaration] of Object.entries(declared)) {
    const value = values[key] ?? declaration?.Default
    const problem = constraintProblem(key, declaration as ParameterDeclaration, String(value))
    if (problem) throw validationError(problem)
  }
  return values
}

/** A template's parameter declaration, as far as its constraints go. */
export interface ParameterDeclaration {
  readonly Type?: unknown
  readonly AllowedValues?: unknown
  readonly AllowedPattern?: unknown
  readonly ConstraintDescription?: unknown
  readonly MinLength?: unknown
  readonly MaxLength?: unknown
  readonly MinValue?: unknown
  readonly MaxValue?: unknown
}

/**
 * Why a parameter value breaks its declared constraints, in CloudFormation's words, or
 * undefined. CloudFormation checks them when a change set is created: Flotilla's own validation
 * does not, so this is where a value outside `AllowedValues` is first refused.
 */
export function constraintProblem(
  key: string,
  declaration: ParameterDeclaration,
  value: string,
): string | undefined {
  const list = typeof declaration.Type === 'string' && declaration.Type.includes('List')
  const items = list ? value.split(',').map((item) => item.trim()) : [value]
  const described = (fallback: string) =>
    typeof declaration.ConstraintDescription === 'string'
      ? `Parameter '${key}' failed to satisfy constraint: ${declaration.ConstraintDescription}`
      : fallback
  if (Array.isArray(declaration.AllowedValues)) {
    const allowed = declaration.AllowedValues.map(String)
    if (items.some((item) => !allowed.includes(item)))
      return described(`Parameter '${key}' must be one of AllowedValues`)
  }
  if (typeof declaration.AllowedPattern === 'string') {
    const pattern = new RegExp(`^(?:${declaration.AllowedPattern})$`)
    if (items.some((item) => !pattern.test(item)))
      return described(`Parameter '${key}' must match pattern ${declaration.AllowedPattern}`)
  }
  const number = (v: unknown) => (v === undefined ? undefined : Number(v))
  const minLength = number(declaration.MinLength)
  const maxLength = number(declaration.MaxLength)
  if (minLength !== undefined && value.length < minLength)
    return described(`Parameter '${key}' must contain at least ${minLength} characters`)
  if (maxLength !== undefined && value.length > maxLength)
    return described(`Parameter '${key}' must contain at most ${maxLength} characters`)
  const minValue = number(declaration.MinValue)
  const maxValue = number(declaration.MaxValue)
  if (minValue !== undefined && !(Number(value) >= minValue))
    return described(`Parameter '${key}' must be a number not less than ${minValue}`)
  if (maxValue !== undefined && !(Number(value) <= maxValue))
    return described(`Parameter '${key}' must be a number not greater than ${maxValue}`)
  return undefined
}
