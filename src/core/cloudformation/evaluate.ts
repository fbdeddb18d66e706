/**
 * Evaluates a CloudFormation template for one stack the way CloudFormation will: its
 * `Conditions` (and every `Condition` and `Fn::If` that reads them), `Mappings`, and the intrinsic
 * functions whose inputs are known offline — parameters, `Metadata.Parameters`, defaults and the
 * pseudo parameters Flotilla knows. What a plan compares is then what CloudFormation creates: a
 * resource whose condition turns false is gone, a mapping value that feeds a `BucketName` is the
 * bucket's name.
 *
 * Values that only exist once the stack runs (`Fn::GetAtt`, a `Ref` to a resource,
 * `Fn::ImportValue`, `Fn::GetAZs`, dynamic references `{{resolve:…}}`, SSM parameter types) stay as
 * the intrinsic function, with what is known of its arguments resolved: {@link isKnown} tells them
 * apart, and the plan treats a change to such a value as one it cannot see through (fail closed).
 */

/** A template section as CloudFormation reads it (long form: `{ "Fn::If": … }`). */
type Json = Record<string, unknown>

/** What evaluating a template needs besides the template: the stack's inputs. */
export interface TemplateInputs {
  /** Parameter values as CloudFormation receives them (strings); a parameter without one takes its `Default`. */
  readonly parameters: ReadonlyMap<string, string>
  readonly accountId: string
  readonly region: string
  readonly stackName: string
}

/** Something CloudFormation would reject (or that cannot be evaluated) at a path of the template. */
export interface EvaluationProblem {
  /** Path inside the template: `['Resources', 'Zone', 'Properties', 'Name']`. */
  readonly path: readonly (string | number)[]
  readonly message: string
  /**
   * `error`: CloudFormation rejects the template whatever its inputs (an undefined condition or
   * name, a malformed function). `warning`: it fails for these inputs only (a mapping without
   * this region's key, an index outside this list) — the stack cannot be created or updated here.
   */
  readonly severity: 'error' | 'warning'
}

/** A resource as CloudFormation will create it: its condition held, its intrinsics resolved where known. */
export type EvaluatedResource = Readonly<Record<string, unknown>>

/** The result of evaluating one stack's template. */
export interface EvaluatedTemplate {
  /** Resources whose `Condition` is true (or cannot be known), by logical id. */
  readonly resources: Readonly<Record<string, EvaluatedResource>>
  /** Each condition's value; `unknown` when it reads a value known only at deploy time. */
  readonly conditions: ReadonlyMap<string, boolean | 'unknown'>
  /** Resources left out because their condition is false, by logical id, with the condition. */
  readonly excluded: ReadonlyMap<string, string>
  readonly problems: readonly EvaluationProblem[]
}

/** `Ref: AWS::NoValue`: the property (or list item) is removed. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue')

/** Pseudo parameters CloudFormation knows only when the stack exists. */
const DEPLOY_TIME_PSEUDO = new Set(['AWS::StackId', 'AWS::NotificationARNs'])

/**
 * Evaluates `template` (long form) with `inputs`. Never throws: what CloudFormation would reject
 * (an undefined condition, a missing mapping key, an index out of range) is a problem at its path,
 * and the value there is left unknown.
 */
export function evaluateTemplate(template: Json, inputs: TemplateInputs): EvaluatedTemplate {
  const evaluator = new TemplateEvaluator(template, inputs)
  return evaluator.run()
}

/**
 * Whether a value evaluated by {@link evaluateTemplate} is fully known offline: no intrinsic
 * function is left in it and no dynamic reference (`{{resolve:ssm:…}}`).
 */
export function isKnown(value: unknown): boolean {
  if (typeof value === 'string') return !value.includes('{{resolve:')
  if (Array.isArray(value)) return value.every(isKnown)
  if (value === null || typeof value !== 'object') return true
  const keys = Object.keys(value)
  if (keys.length === 1 && isIntrinsicKey(keys[0]!)) {
    // Base64 of a known string is known: it is kept readable instead of encoded.
    return keys[0] === 'Fn::Base64' && isKnown((value as Json)['Fn::Base64'])
  }
  return Object.values(value).every(isKnown)
}

/** `Ref`, `Condition` and every `Fn::…` key: the keys that make a one-key object an intrinsic function. */
export function isIntrinsicKey(key: string): boolean {
  return key === 'Ref' || key === 'Condition' || key.startsWith('Fn::')
}

/** The logical ids of resources a value refers to through `Ref`, `Fn::GetAtt` or `${…}` in `Fn::Sub`. */
export function referencedResources(value: unknown, resourceIds: ReadonlySet<string>): Set<string> {
  const out = new Set<string>()
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(visit)
      return
    }
    if (v === null || typeof v !== 'object') return
    for (const [key, inner] of Object.entries(v)) {
      if (key === 'Ref' && typeof inner === 'string' && resourceIds.has(inner)) out.add(inner)
      else if (key === 'Fn::GetAtt') {
        const id = Array.isArray(inner)
          ? inner[0]
          : typeof inner === 'string'
            ? inner.split('.')[0]
            : undefined
        if (typeof id === 'string' && resourceIds.has(id)) out.add(id)
      } else if (key === 'Fn::Sub') {
        const text = Array.isArray(inner) ? inner[0] : inner
        if (typeof text === 'string') {
          for (const m of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
            const id = m[1]!.split('.')[0]!
            if (resourceIds.has(id)) out.add(id)
          }
        }
      }
      visit(inner)
    }
  }
  visit(value)
  return out
}

/** The partition a region belongs to, and its URL suffix. */
function partitionOf(region: string): { partition: string; urlSuffix: string } {
  if (region.startsWith('cn-')) return { partition: 'aws-cn', urlSuffix: 'amazonaws.com.cn' }
  if (region.startsWith('us-gov-')) return { partition: 'aws-us-gov', urlSuffix: 'amazonaws.com' }
  return { partition: 'aws', urlSuffix: 'amazonaws.com' }
}

type Path = (string | number)[]

class TemplateEvaluator {
  private readonly problems: EvaluationProblem[] = []
  private readonly conditionValues = new Map<string, boolean | 'unknown'>()
  private readonly evaluating = new Set<string>()
  private readonly conditionDefinitions: Json
  private readonly mappings: Json
  private readonly resourceIds: Set<string>
  private readonly parameterTypes = new Map<string, string>()
  private readonly parameterDefaults = new Map<string, string>()
  private readonly pseudo: ReadonlyMap<string, string>
  /** A transform (SAM, a macro) may add resources and names the template does not declare. */
  private readonly open: boolean

  private readonly template: Json
  private readonly inputs: TemplateInputs

  constructor(template: Json, inputs: TemplateInputs) {
    this.template = template
    this.inputs = inputs
    this.conditionDefinitions = asObject(template.Conditions)
    this.mappings = asObject(template.Mappings)
    const resources = asObject(template.Resources)
    this.resourceIds = new Set(Object.keys(resources))
    for (const [name, declaration] of Object.entries(asObject(template.Parameters))) {
      const { Type: type, Default: fallback } = asObject(declaration)
      this.parameterTypes.set(name, typeof type === 'string' ? type : 'String')
      if (fallback !== undefined && fallback !== null)
        this.parameterDefaults.set(
          name,
          Array.isArray(fallback) ? fallback.map(String).join(',') : String(fallback),
        )
    }
    const { partition, urlSuffix } = partitionOf(inputs.region)
    this.pseudo = new Map([
      ['AWS::AccountId', inputs.accountId],
      ['AWS::Region', inputs.region],
      ['AWS::StackName', inputs.stackName],
      ['AWS::Partition', partition],
      ['AWS::URLSuffix', urlSuffix],
    ])
    this.open =
      template.Transform !== undefined || Object.keys(resources).some((id) => id.startsWith('Fn::ForEach::'))
  }

  run(): EvaluatedTemplate {
    for (const name of Object.keys(this.conditionDefinitions)) this.condition(name, ['Conditions', name])
    const resources: Record<string, EvaluatedResource> = {}
    const excluded = new Map<string, string>()
    for (const [id, raw] of Object.entries(asObject(this.template.Resources))) {
      const path: Path = ['Resources', id]
      // Fn::ForEach entries are expanded by CloudFormation's language extensions: kept as written.
      if (id.startsWith('Fn::ForEach::') || !isObject(raw)) {
        resources[id] = raw as EvaluatedResource
        continue
      }
      const { Condition: condition, ...rest } = raw
      let holds: boolean | 'unknown' = true
      if (condition !== undefined) {
        if (typeof condition !== 'string') {
          this.problem(
            [...path, 'Condition'],
            'a resource Condition must name a condition of the Conditions section',
          )
          holds = 'unknown'
        } else holds = this.condition(condition, [...path, 'Condition'])
      }
      if (holds === false) {
        excluded.set(id, condition as string)
        continue
      }
      const evaluated: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(rest)) {
        // The type is the resource's identity: never evaluated, so a change of it is always seen.
        const out = key === 'Type' ? value : this.value(value, [...path, key])
        if (out !== NO_VALUE) evaluated[key] = out
      }
      // A condition that cannot be known offline stays visible on the resource.
      if (holds === 'unknown') evaluated.Condition = condition
      resources[id] = evaluated
    }
    return { resources, conditions: this.conditionValues, excluded, problems: this.problems }
  }

  private problem(path: Path, message: string, severity: 'error' | 'warning' = 'error'): void {
    this.problems.push({ path, message, severity })
  }

  /** A named condition's value, evaluated once; a cycle or an undefined name is a problem. */
  private condition(name: string, at: Path): boolean | 'unknown' {
    const known = this.conditionValues.get(name)
    if (known !== undefined) return known
    if (!Object.hasOwn(this.conditionDefinitions, name)) {
      this.problem(
        at,
        `condition "${name}" is not defined in the Conditions section${this.suggestCondition(name)}`,
      )
      return 'unknown'
    }
    if (this.evaluating.has(name)) {
      this.problem(at, `condition "${name}" refers to itself (through ${[...this.evaluating].join(' → ')})`)
      return 'unknown'
    }
    this.evaluating.add(name)
    const value = this.conditionExpression(this.conditionDefinitions[name], ['Conditions', name])
    this.evaluating.delete(name)
    this.conditionValues.set(name, value)
    return value
  }

  private suggestCondition(name: string): string {
    const lower = name.toLowerCase()
    const near = Object.keys(this.conditionDefinitions).find((c) => c.toLowerCase() === lower)
    return near ? `; did you mean "${near}"?` : ''
  }

  /** A condition function: `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`. Three-valued. */
  private conditionExpression(expression: unknown, path: Path): boolean | 'unknown' {
    if (!isObject(expression) || Object.keys(expression).length !== 1) {
      this.problem(path, 'a condition must be one of Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition')
      return 'unknown'
    }
    const [key, args] = Object.entries(expression)[0]!
    const inner = [...path, key]
    switch (key) {
      case 'Condition':
        if (typeof args !== 'string') {
          this.problem(inner, 'Condition must name a condition')
          return 'unknown'
        }
        return this.condition(args, inner)
      case 'Fn::Equals': {
        if (!Array.isArray(args) || args.length !== 2) {
          this.problem(inner, 'Fn::Equals takes a list of two values')
          return 'unknown'
        }
        const [a, b] = args.map((arg, i) => this.value(arg, [...inner, i]))
        if (!isKnown(a) || !isKnown(b)) return 'unknown'
        return canonical(a) === canonical(b)
      }
      case 'Fn::Not': {
        const operand = Array.isArray(args) && args.length === 1 ? args[0] : undefined
        if (operand === undefined) {
          this.problem(inner, 'Fn::Not takes a list of one condition')
          return 'unknown'
        }
        const value = this.conditionExpression(operand, [...inner, 0])
        return value === 'unknown' ? value : !value
      }
      case 'Fn::And':
      case 'Fn::Or': {
        if (!Array.isArray(args) || args.length < 2 || args.length > 10) {
          this.problem(inner, `${key} takes a list of 2 to 10 conditions`)
          return 'unknown'
        }
        const values = args.map((arg, i) => this.conditionExpression(arg, [...inner, i]))
        // And is decided by a false operand, Or by a true one.
        const decisive = key !== 'Fn::And'
        if (values.includes(decisive)) return decisive
        return values.includes('unknown') ? 'unknown' : !decisive
      }
      default:
        this.problem(
          inner,
          `${key} cannot be used as a condition; use Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition`,
        )
        return 'unknown'
    }
  }

  /** A property value with every intrinsic function resolved where its inputs are known. */
  private value(value: unknown, path: Path): unknown {
    if (Array.isArray(value)) {
      const out: unknown[] = []
      value.forEach((item, i) => {
        const v = this.value(item, [...path, i])
        if (v !== NO_VALUE) out.push(v)
      })
      return out
    }
    if (!isObject(value)) return value
    const keys = Object.keys(value)
    if (keys.length === 1 && isIntrinsicKey(keys[0]!) && keys[0] !== 'Condition') {
      return this.intrinsic(keys[0]!, value[keys[0]!], [...path, keys[0]!])
    }
    const out: Record<string, unknown> = {}
    for (const key of keys) {
      const v = this.value(value[key], [...path, key])
      if (v !== NO_VALUE) out[key] = v
    }
    return out
  }

  private intrinsic(name: string, args: unknown, path: Path): unknown {
    switch (name) {
      case 'Ref':
        return this.ref(args, path)
      case 'Fn::If':
        return this.fnIf(args, path)
      case 'Fn::FindInMap':
        return this.findInMap(args, path)
      case 'Fn::Join':
        return this.join(args, path)
      case 'Fn::Sub':
        return this.sub(args, path)
      case 'Fn::Select':
        return this.select(args, path)
      case 'Fn::Split':
        return this.split(args, path)
      case 'Fn::Length': {
        const list = this.value(args, path)
        return Array.isArray(list) && isKnown(list) ? list.length : { [name]: list }
      }
      case 'Fn::ToJsonString': {
        const inner = this.value(args, path)
        return isKnown(inner) ? JSON.stringify(inner) : { [name]: inner }
      }
      default: {
        // Base64 and the deploy-time functions keep their form; known arguments are still resolved
        // (a GetAtt's attribute may be a Ref, an ImportValue's name a Sub).
        // Functions Flotilla does not evaluate (language extensions, newer ones) are kept as
        // well, and so count as unknown: failing closed.
        return { [name]: this.value(args, path) }
      }
    }
  }

  private ref(name: unknown, path: Path): unknown {
    if (typeof name !== 'string') {
      const inner = this.value(name, path)
      return { Ref: inner }
    }
    if (name === 'AWS::NoValue') return NO_VALUE
    const pseudo = this.pseudo.get(name)
    if (pseudo !== undefined) return pseudo
    if (DEPLOY_TIME_PSEUDO.has(name)) return { Ref: name }
    const type = this.parameterTypes.get(name)
    if (type !== undefined) {
      // SSM parameter types are read from Parameter Store when the stack is deployed.
      if (type.startsWith('AWS::SSM::Parameter::Value<')) return { Ref: name }
      const value = this.inputs.parameters.get(name) ?? this.parameterDefaults.get(name)
      if (value === undefined) return { Ref: name }
      return type === 'CommaDelimitedList' || type.startsWith('List<')
        ? value === ''
          ? []
          : value.split(',').map((s) => s.trim())
        : value
    }
    if (this.resourceIds.has(name)) return { Ref: name }
    if (!this.open) {
      this.problem(path, `Ref "${name}" names no parameter, resource or pseudo parameter of this template`)
    }
    return { Ref: name }
  }

  private fnIf(args: unknown, path: Path): unknown {
    if (!Array.isArray(args) || args.length !== 3 || typeof args[0] !== 'string') {
      this.problem(path, 'Fn::If takes [condition name, value if true, value if false]')
      return { 'Fn::If': args }
    }
    const holds = this.condition(args[0], [...path, 0])
    if (holds === true) return this.value(args[1], [...path, 1])
    if (holds === false) return this.value(args[2], [...path, 2])
    const whenTrue = this.value(args[1], [...path, 1])
    const whenFalse = this.value(args[2], [...path, 2])
    return {
      'Fn::If': [
        args[0],
        whenTrue === NO_VALUE ? { Ref: 'AWS::NoValue' } : whenTrue,
        whenFalse === NO_VALUE ? { Ref: 'AWS::NoValue' } : whenFalse,
      ],
    }
  }

  private findInMap(args: unknown, path: Path): unknown {
    if (!Array.isArray(args) || args.length < 3 || args.length > 4) {
      this.problem(path, 'Fn::FindInMap takes [map name, top-level key, second-level key]')
      return { 'Fn::FindInMap': args }
    }
    const [map, top, second] = args.slice(0, 3).map((a, i) => this.value(a, [...path, i]))
    const options = args.length === 4 ? asObject(this.value(args[3], [...path, 3])) : {}
    const fallback = Object.hasOwn(options, 'DefaultValue') ? options.DefaultValue : undefined
    if (![map, top, second].every((k) => isKnown(k) && isScalar(k))) {
      return { 'Fn::FindInMap': [map, top, second, ...(args.length === 4 ? [options] : [])] }
    }
    const mapping = this.mappings[String(map)]
    if (!isObject(mapping)) {
      if (fallback !== undefined) return fallback
      this.problem([...path, 0], `mapping "${String(map)}" is not defined in the Mappings section`)
      return { 'Fn::FindInMap': [map, top, second] }
    }
    const level = mapping[String(top)]
    const value = isObject(level) ? level[String(second)] : undefined
    if (value === undefined) {
      if (fallback !== undefined) return fallback
      this.problem(
        path,
        isObject(level)
          ? `mapping "${String(map)}" has no key "${String(second)}" under "${String(top)}" (keys: ${Object.keys(level).join(', ')}); CloudFormation would fail to create or update the stack here`
          : `mapping "${String(map)}" has no key "${String(top)}" (keys: ${Object.keys(mapping).join(', ')}); CloudFormation would fail to create or update the stack here`,
        'warning',
      )
      return { 'Fn::FindInMap': [map, top, second] }
    }
    return value
  }

  private join(args: unknown, path: Path): unknown {
    if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string') {
      this.problem(path, 'Fn::Join takes [delimiter, list of values]')
      return { 'Fn::Join': args }
    }
    const list = this.value(args[1], [...path, 1])
    if (Array.isArray(list) && isKnown(list) && list.every(isScalar)) return list.map(String).join(args[0])
    return { 'Fn::Join': [args[0], list] }
  }

  private select(args: unknown, path: Path): unknown {
    if (!Array.isArray(args) || args.length !== 2) {
      this.problem(path, 'Fn::Select takes [index, list]')
      return { 'Fn::Select': args }
    }
    const index = this.value(args[0], [...path, 0])
    const list = this.value(args[1], [...path, 1])
    if (!isKnown(index) || !Array.isArray(list)) return { 'Fn::Select': [index, list] }
    const i = Number(index)
    if (!Number.isInteger(i) || i < 0 || i >= list.length) {
      this.problem(
        path,
        `Fn::Select index ${String(index)} is outside the list of ${list.length}; CloudFormation would fail to create or update the stack here`,
        'warning',
      )
      return { 'Fn::Select': [index, list] }
    }
    return list[i]
  }

  private split(args: unknown, path: Path): unknown {
    if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string') {
      this.problem(path, 'Fn::Split takes [delimiter, string]')
      return { 'Fn::Split': args }
    }
    const source = this.value(args[1], [...path, 1])
    return typeof source === 'string' && isKnown(source)
      ? source.split(args[0])
      : { 'Fn::Split': [args[0], source] }
  }

  /**
   * `Fn::Sub`: `${Param}`, `${AWS::Region}` and its own variables are put in; `${Resource}` and
   * `${Resource.Attr}` stay for CloudFormation, and so does `${!Literal}` while anything is left.
   */
  private sub(args: unknown, path: Path): unknown {
    const [text, rawVariables] = Array.isArray(args) ? [args[0], args[1]] : [args, undefined]
    if (typeof text !== 'string' || (Array.isArray(args) && (args.length !== 2 || !isObject(rawVariables)))) {
      this.problem(path, 'Fn::Sub takes a string, or [string, map of variables]')
      return { 'Fn::Sub': args }
    }
    const variables = new Map<string, unknown>()
    for (const [name, v] of Object.entries(asObject(rawVariables)))
      variables.set(name, this.value(v, [...path, 1, name]))
    let unresolved = false
    const replaced = text.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
      if (name.startsWith('!')) return whole
      const trimmed = name.trim()
      let value: unknown
      if (variables.has(trimmed)) value = variables.get(trimmed)
      else if (trimmed.includes('.')) value = { 'Fn::GetAtt': trimmed.split('.') }
      else value = this.ref(trimmed, path)
      if (isScalar(value) && isKnown(value)) return String(value)
      unresolved = true
      return whole
    })
    if (unresolved) {
      const kept = [...variables].filter(([, v]) => !(isScalar(v) && isKnown(v)))
      return { 'Fn::Sub': kept.length > 0 ? [replaced, Object.fromEntries(kept)] : replaced }
    }
    return replaced.replace(/\$\{!/g, '${')
  }
}

/** The value CloudFormation compares in `Fn::Equals`: strings and numbers alike by their text. */
function canonical(value: unknown): string {
  return isScalar(value) ? String(value) : JSON.stringify(value)
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
}

/** Whether a value is a mapping (not null, not a list). */
export function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** A mapping as it is, anything else as `{}`: templates are read leniently, validation is elsewhere. */
export function asObject(value: unknown): Json {
  return isObject(value) ? value : {}
}
