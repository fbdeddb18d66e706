import type { DiagnosticSink } from '../diagnostics.ts'
import { compileExpression, ExpressionError, type ExpressionPlace } from '../expr/cel.ts'
import { mayInterpolate, parseTemplate } from '../expr/template.ts'
import type { CompiledPart, TemplateNode } from '../model/template-node.ts'
import { CfnTag } from '../yaml/cfn-tags.ts'
import type { ParsedDocument, ValuePath } from '../yaml/parse.ts'

const STATIC_NULL: TemplateNode = { kind: 'static', value: null }

/**
 * Compiles a parsed value into a {@link TemplateNode}: every `{{ expr }}` is parsed and
 * type-checked for `place` now, and reported with its exact position when wrong.
 */
export function compileTemplate(
  value: unknown,
  doc: ParsedDocument,
  path: ValuePath,
  place: ExpressionPlace,
  sink: DiagnosticSink,
): TemplateNode {
  return compileValue(value, doc, [...path], place, sink)
}

function compileValue(
  value: unknown,
  doc: ParsedDocument,
  path: (string | number)[],
  place: ExpressionPlace,
  sink: DiagnosticSink,
): TemplateNode {
  if (typeof value === 'string') {
    return mayInterpolate(value) ? compileString(value, doc, path, place, sink) : { kind: 'static', value }
  }
  if (value instanceof CfnTag) {
    const inner = compileValue(value.value, doc, path, place, sink)
    return inner.kind === 'static' ? { kind: 'static', value } : { kind: 'tag', tag: value.tag, inner }
  }
  if (Array.isArray(value)) {
    const items = value.map((item, i) => {
      path.push(i)
      const node = compileValue(item, doc, path, place, sink)
      path.pop()
      return node
    })
    return items.every((n) => n.kind === 'static') ? { kind: 'static', value } : { kind: 'array', items }
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => {
      path.push(k)
      const node = compileValue(v, doc, path, place, sink)
      path.pop()
      return [k, node] as const
    })
    return entries.every(([, n]) => n.kind === 'static')
      ? { kind: 'static', value }
      : { kind: 'object', entries }
  }
  return value === null ? STATIC_NULL : { kind: 'static', value }
}

function compileString(
  text: string,
  doc: ParsedDocument,
  path: (string | number)[],
  place: ExpressionPlace,
  sink: DiagnosticSink,
): TemplateNode {
  const parsed = parseTemplate(text)
  if (!parsed.ok) {
    sink.error(doc.locateInString(path, parsed.offset), 'template-syntax', parsed.message)
    return { kind: 'static', value: text }
  }
  if (parsed.parts.every((p) => p.kind === 'text')) return { kind: 'static', value: text }
  const parts: CompiledPart[] = []
  let failed = false
  for (const part of parsed.parts) {
    if (part.kind === 'text') {
      parts.push(part.text)
      continue
    }
    const compiled = compileExpression(part.source, place)
    if (compiled instanceof ExpressionError) {
      sink.error(
        doc.locateInString(path, part.offset + compiled.offset),
        'expression',
        `${compiled.message} in {{ ${part.source} }}`,
      )
      failed = true
      continue
    }
    parts.push({ expression: compiled, at: doc.locateInString(path, part.offset) })
  }
  return failed ? { kind: 'static', value: text } : { kind: 'string', parts, whole: parsed.whole }
}

/** Compiles a standalone CEL expression (a `select`, a `when`) and reports errors at its position. */
export function compileLocatedExpression(
  source: string,
  doc: ParsedDocument,
  path: ValuePath,
  place: ExpressionPlace,
  sink: DiagnosticSink,
  expectBool = true,
) {
  const compiled = compileExpression(source, place)
  if (compiled instanceof ExpressionError) {
    sink.error(doc.locateInString(path, compiled.offset), 'expression', compiled.message)
    return undefined
  }
  if (expectBool && compiled.type !== 'bool' && compiled.type !== 'dyn') {
    sink.error(
      doc.locate(path),
      'expression',
      `this expression must be true or false, but it is of type ${compiled.type}`,
    )
    return undefined
  }
  return { expression: compiled, at: doc.locate(path) }
}
