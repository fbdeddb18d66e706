import type { StackTemplate } from '../model/fleet-model.ts'
import type { TemplateNode } from '../model/template-node.ts'
import type { RenderCache } from '../render/render-fleet.ts'
import type { ParsedDocument } from '../yaml/parse.ts'
import { decodeParseOutcome, encodeParseOutcome, type ParseOutcome } from '../yaml/parsed-codec.ts'

/** What parsing one file produced: the file (when it had no error) and its diagnostics, to replay. */
export type CachedParse = ParseOutcome

/**
 * Parses kept beyond this process (`.flotilla/cache/`, kept by `source/parse-store.ts`), by path
 * and text: what the load reads before parsing a file, and gives each file it had to parse. Both
 * calls are synchronous: the store reads its entries ahead and writes them after the load, so
 * loading stays free of I/O. Entries are stored parses (`yaml/parsed-codec.ts`); one that does not
 * read back is ignored.
 */
export interface ParseStore {
  /** The stored parse of this file, if any. */
  read(path: string, text: string): string | undefined
  /** Keeps the parse of a file that was not stored. */
  write(path: string, text: string, encoded: string): void
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
export class LoadCache implements RenderCache {
  private readonly store: ParseStore | undefined
  private current = new Map<string, CachedParse>()
  private previous = new Map<string, CachedParse>()
  /** Compiled stack templates by parsed document (valid ones only). */
  readonly stacks = new WeakMap<ParsedDocument, StackTemplate>()
  /** Compiled manifest bodies by parsed document and interpolation setting. */
  readonly manifestBodies = new WeakMap<ParsedDocument, Map<boolean, TemplateNode>>()
  /** Rendered results by template (or template set) and the key of everything they were rendered from. */
  readonly renders = new WeakMap<object, Map<string, unknown>>()

  /** A cache of this process, backed by `store` when given (parses that outlive the process). */
  constructor(options: { readonly store?: ParseStore } = {}) {
    this.store = options.store
  }

  /** Starts a load: parse results not used by this load or the one before it are dropped after. */
  beginLoad(): void {
    this.previous = this.current
    this.current = new Map()
  }

  /** The cached parse of a file with this path and text, if any (and keeps it for this load). */
  parsed(path: string, text: string): CachedParse | undefined {
    const key = `${path}\0${text}`
    let hit = this.current.get(key) ?? this.previous.get(key)
    if (!hit) {
      const stored = this.store?.read(path, text)
      hit = stored === undefined ? undefined : decodeParseOutcome(stored, path, text)
    }
    if (hit) this.current.set(key, hit)
    return hit
  }

  /** Remembers the parse of a file (and gives it to the store, when there is one). */
  rememberParse(path: string, text: string, result: CachedParse): void {
    this.current.set(`${path}\0${text}`, result)
    if (this.store) {
      const encoded = encodeParseOutcome(result)
      if (encoded !== undefined) this.store.write(path, text, encoded)
    }
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
