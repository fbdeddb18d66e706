import {
  Alias,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type ParsedNode,
  parseAllDocuments,
  Scalar,
  YAMLMap,
  YAMLSeq,
} from 'yaml'
import type { DiagnosticSink, Location } from '../diagnostics.ts'
import { closest } from '../suggest.ts'
import { CFN_TAGS, CfnTag, isCfnTag } from './cfn-tags.ts'
import { findInvisibleCharacters, findLookAlikes } from './characters.ts'

/** A path into a parsed value: mapping keys and sequence indexes. */
export type ValuePath = readonly (string | number)[]

/**
 * One YAML document of a file, converted to plain data, with the means to find where any part of
 * it was written. Positions are looked up on demand, so a valid file costs nothing extra.
 */
export interface ParsedDocument {
  readonly file: string
  /** 0-based index of the document within its file (multi-document manifests). */
  readonly index: number
  /** Plain data: objects, arrays, strings, numbers, booleans, null, and {@link CfnTag}s. */
  readonly value: unknown
  /** Where the value at `path` starts; falls back to the nearest ancestor that exists. */
  locate(path: ValuePath): Location
  /** Where the key of the mapping entry at `path` starts (for unknown and misspelt keys). */
  locateKey(path: ValuePath): Location
  /** Where character `index` of the string at `path` is, for expressions embedded in strings. */
  locateInString(path: ValuePath, index: number): Location
  /** The scalar at `path` exactly as written (`1.30`, `0001104321`), for messages; else undefined. */
  sourceText(path: ValuePath): string | undefined
}

/** A parsed YAML file: its documents, in order. Empty documents (a lone `---`) are dropped. */
export interface ParsedFile {
  readonly file: string
  readonly documents: readonly ParsedDocument[]
}

/** How strictly to read a file beyond YAML itself. */
export interface ParseOptions {
  /**
   * Warn about plain `yes`/`no`/`on`/`off`/`y`/`n`, which YAML 1.1 parsers (kubectl's) read as
   * booleans. For Kubernetes manifests; CloudFormation and Flotilla's own files read them as strings.
   * @default false
   */
  readonly yaml11Warnings?: boolean
}

const YAML_11_BOOLEANS = new Set(['y', 'yes', 'n', 'no', 'on', 'off'])

/**
 * Parses a YAML file strictly. Every problem goes to `sink` with its position: malformed YAML
 * (once per file: the first syntax error is the one that matters), duplicate keys, invisible
 * characters, look-alike letters in keys, unknown tags. Returns `undefined` when the file had any
 * error, so that nothing built from it is ever half-loaded.
 */
export function parseYamlFile(
  file: string,
  text: string,
  sink: DiagnosticSink,
  options: ParseOptions = {},
): ParsedFile | undefined {
  const lineCounter = new LineCounter()
  // A leading byte-order mark is part of the text the parser counts, but no editor shows it as a column.
  const bom = text.startsWith('\ufeff') ? 1 : 0
  const at = (offset: number): Location => {
    const { line, col } = lineCounter.linePos(offset)
    return { file, line, col: line === 1 ? Math.max(1, col - bom) : col }
  }
  const errorsBefore = sink.errors.length

  const docs = parseAllDocuments(text, {
    lineCounter,
    merge: true,
    uniqueKeys: false, // duplicates are reported below, with the position of the first occurrence
    prettyErrors: false,
    keepSourceTokens: false,
  })
  const list = Array.isArray(docs) ? docs : []
  // Scanned after parsing: the line counter knows the file's lines only once the parser has run.
  for (const found of findInvisibleCharacters(text)) {
    sink.error(
      at(found.offset),
      'invisible-character',
      `invisible character ${found.description}; delete it or replace it with a plain space`,
    )
  }
  const syntaxError = list.flatMap((d) => d.errors)[0]
  if (syntaxError) {
    sink.error(
      at(syntaxError.pos[0]),
      'malformed-yaml',
      `malformed YAML: ${firstLine(syntaxError.message)}; fix the syntax (nothing in this file was loaded)`,
    )
    return undefined
  }

  const documents: ParsedDocument[] = []
  for (const doc of list) {
    if (isEmptyDocument(doc)) continue
    const walker = new ValueBuilder(doc, at, sink, text, options.yaml11Warnings ?? false)
    const value = walker.build(doc.contents)
    documents.push(documentView(file, documents.length, value, doc, at, text))
  }
  return sink.errors.length > errorsBefore ? undefined : { file, documents }
}

/**
 * A document with nothing in it: a lone `---`, a trailing `---` (common at the end of Kubernetes
 * manifests) or only comments. The parser gives it an empty null scalar, not `null` contents.
 */
function isEmptyDocument(doc: Document.Parsed): boolean {
  const contents = doc.contents
  if (contents === null) return true
  return isScalar(contents) && contents.value === null && contents.range[0] === contents.range[1]
}

/** A plain `<<` key. With `merge: true` the parser resolves it to a symbol, not to the string. */
function isMergeKey(key: Scalar.Parsed): boolean {
  const value = key.value
  return (
    key.type === Scalar.PLAIN && (value === '<<' || (typeof value === 'symbol' && value.description === '<<'))
  )
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
}

/** Converts the YAML syntax tree to plain data, checking what only the tree can show. */
class ValueBuilder {
  private readonly converted = new Map<Node, unknown>()
  private readonly doc: Document.Parsed
  private readonly at: (offset: number) => Location
  private readonly sink: DiagnosticSink
  private readonly text: string
  private readonly yaml11Warnings: boolean

  constructor(
    doc: Document.Parsed,
    at: (offset: number) => Location,
    sink: DiagnosticSink,
    text: string,
    yaml11Warnings: boolean,
  ) {
    this.doc = doc
    this.at = at
    this.sink = sink
    this.text = text
    this.yaml11Warnings = yaml11Warnings
  }

  build(node: unknown): unknown {
    if (isAlias(node)) {
      const target = node.resolve(this.doc)
      return target === undefined ? null : this.build(target)
    }
    // Only anchored nodes can be reached twice (through an alias); they are built once and shared.
    const anchored = (node as ParsedNode).anchor !== undefined
    if (anchored && this.converted.has(node as Node)) return this.converted.get(node as Node)
    const value = this.tagged(node as ParsedNode, this.plain(node as ParsedNode))
    if (anchored) this.converted.set(node as Node, value)
    return value
  }

  private plain(node: ParsedNode): unknown {
    if (isScalar(node)) {
      const value = node.value
      if (
        this.yaml11Warnings &&
        node.type === Scalar.PLAIN &&
        typeof value === 'string' &&
        value.length <= 3 &&
        YAML_11_BOOLEANS.has(value.toLowerCase()) &&
        node.tag === undefined
      ) {
        this.sink.warn(
          this.at(node.range[0]),
          'ambiguous-scalar',
          `"${value}" is a string here (YAML 1.2) but a boolean to YAML 1.1 parsers such as kubectl's; quote it, or write true/false`,
        )
      }
      return typeof value === 'bigint' ? Number(value) : value
    }
    if (isMap(node)) return this.mapping(node)
    if (isSeq(node)) return node.items.map((item) => this.build(item))
    return null
  }

  private tagged(node: ParsedNode, value: unknown): unknown {
    const tag = node.tag
    if (tag === undefined || !tag.startsWith('!')) return value
    if (isCfnTag(tag)) return new CfnTag(tag, value)
    const suggestion = closest(tag, CFN_TAGS)
    const tagStart = this.text.lastIndexOf(tag, node.range[0])
    this.sink.error(
      this.at(tagStart >= 0 ? tagStart : node.range[0]),
      'unknown-tag',
      `unknown tag ${tag}${suggestion ? `; did you mean ${suggestion}?` : ''} (only CloudFormation's short tags are understood)`,
    )
    return value
  }

  private mapping(node: YAMLMap.Parsed): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    const firstSeen = new Map<string, number>()
    const merges: unknown[] = []
    for (const pair of node.items) {
      const keyNode = pair.key as ParsedNode | null
      if (keyNode !== null && !isScalar(keyNode)) {
        this.sink.error(
          this.at((keyNode as ParsedNode).range[0]),
          'complex-key',
          'a mapping key must be a plain string, not a list or a mapping',
        )
        continue
      }
      const keyValue = keyNode === null ? null : keyNode.value
      if (keyNode !== null && isMergeKey(keyNode)) {
        merges.push(pair.value)
        continue
      }
      const key = String(keyValue)
      const keyOffset = keyNode?.range[0] ?? node.range[0]
      const first = firstSeen.get(key)
      if (first !== undefined) {
        const { line } = this.at(first)
        this.sink.error(
          this.at(keyOffset),
          'duplicate-key',
          `duplicate key "${key}" (first at line ${line}); YAML would silently keep only one — remove or rename one of them`,
        )
        continue
      }
      firstSeen.set(key, keyOffset)
      for (const found of findLookAlikes(key)) {
        this.sink.error(
          this.at(keyOffset + (this.quoteWidth(keyNode) + found.offset)),
          'confusable-character',
          `key "${key}" contains ${found.description}; type the key again in plain ASCII`,
        )
      }
      setOwn(out, key, this.build(pair.value))
    }
    for (const source of merges) this.merge(out, source)
    return out
  }

  /** YAML merge keys (`<<: *defaults`): keys written explicitly win over merged ones. */
  private merge(out: Record<string, unknown>, source: unknown): void {
    const sources = isSeq(source) ? source.items : [source]
    for (const item of sources) {
      const value = this.build(item)
      if (value === null || typeof value !== 'object' || Array.isArray(value)) continue
      for (const [k, v] of Object.entries(value)) if (!Object.hasOwn(out, k)) setOwn(out, k, v)
    }
  }

  private quoteWidth(keyNode: Scalar.Parsed | null): number {
    if (keyNode === null) return 0
    const c = this.text[keyNode.range[0]]
    return c === '"' || c === "'" ? 1 : 0
  }
}

/** Sets a property even when it is called `__proto__`, which a plain assignment would not. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true })
  else target[key] = value
}

function documentView(
  file: string,
  index: number,
  value: unknown,
  doc: Document.Parsed,
  at: (offset: number) => Location,
  text: string,
): ParsedDocument {
  const resolve = (node: unknown): unknown => (node instanceof Alias ? node.resolve(doc) : node)
  /** Walks the syntax tree along `path`; returns the deepest pair/node reached. */
  const walk = (path: ValuePath): { node: ParsedNode; key: ParsedNode | undefined; complete: boolean } => {
    let node = doc.contents as ParsedNode
    let key: ParsedNode | undefined
    for (const segment of path) {
      const current = resolve(node)
      if (current instanceof YAMLMap) {
        const pair = current.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment))
        if (!pair || pair.value === null) {
          return pair
            ? { node: pair.key as ParsedNode, key: pair.key as ParsedNode, complete: true }
            : { node, key, complete: false }
        }
        key = pair.key as ParsedNode
        node = pair.value as ParsedNode
      } else if (current instanceof YAMLSeq && typeof segment === 'number' && current.items[segment]) {
        key = undefined
        node = current.items[segment] as ParsedNode
      } else {
        return { node, key, complete: false }
      }
    }
    return { node, key, complete: true }
  }
  return {
    file,
    index,
    value,
    locate: (path) => at(walk(path).node.range[0]),
    locateKey: (path) => {
      const found = walk(path)
      return at((found.complete && found.key ? found.key : found.node).range[0])
    },
    locateInString: (path, charIndex) => {
      const found = walk(path)
      if (!found.complete || !isScalar(found.node)) return at(found.node.range[0])
      return at(offsetInScalar(found.node, charIndex, text))
    },
    sourceText: (path) => {
      const found = walk(path)
      return found.complete && isScalar(found.node)
        ? text.slice(found.node.range[0], found.node.range[1])
        : undefined
    },
  }
}

/** Maps a character index in a scalar's value to an offset in the source, exactly where the style allows. */
function offsetInScalar(node: Scalar.Parsed, index: number, text: string): number {
  const [start, end] = node.range
  const source = text.slice(start, end)
  if (node.type === Scalar.BLOCK_LITERAL) {
    const value = String(node.value)
    const lineInValue = countNewlines(value, index)
    const lineStart = value.lastIndexOf('\n', index - 1) + 1
    const headerEnd = text.indexOf('\n', start)
    if (headerEnd < 0) return start
    let offset = headerEnd + 1
    for (let i = 0; i < lineInValue; i++) {
      const next = text.indexOf('\n', offset)
      if (next < 0) return start
      offset = next + 1
    }
    const indent = /^ */.exec(text.slice(headerEnd + 1))?.[0].length ?? 0
    return offset + indent + (index - lineStart)
  }
  if (source.includes('\n')) return start // folded or multi-line flow scalars: the scalar's start is close enough
  if (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE)
    return Math.min(start + offsetInQuoted(source, index, node.type === Scalar.QUOTE_DOUBLE), end)
  return Math.min(start + index, end)
}

const ESCAPE_LENGTHS: Readonly<Record<string, number>> = { x: 4, u: 6, U: 10 }

/**
 * Maps a character index in a one-line quoted scalar's value to an offset in its source (which
 * starts with the quote): an escape such as `\t` or `\u00e9`, or a doubled `''`, is several
 * characters in the source but one in the value.
 */
function offsetInQuoted(source: string, index: number, double: boolean): number {
  let offset = 1
  for (let n = 0; n < index && offset < source.length - 1; n++) {
    if (double && source[offset] === '\\') {
      const length = ESCAPE_LENGTHS[source[offset + 1]!] ?? 2
      // \U escapes outside the Basic Multilingual Plane are two UTF-16 units in the value.
      if (length === 10 && Number.parseInt(source.slice(offset + 2, offset + 10), 16) > 0xffff) n++
      offset += length
    } else if (!double && source[offset] === "'" && source[offset + 1] === "'") {
      offset += 2
    } else {
      offset += 1
    }
  }
  return offset
}

function countNewlines(text: string, before: number): number {
  let n = 0
  for (let i = text.indexOf('\n'); i >= 0 && i < before; i = text.indexOf('\n', i + 1)) n++
  return n
}
