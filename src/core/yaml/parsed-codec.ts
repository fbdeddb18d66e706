import type { Diagnostic } from '../diagnostics.ts'
import { CfnTag } from './cfn-tags.ts'
import { type DocumentData, documentData, documentView, lineCounterOf, locator } from './document-view.ts'
import type { ParsedFile } from './parse.ts'

/**
 * The version of the stored form of a parse. Bump it whenever what a parse produces changes (its
 * values, positions or diagnostics) or how it is stored: entries of another version are never
 * read, they are parsed again.
 */
export const PARSED_FILE_FORMAT = 1

/** What parsing one file produced: the file (when it had no error) and its diagnostics, to replay. */
export interface ParseOutcome {
  readonly file: ParsedFile | undefined
  readonly errors: readonly Diagnostic[]
  readonly warnings: readonly Diagnostic[]
}

/** The key a special value is stored under: a key no JSON object written here has otherwise. */
const MARK = '\u0000'

/**
 * Stores a parse as JSON: values (CloudFormation tags, non-finite numbers and -0 included), the
 * positions of every node, and the diagnostics. Returns undefined for a file whose documents were
 * not built by `parseYamlFile` (nothing else can be stored faithfully).
 */
export function encodeParseOutcome(outcome: ParseOutcome): string | undefined {
  let positions: { lineStarts: readonly number[]; bom: boolean } | undefined
  const documents: { index: number; value: unknown; nodes: DocumentData['nodes'] }[] = []
  for (const doc of outcome.file?.documents ?? []) {
    const stored = documentData(doc)
    if (!stored) return undefined
    positions = stored.positions
    documents.push({
      index: stored.data.index,
      value: encodeValue(stored.data.value),
      nodes: stored.data.nodes,
    })
  }
  return JSON.stringify({
    format: PARSED_FILE_FORMAT,
    file: outcome.file?.file ?? null,
    positions: positions ?? null,
    documents,
    errors: outcome.errors,
    warnings: outcome.warnings,
  })
}

/**
 * Reads back a stored parse of `text` at `path`. Returns undefined for anything that is not a
 * stored parse of this format and path (a corrupt or foreign entry is parsed again, never an error).
 */
export function decodeParseOutcome(json: string, path: string, text: string): ParseOutcome | undefined {
  let stored: unknown
  try {
    stored = JSON.parse(json)
  } catch {
    return undefined
  }
  if (!isRecord(stored) || stored.format !== PARSED_FILE_FORMAT) return undefined
  const { file, positions, documents, errors, warnings } = stored
  if (!Array.isArray(documents) || !isDiagnostics(errors, path) || !isDiagnostics(warnings, path))
    return undefined
  if (file === null) return documents.length === 0 ? { file: undefined, errors, warnings } : undefined
  if (file !== path || !isPositions(positions)) return undefined
  const at = locator(path, lineCounterOf(positions), positions.bom)
  const views = []
  for (const doc of documents) {
    if (
      !isRecord(doc) ||
      typeof doc.index !== 'number' ||
      !Array.isArray(doc.nodes) ||
      doc.nodes.length === 0
    )
      return undefined
    if (!doc.nodes.every(Array.isArray)) return undefined
    const data: DocumentData = {
      file: path,
      index: doc.index,
      value: decodeValue(doc.value),
      nodes: doc.nodes as DocumentData['nodes'],
    }
    views.push(documentView(data, positions, at, text))
  }
  return { file: { file: path, documents: views }, errors, warnings }
}

function encodeValue(value: unknown): unknown {
  if (typeof value === 'number') {
    return Number.isFinite(value) && !Object.is(value, -0)
      ? value
      : { [MARK]: 'number', value: Object.is(value, -0) ? '-0' : String(value) }
  }
  if (value === null || typeof value !== 'object') return value
  if (value instanceof CfnTag) return { [MARK]: 'tag', tag: value.tag, value: encodeValue(value.value) }
  if (Array.isArray(value)) return value.map(encodeValue)
  const entries = Object.entries(value)
  // A mapping with the mark as a key (`"\0": x` is valid YAML) is stored as a list of entries.
  if (Object.hasOwn(value, MARK))
    return { [MARK]: 'map', entries: entries.map(([k, v]) => [k, encodeValue(v)]) }
  const out: Record<string, unknown> = {}
  for (const [k, v] of entries) setOwn(out, k, encodeValue(v))
  return out
}

function decodeValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = decodeValue(value[i])
    return value
  }
  const record = value as Record<string, unknown>
  if (Object.hasOwn(record, MARK)) {
    const kind = record[MARK]
    if (kind === 'number') return Number(record.value)
    if (kind === 'tag') return new CfnTag(String(record.tag), decodeValue(record.value))
    const out: Record<string, unknown> = {}
    for (const [k, v] of record.entries as [string, unknown][]) setOwn(out, k, decodeValue(v))
    return out
  }
  // JSON.parse makes every key an own property (`__proto__` too), so the object is kept as it is.
  for (const key of Object.keys(record)) record[key] = decodeValue(record[key])
  return record
}

/** Sets a property even when it is called `__proto__`, which a plain assignment would not. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true })
  else target[key] = value
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function isPositions(value: unknown): value is { lineStarts: number[]; bom: boolean } {
  return isRecord(value) && Array.isArray(value.lineStarts) && typeof value.bom === 'boolean'
}

function isDiagnostics(value: unknown, path: string): value is Diagnostic[] {
  return (
    Array.isArray(value) &&
    value.every(
      (d) =>
        isRecord(d) &&
        typeof d.file === 'string' &&
        typeof d.line === 'number' &&
        typeof d.col === 'number' &&
        typeof d.message === 'string' &&
        typeof d.rule === 'string' &&
        d.file === path,
    )
  )
}
