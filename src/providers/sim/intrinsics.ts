/**
 * Evaluates the CloudFormation intrinsic functions the simulator needs to give resources their
 * real values (a zone's `Name: !Sub "${DomainName}."`, a record set's `HostedZoneId: !Ref Zone`).
 * Pure. Templates arrive in long form (`{ "Fn::Sub": … }`).
 *
 * Only what can be known without a cloud is evaluated; anything else (`Fn::ImportValue`,
 * conditions, `Fn::GetAZs`) raises {@link UnresolvableError}, and the resource that needs it
 * fails the way CloudFormation would fail a template it cannot resolve — never a guess.
 */

/** What references resolve to in one stack. */
export interface IntrinsicContext {
  readonly accountId: string
  readonly region: string
  readonly stackName: string
  /** Parameter values (strings, as CloudFormation receives them). */
  readonly parameters: Readonly<Record<string, string>>
  /** Physical ids of the stack's resources, by logical id (what `Ref` returns). */
  readonly physicalIds: Readonly<Record<string, string>>
  /** `GetAtt` values by `LogicalId.Attribute`, where the simulator knows them. */
  readonly attributes?: Readonly<Record<string, unknown>>
}

/** A value the simulator cannot evaluate. */
export class UnresolvableError extends Error {
  override readonly name = 'UnresolvableError'
}

function pseudo(name: string, context: IntrinsicContext): string | undefined {
  switch (name) {
    case 'AWS::AccountId':
      return context.accountId
    case 'AWS::Region':
      return context.region
    case 'AWS::StackName':
      return context.stackName
    case 'AWS::Partition':
      return 'aws'
    case 'AWS::URLSuffix':
      return 'amazonaws.com'
    case 'AWS::NoValue':
      return undefined
    default:
      return undefined
  }
}

function ref(name: string, context: IntrinsicContext): unknown {
  // Own keys only: `Ref: toString` names no parameter, whatever Object.prototype holds.
  if (Object.hasOwn(context.parameters, name)) return context.parameters[name]
  if (Object.hasOwn(context.physicalIds, name)) return context.physicalIds[name]
  const value = pseudo(name, context)
  if (value !== undefined) return value
  throw new UnresolvableError(`Ref ${name}: no parameter, resource or pseudo parameter of that name`)
}

function getAtt(target: unknown, context: IntrinsicContext): unknown {
  // `Cache.PrimaryEndPoint.Address`: the logical id ends at the first dot, the attribute is the rest.
  const text = String(target)
  const dot = text.indexOf('.')
  const [logicalId, attribute] = Array.isArray(target)
    ? target
    : dot < 0
      ? [text, undefined]
      : [text.slice(0, dot), text.slice(dot + 1)]
  const key = `${String(logicalId)}.${String(attribute)}`
  if (context.attributes && Object.hasOwn(context.attributes, key)) return context.attributes[key]
  if (typeof logicalId === 'string' && Object.hasOwn(context.physicalIds, logicalId)) {
    // Attributes the simulator does not model are derived from the physical id: stable and unique.
    return `${context.physicalIds[logicalId]}/${String(attribute)}`
  }
  throw new UnresolvableError(`Fn::GetAtt ${key}: no such resource`)
}

function sub(argument: unknown, context: IntrinsicContext): string {
  const [text, variables] = Array.isArray(argument) ? argument : [argument, {}]
  if (typeof text !== 'string') throw new UnresolvableError('Fn::Sub needs a string')
  const vars = (variables ?? {}) as Record<string, unknown>
  return text.replace(/\$\{(!?)([^}]*)\}/g, (_match, bang: string, name: string) => {
    if (bang) return `\${${name}}` // ${!Literal} is the literal ${Literal}
    if (Object.hasOwn(vars, name)) return String(evaluateIntrinsics(vars[name], context))
    if (name.includes('.')) return String(getAtt(name, context))
    return String(ref(name, context))
  })
}

/**
 * Evaluates every intrinsic function in `value`. Plain values come back unchanged.
 *
 * @throws UnresolvableError for what only a cloud could answer.
 */
export function evaluateIntrinsics(value: unknown, context: IntrinsicContext): unknown {
  if (Array.isArray(value)) return value.map((item) => evaluateIntrinsics(item, context))
  if (value === null || typeof value !== 'object') return value
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length === 1) {
    const [key, argument] = entries[0]!
    switch (key) {
      case 'Ref':
        return ref(String(argument), context)
      case 'Fn::Sub':
        return sub(argument, context)
      case 'Fn::GetAtt':
        return getAtt(argument, context)
      case 'Fn::Join': {
        const [separator, items] = argument as [string, unknown]
        const list = evaluateIntrinsics(items, context)
        if (!Array.isArray(list)) throw new UnresolvableError('Fn::Join needs a list')
        return list.map(String).join(separator)
      }
      case 'Fn::Select': {
        const [index, items] = argument as [unknown, unknown]
        const list = evaluateIntrinsics(items, context)
        const at = Number(evaluateIntrinsics(index, context))
        if (!Array.isArray(list) || !(at in list))
          throw new UnresolvableError('Fn::Select index out of range')
        return list[at]
      }
      case 'Fn::Split': {
        const [separator, text] = argument as [string, unknown]
        return String(evaluateIntrinsics(text, context)).split(separator)
      }
      default:
        if (key.startsWith('Fn::') || key === 'Condition') {
          throw new UnresolvableError(`${key} is not evaluated by the simulated fleet`)
        }
    }
  }
  const out: Record<string, unknown> = {}
  for (const [key, item] of entries) out[key] = evaluateIntrinsics(item, context)
  return out
}
