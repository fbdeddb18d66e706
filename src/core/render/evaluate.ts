import type { Location } from '../diagnostics.ts'
import { fromCel } from '../expr/cel.ts'
import type { CompiledPart, TemplateNode } from '../model/template-node.ts'
import { CfnTag } from '../yaml/cfn-tags.ts'

/** An expression that failed while rendering one target, with the position of the expression. */
export class RenderError extends Error {
  readonly at: Location
  constructor(message: string, at: Location, options?: ErrorOptions) {
    super(message, options)
    this.name = 'RenderError'
    this.at = at
  }
}

/**
 * Renders a compiled template for one context. Static subtrees are returned as they are (shared,
 * never mutated); a string that is exactly one `{{ expr }}` keeps the value's type.
 * Throws {@link RenderError} for the first expression that fails.
 */
export function renderNode(node: TemplateNode, context: Readonly<Record<string, unknown>>): unknown {
  switch (node.kind) {
    case 'static':
      return node.value
    case 'string':
      return node.whole ? evaluatePart(node.parts[0]!, context, true) : concatenate(node.parts, context)
    case 'tag':
      return new CfnTag(node.tag, renderNode(node.inner, context))
    case 'array':
      return node.items.map((item) => renderNode(item, context))
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const [k, v] of node.entries) out[k] = renderNode(v, context)
      return out
    }
  }
}

function concatenate(parts: readonly CompiledPart[], context: Readonly<Record<string, unknown>>): string {
  let out = ''
  for (const part of parts) out += evaluatePart(part, context, false)
  return out
}

function evaluatePart(
  part: CompiledPart,
  context: Readonly<Record<string, unknown>>,
  whole: boolean,
): unknown {
  if (typeof part === 'string') return part
  let value: unknown
  try {
    value = fromCel(part.expression.evaluate(context))
  } catch (error) {
    throw new RenderError(`${(error as Error).message} in {{ ${part.expression.source} }}`, part.at, {
      cause: error,
    })
  }
  if (whole) return value
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  throw new RenderError(
    `{{ ${part.expression.source} }} is ${value === null ? 'null' : Array.isArray(value) ? 'a list' : 'a mapping'} and cannot be part of a string; make it the whole value, or turn it into text first (a list with .join(', '))`,
    part.at,
  )
}
