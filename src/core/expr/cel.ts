import { Environment } from '@marcbachmann/cel-js'
import { didYouMean } from '../suggest.ts'

/**
 * Where an expression appears, which decides the variables it may use. One language (CEL)
 * everywhere; each place gets exactly the variables that make sense there, typed, so that a
 * misspelt field (`target.enviroment`) is a validation error, not a silently false selector.
 */
export type ExpressionPlace =
  | 'stack-select'
  | 'stack-template'
  | 'component-select'
  | 'manifest-template'
  | 'stage-select'
  | 'gate-template'
  | 'gate-condition'
  | 'policy-change'
  | 'policy-plan'

const TARGET_FIELDS = {
  id: 'string',
  kind: 'string',
  name: 'string',
  team: 'string',
  environment: 'string',
  criticality: 'string',
  channel: 'string',
  group: 'string',
  lifecycle: 'string',
  provider: 'string',
  account: 'string',
  regions: 'list<string>',
  tags: 'map<string, string>',
  config: 'map<string, dyn>',
} as const

const ACCOUNT_FIELDS = {
  id: 'string',
  name: 'string',
  team: 'string',
  environment: 'string',
  criticality: 'string',
  costCenter: 'string',
  group: 'string',
  channel: 'string',
  regions: 'list<string>',
  lifecycle: 'string',
  provider: 'string',
  tags: 'map<string, string>',
  config: 'map<string, dyn>',
} as const

const CLUSTER_FIELDS = {
  id: 'string',
  alias: 'string',
  account: 'string',
  region: 'string',
  environment: 'string',
  channel: 'string',
  criticality: 'string',
  kubernetesVersion: 'string',
  lifecycle: 'string',
  provider: 'string',
  team: 'string',
  group: 'string',
  tags: 'map<string, string>',
  nodePools: 'list<dyn>',
  config: 'map<string, dyn>',
} as const

const FLEET_FIELDS = { name: 'string', provider: 'string', requiredTags: 'list<string>' } as const

const CHANGE_FIELDS = {
  address: 'string',
  action: 'string',
  type: 'string',
  protected: 'bool',
  target: 'string',
  stage: 'string',
  properties: 'list<dyn>',
} as const

const PLAN_FIELDS = { summary: 'map<string, dyn>', findings: 'list<dyn>' } as const

type Schema = Readonly<Record<string, string>>
type Variable = { readonly name: string; readonly schema?: Schema; readonly type?: string }

const target: Variable = { name: 'target', schema: TARGET_FIELDS }
const account: Variable = { name: 'account', schema: ACCOUNT_FIELDS }
const cluster: Variable = { name: 'cluster', schema: CLUSTER_FIELDS }
const fleet: Variable = { name: 'fleet', schema: FLEET_FIELDS }
const config: Variable = { name: 'config', type: 'map<string, dyn>' }
const region: Variable = { name: 'region', type: 'string' }
const now: Variable = { name: 'now', type: 'google.protobuf.Timestamp' }

const VARIABLES: Record<ExpressionPlace, readonly Variable[]> = {
  'stack-select': [account, target, config, fleet],
  'stack-template': [account, target, config, fleet, region],
  'component-select': [cluster, account, target, config, fleet],
  'manifest-template': [cluster, account, target, config, fleet, region],
  'stage-select': [target, fleet],
  'gate-template': [target, account, config, fleet],
  'gate-condition': [{ name: 'result', type: 'dyn' }, target],
  'policy-change': [{ name: 'change', schema: CHANGE_FIELDS }, target, now, fleet],
  'policy-plan': [{ name: 'plan', schema: PLAN_FIELDS }, now, fleet],
}

/** A compiled expression: parsed and type-checked once, evaluated many times. */
export interface CompiledExpression {
  readonly source: string
  /** The checked result type, e.g. `bool`, `string`, `dyn`. */
  readonly type: string
  /** Evaluates against a context built by {@link celContext}; throws {@link ExpressionError}. */
  evaluate(context: Readonly<Record<string, unknown>>): unknown
}

/** Why an expression could not be compiled or evaluated, with the offset inside the expression. */
export class ExpressionError extends Error {
  readonly offset: number
  constructor(message: string, offset: number, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ExpressionError'
    this.offset = offset
  }
}

interface CelLikeError {
  summary?: string
  message: string
  range?: { start: number; end: number }
}

const environments = new Map<ExpressionPlace, Environment>()
const cache = new Map<string, CompiledExpression | ExpressionError>()
const FIELD_NAMES = new Set(
  [TARGET_FIELDS, ACCOUNT_FIELDS, CLUSTER_FIELDS, FLEET_FIELDS, CHANGE_FIELDS, PLAN_FIELDS].flatMap(
    Object.keys,
  ),
)

function environmentFor(place: ExpressionPlace): Environment {
  let env = environments.get(place)
  if (!env) {
    env = new Environment({ homogeneousAggregateLiterals: false })
    for (const v of VARIABLES[place]) {
      if (v.schema) env.registerVariable({ name: v.name, schema: { ...v.schema } })
      else env.registerVariable(v.name, v.type!)
    }
    environments.set(place, env)
  }
  return env
}

/** The variable names an expression in `place` may use. */
export function variablesOf(place: ExpressionPlace): string[] {
  return VARIABLES[place].map((v) => v.name)
}

/**
 * Parses and type-checks `source` for `place`. Results are cached by (place, source): the same
 * `{{ config.dns_domain }}` in a hundred files is compiled once. Returns an {@link ExpressionError}
 * with a helpful message instead of throwing.
 */
export function compileExpression(
  source: string,
  place: ExpressionPlace,
): CompiledExpression | ExpressionError {
  const key = `${place}\0${source}`
  const cached = cache.get(key)
  if (cached) return cached
  const result = compileUncached(source, place)
  cache.set(key, result)
  return result
}

function compileUncached(source: string, place: ExpressionPlace): CompiledExpression | ExpressionError {
  const env = environmentFor(place)
  let program: ReturnType<Environment['parse']>
  try {
    program = env.parse(source)
  } catch (error) {
    return toExpressionError(error, place, 'syntax error')
  }
  const checked = program.check()
  if (!checked.valid) return toExpressionError(checked.error, place, 'type error')
  return {
    source,
    type: String(checked.type),
    evaluate(context) {
      try {
        return program(context as Record<string, unknown>)
      } catch (error) {
        throw toExpressionError(error, place, 'evaluation error')
      }
    },
  }
}

function toExpressionError(error: unknown, place: ExpressionPlace, kind: string): ExpressionError {
  const e = error as CelLikeError
  const summary = e.summary ?? e.message.split('\n')[0] ?? String(error)
  let hint = ''
  const unknownVariable = /^Unknown variable: (\w+)/.exec(summary)
  if (unknownVariable) {
    const names = variablesOf(place)
    hint = `${didYouMean(unknownVariable[1]!, names)} (available here: ${names.join(', ')})`
  }
  const noKey = /^No such key: (\w+)/.exec(summary)
  if (noKey) hint = didYouMean(noKey[1]!, FIELD_NAMES)
  return new ExpressionError(`CEL ${kind}: ${summary}${hint}`, e.range?.start ?? 0, { cause: error })
}

/**
 * Converts plain data (YAML values) to CEL values: whole numbers become CEL `int`s (bigint) so
 * that `config.replicas + 1` works; everything else is kept.
 */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value
  if (Array.isArray(value)) return value.map(toCel)
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = toCel(v)
    return out
  }
  return value
}

/** Converts a CEL result back to plain data for YAML: ints to numbers, timestamps to ISO strings. */
export function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
      return value.toString()
    return Number(value)
  }
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), fromCel(v)]))
  if (Array.isArray(value)) return value.map(fromCel)
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = fromCel(v)
    return out
  }
  return value
}

/**
 * A timestamp for CEL that is read many times, such as a policy's `now` evaluated once per change.
 * CEL's time-zone accessors (`now.getDayOfWeek('Europe/Berlin')`) convert with
 * `toLocaleString(…, { timeZone })`, which costs about 0.15 ms a call — seconds over a plan of
 * ten thousand changes. The conversion of one instant is always the same, so this Date remembers
 * it; it stays a plain `Date` (CEL accepts no subclass as a timestamp).
 */
export function celTimestamp(instant: Date): Date {
  const timestamp = new Date(instant.getTime())
  const converted = new Map<string, string>()
  Object.defineProperty(timestamp, 'toLocaleString', {
    value(locales?: Intl.LocalesArgument, options?: Intl.DateTimeFormatOptions): string {
      const key = JSON.stringify([locales, options])
      let text = converted.get(key)
      if (text === undefined) {
        text = Date.prototype.toLocaleString.call(timestamp, locales, options)
        converted.set(key, text)
      }
      return text
    },
  })
  return timestamp
}
