import {
  type Alias,
  Composer,
  type CST,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type ParsedNode,
  Parser,
  Scalar,
  type YAMLMap,
} from 'yaml'
import type { DiagnosticSink, Location } from '../diagnostics.ts'
import { closest } from '../suggest.ts'
import { resolveAliases } from './aliases.ts'
import { CFN_TAGS, CfnTag, isCfnTag } from './cfn-tags.ts'
import { findInvisibleCharacters, invisibleCharacterMessage } from './characters.ts'
import { findConfusableWords } from './confusables.ts'
import { documentView, locator, nodeTable, type ParsedDocument } from './document-view.ts'
import { findTooDeep, MAX_NESTING } from './nesting.ts'

export type { ParsedDocument, ValuePath } from './document-view.ts'

/** A parsed YAML file: its documents, in order. Empty documents (a lone `---`) are dropped. */
export interface ParsedFile {
  readonly file: string
  readonly documents: readonly ParsedDocument[]
}

/**
 * How many files {@link parseYamlFile} has parsed in this process: what tests of the load cache
 * observe (a file read back from the cache is not parsed again).
 */
export function yamlFilesParsed(): number {
  return parseCount
}
let parseCount = 0

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
 * (once per file: the first syntax error is the one that matters), nesting too deep, duplicate
 * keys, keys without a value (`{ a: 1, b "2" }`), invisible characters, look-alike letters in
 * keys and values, unknown tags, undefined and recursive aliases, aliases that expand too far,
 * merge keys (`<<`) that merge no mapping. Returns `undefined` when the file had any error, so
 * that nothing built from it is ever half-loaded. No input makes it throw, recurse without bound
 * or expand aliases without bound.
 */
export function parseYamlFile(
  file: string,
  text: string,
  sink: DiagnosticSink,
  options: ParseOptions = {},
): ParsedFile | undefined {
  parseCount++
  const lineCounter = new LineCounter()
  // A leading byte-order mark is part of the text the parser counts, but no editor shows it as a column.
  const bom = text.startsWith('\ufeff')
  const at = locator(file, lineCounter, bom)
  const errorsBefore = sink.errors.length

  // The parser builds its syntax tree without recursion; the composer after it recurses once per
  // level of nesting, so the depth is checked in between.
  let tokens: CST.Token[]
  try {
    tokens = [...new Parser(lineCounter.addNewLine).parse(text)]
  } catch (error) {
    return parserFailed(file, sink, error)
  }
  // Scanned after parsing: the line counter knows the file's lines only once the parser has run.
  for (const found of findInvisibleCharacters(text)) {
    sink.error(at(found.offset), 'invisible-character', invisibleCharacterMessage(found))
  }
  const tooDeep = findTooDeep(tokens)
  if (tooDeep !== undefined) {
    sink.error(
      at(tooDeep),
      'too-deep',
      `lists and mappings are nested more than ${MAX_NESTING} levels deep here; write the structure flatter (nothing in this file was loaded)`,
    )
    return undefined
  }
  let list: Document.Parsed[]
  try {
    list = [...new Composer({ merge: true, uniqueKeys: false, keepSourceTokens: false }).compose(tokens)]
  } catch (error) {
    return parserFailed(file, sink, error)
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
    const aliases = resolveAliases(doc)
    for (const problem of aliases.problems) sink.error(at(problem.offset), problem.rule, problem.message)
    // Nothing is built from a document whose aliases are broken or too costly to expand.
    if (aliases.problems.length > 0) continue
    const walker = new ValueBuilder(aliases.targets, at, sink, text, options.yaml11Warnings ?? false)
    const value = walker.build(doc.contents)
    const nodes = nodeTable(doc.contents as ParsedNode, aliases.targets)
    const data = { file, index: documents.length, value, nodes }
    documents.push(documentView(data, { lineStarts: lineCounter.lineStarts, bom }, at, text))
  }
  return sink.errors.length > errorsBefore ? undefined : { file, documents }
}

/**
 * The `yaml` package threw instead of reporting an error: a defect in it, but the input is what
 * triggered it, and the file must not load. Reported at the file's start, since there is no position.
 */
function parserFailed(file: string, sink: DiagnosticSink, error: unknown): undefined {
  sink.error(
    { file, line: 1, col: 1 },
    'malformed-yaml',
    `malformed YAML: the parser could not read this file (${firstLine(String((error as Error)?.message ?? error))}); simplify the YAML around the last change (nothing in this file was loaded)`,
  )
  return undefined
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
  private readonly targets: ReadonlyMap<Alias, Node>
  private readonly at: (offset: number) => Location
  private readonly sink: DiagnosticSink
  private readonly text: string
  private readonly yaml11Warnings: boolean

  constructor(
    targets: ReadonlyMap<Alias, Node>,
    at: (offset: number) => Location,
    sink: DiagnosticSink,
    text: string,
    yaml11Warnings: boolean,
  ) {
    this.targets = targets
    this.at = at
    this.sink = sink
    this.text = text
    this.yaml11Warnings = yaml11Warnings
  }

  build(node: unknown): unknown {
    // An entry with no value at all (`- ` in a flow list, a key with no colon) has no node.
    if (node === null || node === undefined) return null
    if (isAlias(node)) {
      // Aliases were resolved and checked (defined, not recursive, within limits) before building.
      const target = this.targets.get(node)
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
      this.checkWords(node)
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

  /**
   * Look-alike letters in a scalar, found in its source text so that positions are exact and an
   * escape (`"\u0430"`) counts as the explicit way to write a letter that is meant.
   */
  private checkWords(node: Scalar.Parsed, key?: string): void {
    const [start, end] = node.range
    let source = this.text.slice(start, end)
    if (node.type === Scalar.QUOTE_DOUBLE) source = blankEscapes(source)
    for (const found of findConfusableWords(source, key === undefined ? {} : { key })) {
      this.sink.error(this.at(start + found.offset), 'confusable-character', found.message)
    }
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
    const merges: { readonly source: unknown; readonly keyOffset: number }[] = []
    for (const pair of node.items) {
      const keyNode = pair.key as ParsedNode | null
      if (keyNode !== null && !isScalar(keyNode)) {
        this.sink.error(
          this.at((keyNode as ParsedNode).range[0]),
          'complex-key',
          isAlias(keyNode)
            ? `a mapping key must be a plain string, not an alias (*${keyNode.source})`
            : 'a mapping key must be a plain string, not a list or a mapping',
        )
        continue
      }
      const keyValue = keyNode === null ? null : keyNode.value
      const keyOffset = keyNode?.range[0] ?? node.range[0]
      if (keyNode !== null && isMergeKey(keyNode)) {
        merges.push({ source: pair.value, keyOffset })
        continue
      }
      const key = String(keyValue)
      if (pair.value === null) {
        // `{ a: 1, b "2" }` is, to YAML, a key `b "2"` with no value: the colon is what was meant.
        this.sink.error(
          this.at(keyOffset),
          'missing-colon',
          `"${key}" has no ":" after it, so YAML reads it as a key without a value; write "key: value"${node.flow ? ', and separate the entries of { } with commas' : ''}`,
        )
        continue
      }
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
      if (keyNode !== null) this.checkWords(keyNode, key)
      setOwn(out, key, this.build(pair.value))
    }
    for (const { source, keyOffset } of merges) this.merge(out, source, keyOffset)
    return out
  }

  /**
   * YAML merge keys (`<<: *defaults`): keys written explicitly win over merged ones. The value
   * must be a mapping or a list of mappings; anything else would merge nothing, silently.
   */
  private merge(out: Record<string, unknown>, source: unknown, keyOffset: number): void {
    const resolved = isAlias(source) ? this.targets.get(source) : source
    const sources = isSeq(resolved) ? resolved.items : [source]
    for (const item of sources) {
      const value = this.build(item)
      if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof CfnTag) {
        const offset = (item as ParsedNode | null)?.range[0] ?? keyOffset
        this.sink.error(
          this.at(offset),
          'merge-key',
          `the merge key "<<" takes a mapping or a list of mappings (usually an alias: "<<: *defaults"), not ${describeValue(value)}; merge a mapping, or remove the "<<" entry`,
        )
        continue
      }
      for (const [k, v] of Object.entries(value)) if (!Object.hasOwn(out, k)) setOwn(out, k, v)
    }
  }
}

/** What a value is, for messages: `a string`, `a list`, `nothing`. */
function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  if (value instanceof CfnTag) return `a ${value.tag} tag`
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`
}

/**
 * Replaces each escape of a double-quoted scalar's source (`\t`, `\u0430`, `\"`) with as many
 * spaces: an escape is not a letter of a word, and the offsets of everything else stay the same.
 */
function blankEscapes(source: string): string {
  return source.replace(/\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[\s\S])/g, (e) =>
    ' '.repeat(e.length),
  )
}

/** Sets a property even when it is called `__proto__`, which a plain assignment would not. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true })
  else target[key] = value
}
