import type { Location } from '../diagnostics.ts'
import type { CompiledExpression } from '../expr/cel.ts'

/** A piece of an interpolated string: literal text or a compiled expression. */
export type CompiledPart = string | { readonly expression: CompiledExpression; readonly at: Location }

/**
 * A template compiled for rendering. Subtrees without any `{{ }}` are `static` and rendered by
 * reference (never copied), so rendering a template for 300 accounts only walks its dynamic spine.
 */
export type TemplateNode =
  | { readonly kind: 'static'; readonly value: unknown }
  | { readonly kind: 'string'; readonly parts: readonly CompiledPart[]; readonly whole: boolean }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, TemplateNode])[] }
  | { readonly kind: 'array'; readonly items: readonly TemplateNode[] }
  | { readonly kind: 'tag'; readonly tag: string; readonly inner: TemplateNode }
