/**
 * `{{ expr }}` interpolation in strings. CloudFormation's own `{{resolve:…}}` dynamic references
 * and `${…}` are not Flotilla's and are left as written. A literal `{{` is written `{{ '{{' }}`.
 */

/** A piece of a string template: literal text, or an expression with its offset in the string. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'expression'; readonly source: string; readonly offset: number }

/** A string split into parts, or why it could not be. `whole` means the string is exactly one `{{ expr }}`. */
export type ParsedTemplate =
  | { readonly ok: true; readonly parts: readonly TemplatePart[]; readonly whole: boolean }
  | { readonly ok: false; readonly offset: number; readonly message: string }

/** Whether a string may contain an interpolation at all (cheap pre-check for the hot path). */
export function mayInterpolate(text: string): boolean {
  return text.includes('{{')
}

/**
 * Splits a string into literal text and `{{ … }}` expressions. The closing `}}` is searched
 * outside CEL string literals, so `{{ '}}' }}` works.
 */
export function parseTemplate(text: string): ParsedTemplate {
  const parts: TemplatePart[] = []
  let literal = ''
  let i = 0
  while (i < text.length) {
    const open = text.indexOf('{{', i)
    if (open < 0) {
      literal += text.slice(i)
      break
    }
    literal += text.slice(i, open)
    if (/^\{\{resolve:/.test(text.slice(open, open + 10))) {
      // CloudFormation dynamic reference: resolved by CloudFormation, never by Flotilla.
      const close = text.indexOf('}}', open)
      const end = close < 0 ? text.length : close + 2
      literal += text.slice(open, end)
      i = end
      continue
    }
    const close = findClose(text, open + 2)
    if (close < 0) {
      return {
        ok: false,
        offset: open,
        message:
          'unterminated "{{": close it with "}}", write a literal "{{" as {{ \'{{\' }}, or set interpolate: false for the component',
      }
    }
    const raw = text.slice(open + 2, close)
    const source = raw.trim()
    if (source === '')
      return { ok: false, offset: open, message: 'empty "{{ }}": put a CEL expression inside' }
    if (literal !== '') parts.push({ kind: 'text', text: literal })
    literal = ''
    parts.push({ kind: 'expression', source, offset: open + 2 + (raw.length - raw.trimStart().length) })
    i = close + 2
  }
  if (literal !== '') parts.push({ kind: 'text', text: literal })
  const whole = parts.length === 1 && parts[0]!.kind === 'expression'
  return { ok: true, parts, whole }
}

function findClose(text: string, from: number): number {
  let quote: string | undefined
  for (let i = from; i < text.length; i++) {
    const c = text[i]
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = undefined
    } else if (c === "'" || c === '"') {
      quote = c
    } else if (c === '}' && text[i + 1] === '}') {
      return i
    }
  }
  return -1
}
