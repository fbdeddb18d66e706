import type { Diagnostic } from '../diagnostics.ts'
import type { StackTemplate } from '../model/fleet-model.ts'
import type { TemplateNode } from '../render/template-node.ts'
import type { ParsedDocument, ParsedFile } from '../yaml/parse.ts'

/** What parsing one file produced: the file (when it had no error) and its diagnostics, to replay. */
export interface CachedParse {
  readonly file: ParsedFile | undefined
  readonly errors: readonly Diagnostic[]
  readonly warnings: readonly Diagnostic[]
}

/**
 * Work shared between loads of revisions of the same repository — typically the base and the
 * head of a plan, which differ in a few files. A file with the same path and text is parsed
 * once; a template from the same parsed document is compiled once; a template rendered for a
 * target whose inputs did not change is rendered once and returns the very same object, so the
 * differ skips it by identity. Planning a one-line change then costs in proportion to the change.
 *
 * Parse results are kept for the last two loads only (the cache is generational), so a
 * long-running process that loads revision after revision does not grow without bound; the other
 * entries are weakly held and go with the documents they belong to.
 */
export class LoadCache {
  private current = new Map<string, CachedParse>()
  private previous = new Map<string, CachedParse>()
  /** Compiled stack templates by parsed document (valid ones only). */
  readonly stacks = new WeakMap<ParsedDocument, StackTemplate>()
  /** Compiled manifest bodies by parsed document and interpolation setting. */
  readonly manifestBodies = new WeakMap<ParsedDocument, Map<boolean, TemplateNode>>()
  /** Rendered results by template (or template set) and the key of everything they were rendered from. */
  readonly renders = new WeakMap<object, Map<string, unknown>>()

  /** Starts a load: parse results not used by this load or the one before it are dropped after. */
  beginLoad(): void {
    this.previous = this.current
    this.current = new Map()
  }

  /** The cached parse of a file with this path and text, if any (and keeps it for this load). */
  parsed(path: string, text: string): CachedParse | undefined {
    const key = `${path}\0${text}`
    const hit = this.current.get(key) ?? this.previous.get(key)
    if (hit) this.current.set(key, hit)
    return hit
  }

  rememberParse(path: string, text: string, result: CachedParse): void {
    this.current.set(`${path}\0${text}`, result)
  }

  /** The result of rendering `template` from inputs summarised by `key`, if rendered before. */
  getRender(template: object, key: string): unknown {
    return this.renders.get(template)?.get(key)
  }

  /** Remembers a successful render (failures are not kept: they must be reported on every load). */
  setRender(template: object, key: string, value: unknown): void {
    let byKey = this.renders.get(template)
    if (!byKey) {
      byKey = new Map()
      this.renders.set(template, byKey)
    }
    byKey.set(key, value)
  }

  private readonly ids = new WeakMap<object, number>()
  private nextId = 0

  /** A number that stays the same for the same object across loads: for keys made of several templates. */
  idOf(object: object): number {
    let id = this.ids.get(object)
    if (id === undefined) {
      id = this.nextId++
      this.ids.set(object, id)
    }
    return id
  }
}
