/**
 * CloudFormation's short-form intrinsic functions (`!Ref`, `!Sub`, …). Flotilla never evaluates
 * them: it keeps each as a {@link CfnTag} so that rendering passes it through untouched and the
 * YAML it prints carries the same tag. The long form (`{ "Fn::Sub": … }`) is what the
 * CloudFormation API and the differ see.
 */
export class CfnTag {
  /** The tag as written, with its `!`: `!Ref`, `!GetAtt`. */
  readonly tag: string
  /** The tagged node's value: a string for `!Ref X`, a list for `!If [c, a, b]`, … */
  readonly value: unknown

  constructor(tag: string, value: unknown) {
    this.tag = tag
    this.value = value
  }
}

/** Short tag → long-form key. `!Ref` and `!Condition` are not `Fn::` functions in the long form. */
const LONG_FORM: ReadonlyMap<string, string> = new Map([
  ['!Ref', 'Ref'],
  ['!Condition', 'Condition'],
  ...[
    'And',
    'Base64',
    'Cidr',
    'Contains',
    'EachMemberEquals',
    'EachMemberIn',
    'Equals',
    'FindInMap',
    'ForEach',
    'GetAZs',
    'GetAtt',
    'If',
    'ImportValue',
    'Join',
    'Length',
    'Not',
    'Or',
    'RefAll',
    'Select',
    'Split',
    'Sub',
    'ToJsonString',
    'Transform',
    'ValueOf',
    'ValueOfAll',
  ].map((name) => [`!${name}`, `Fn::${name}`] as const),
])

/** Whether `tag` is one of CloudFormation's short-form tags. */
export function isCfnTag(tag: string): boolean {
  return LONG_FORM.has(tag)
}

/** Every known short-form tag, for "did you mean" suggestions. */
export const CFN_TAGS: readonly string[] = [...LONG_FORM.keys()]

/**
 * The long (JSON) form of a value that may contain short tags, as the CloudFormation API takes it.
 * `!GetAtt A.B` becomes `{ "Fn::GetAtt": ["A", "B"] }`, which is what CloudFormation itself does.
 */
export function toLongForm(value: unknown): unknown {
  if (value instanceof CfnTag) {
    const key = LONG_FORM.get(value.tag) ?? value.tag
    let inner = toLongForm(value.value)
    if (value.tag === '!GetAtt' && typeof inner === 'string') {
      const dot = inner.indexOf('.')
      inner = dot < 0 ? [inner] : [inner.slice(0, dot), inner.slice(dot + 1)]
    }
    return { [key]: inner }
  }
  if (Array.isArray(value)) return value.map(toLongForm)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = toLongForm(v)
    return out
  }
  return value
}
