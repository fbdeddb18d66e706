import {
  type Alias,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type ParsedNode,
  Scalar,
} from 'yaml'
import type { Location } from '../diagnostics.ts'

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

/**
 * Where every node of a document was written, as plain data: what `locate` and its siblings walk
 * instead of the parser's syntax tree, so that a parse can be stored (the load cache on disk) and
 * give the very same positions when read back, and so that the syntax tree is not kept alive.
 *
 * One entry per node, the root first; children are referred to by index (-1: none):
 * - scalar `[0, start, end, style]`, or `[0, start, end, 3, value]` for a block literal (whose
 *   value the offsets of characters inside it are counted in);
 * - mapping `[1, start, end, key, keyName, value, …]` per entry, in order (`keyName` null when the
 *   key is not a scalar, `value` -1 for a key without one);
 * - sequence `[2, start, end, item, …]`; alias `[3, start, end, target]`.
 * Anchored nodes are entered once, so aliases do not copy them.
 */
export type NodeTable = readonly (readonly (number | string | null)[])[]

/** What a document view is made of: everything needed to store it and build it again. */
export interface DocumentData {
  readonly file: string
  readonly index: number
  readonly value: unknown
  readonly nodes: NodeTable
}

/** The positions of a file's text: where each line starts, and whether it begins with a byte-order mark. */
export interface TextPositions {
  readonly lineStarts: readonly number[]
  readonly bom: boolean
}

const STYLE_OTHER = 0
const STYLE_DOUBLE = 1
const STYLE_SINGLE = 2
const STYLE_LITERAL = 3

/** The data each view was built from, for storing it (`parsed-codec.ts`). */
const dataOf = new WeakMap<ParsedDocument, { data: DocumentData; positions: TextPositions }>()

/** The data a document view was built from, or undefined for a view not built here. */
export function documentData(
  doc: ParsedDocument,
): { data: DocumentData; positions: TextPositions } | undefined {
  return dataOf.get(doc)
}

/** Converts a document's syntax tree (aliases resolved by `targets`) into a {@link NodeTable}. */
export function nodeTable(root: ParsedNode, targets: ReadonlyMap<Alias, Node>): NodeTable {
  const nodes: (number | string | null)[][] = []
  // Only an anchored node can be reached twice (through an alias): only those are looked up.
  const anchored = new Map<unknown, number>()
  const enter = (node: unknown): number => {
    if (node === null || node === undefined) return -1
    const anchor = (node as ParsedNode).anchor !== undefined
    if (anchor) {
      const known = anchored.get(node)
      if (known !== undefined) return known
    }
    const index = nodes.length
    const range = (node as ParsedNode).range
    const entry: (number | string | null)[] = [0, range ? range[0] : 0, range ? range[1] : 0]
    nodes.push(entry)
    if (anchor) anchored.set(node, index)
    if (isScalar(node)) {
      const style =
        node.type === Scalar.QUOTE_DOUBLE
          ? STYLE_DOUBLE
          : node.type === Scalar.QUOTE_SINGLE
            ? STYLE_SINGLE
            : node.type === Scalar.BLOCK_LITERAL
              ? STYLE_LITERAL
              : STYLE_OTHER
      entry.push(style)
      if (style === STYLE_LITERAL) entry.push(String(node.value))
    } else if (isMap(node)) {
      entry[0] = 1
      for (const pair of node.items) {
        const key = pair.key
        entry.push(
          isScalar(key) ? enter(key) : -1,
          isScalar(key) ? String(key.value) : null,
          pair.value === null ? -1 : enter(pair.value),
        )
      }
    } else if (isSeq(node)) {
      entry[0] = 2
      for (const item of node.items) entry.push(item ? enter(item) : -1)
    } else if (isAlias(node)) {
      entry[0] = 3
      entry.push(enter(targets.get(node)))
    }
    return index
  }
  enter(root)
  return nodes
}

/** Where each line starts in a file, from the parser's line counter. */
export function lineCounterOf(positions: TextPositions): LineCounter {
  const counter = new LineCounter()
  for (const start of positions.lineStarts) counter.addNewLine(start)
  return counter
}

/** Turns an offset in the text into a location, as editors count: a leading byte-order mark is no column. */
export function locator(file: string, counter: LineCounter, bom: boolean): (offset: number) => Location {
  return (offset) => {
    const { line, col } = counter.linePos(offset)
    return { file, line, col: line === 1 ? Math.max(1, col - (bom ? 1 : 0)) : col }
  }
}

/** Builds the view of one document over its value and node table. */
export function documentView(
  data: DocumentData,
  positions: TextPositions,
  at: (offset: number) => Location,
  text: string,
): ParsedDocument {
  const { nodes } = data
  const start = (i: number) => nodes[i]![1] as number
  /** Walks the node table along `path`; returns the deepest node reached (and the key it is under). */
  const walk = (path: ValuePath): { node: number; key: number; complete: boolean } => {
    let node = 0
    let key = -1
    for (const segment of path) {
      let current = nodes[node]!
      if (current[0] === 3 && (current[3] as number) >= 0) current = nodes[current[3] as number]!
      if (current[0] === 1) {
        const name = String(segment)
        let found = -1
        for (let i = 3; i < current.length; i += 3) {
          if (current[i] !== -1 && current[i + 1] === name) {
            found = i
            break
          }
        }
        if (found < 0) return { node, key, complete: false }
        const keyNode = current[found] as number
        const valueNode = current[found + 2] as number
        if (valueNode < 0) return { node: keyNode, key: keyNode, complete: true }
        key = keyNode
        node = valueNode
      } else if (
        current[0] === 2 &&
        typeof segment === 'number' &&
        segment >= 0 &&
        3 + segment < current.length &&
        (current[3 + segment] as number) >= 0
      ) {
        // Sequence items are entries 3… of the node; an empty item (-1) is not there.
        key = -1
        node = current[3 + segment] as number
      } else {
        return { node, key, complete: false }
      }
    }
    return { node, key, complete: true }
  }
  const isScalarNode = (i: number) => nodes[i]![0] === 0
  const view: ParsedDocument = {
    file: data.file,
    index: data.index,
    value: data.value,
    locate: (path) => at(start(walk(path).node)),
    locateKey: (path) => {
      const found = walk(path)
      return at(start(found.complete && found.key >= 0 ? found.key : found.node))
    },
    locateInString: (path, charIndex) => {
      const found = walk(path)
      if (!found.complete || !isScalarNode(found.node)) return at(start(found.node))
      return at(offsetInScalar(nodes[found.node]!, charIndex, text))
    },
    sourceText: (path) => {
      const found = walk(path)
      if (!found.complete || !isScalarNode(found.node)) return undefined
      const entry = nodes[found.node]!
      return text.slice(entry[1] as number, entry[2] as number)
    },
  }
  dataOf.set(view, { data, positions })
  return view
}

/** Maps a character index in a scalar's value to an offset in the source, exactly where the style allows. */
function offsetInScalar(entry: readonly (number | string | null)[], index: number, text: string): number {
  const start = entry[1] as number
  const end = entry[2] as number
  const style = entry[3] as number
  const source = text.slice(start, end)
  if (style === STYLE_LITERAL) {
    const value = entry[4] as string
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
  if (style === STYLE_DOUBLE || style === STYLE_SINGLE)
    return Math.min(start + offsetInQuoted(source, index, style === STYLE_DOUBLE), end)
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
