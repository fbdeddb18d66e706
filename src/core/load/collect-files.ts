import { DiagnosticSink } from '../diagnostics.ts'
import type { FleetSource } from '../model/source.ts'
import { closest } from '../suggest.ts'
import { findInvisibleCharacters, invisibleCharacterMessage } from '../yaml/characters.ts'
import { findConfusableWords } from '../yaml/confusables.ts'
import { type ParsedDocument, type ParsedFile, parseYamlFile } from '../yaml/parse.ts'
import type { ComponentFiles } from './components.ts'
import { classifyPath, describeLayout } from './files.ts'
import type { LoadCache } from './load-cache.ts'

/**
 * Top-level names Flotilla reads, and names that belong somewhere else: what a top-level entry
 * close to one of these was meant to be. `polices/` must not silently mean "no policies".
 */
const TOP_LEVEL_MEANT: Readonly<Record<string, string>> = {
  'fleet.yaml': 'fleet.yaml',
  'rollout.yaml': 'rollout.yaml',
  'inventory/': 'inventory/',
  'stacks/': 'stacks/',
  'cluster/': 'cluster/',
  'policies/': 'policies/',
  'accounts.yaml': 'inventory/accounts.yaml',
  'clusters.yaml': 'inventory/clusters.yaml',
  'teams.yaml': 'inventory/teams.yaml',
  'config-defaults.yaml': 'cluster/config-defaults.yaml',
  'accounts/': 'inventory/accounts/',
  'clusters/': 'inventory/clusters/',
  'manifests/': 'cluster/manifests/',
}
const READ_AT_TOP_LEVEL = new Set([
  'fleet.yaml',
  'fleet.yml',
  'rollout.yaml',
  'rollout.yml',
  'inventory/',
  'stacks/',
  'cluster/',
  'policies/',
])

/** Reports top-level entries that look like a misspelt or misplaced part of the repository. */
function checkTopLevel(names: readonly string[], sink: DiagnosticSink): void {
  for (const name of names) {
    if (READ_AT_TOP_LEVEL.has(name)) continue
    const normal = name.replace(/\.yml$/, '.yaml')
    const near = Object.hasOwn(TOP_LEVEL_MEANT, normal)
      ? normal
      : closest(normal, Object.keys(TOP_LEVEL_MEANT), normal.length > 5 ? 3 : 1)
    if (near === undefined) continue
    sink.error(
      { file: name, line: 1, col: 1 },
      'unexpected-file',
      `Flotilla does not read ${name}; did you mean ${TOP_LEVEL_MEANT[near]}? Rename or move it (as it is, it is ignored)`,
    )
  }
}

/** Files every fleet repository must have. */
const REQUIRED_FILES = ['fleet.yaml', 'inventory/teams.yaml', 'rollout.yaml'] as const

/** The parsed files of a repository, sorted into what they are. */
export interface CollectedFiles {
  /** Parsed documents by file role (`fleet`, `teams`, `accounts`, `stack`, …). */
  readonly byRole: ReadonlyMap<string, readonly ParsedDocument[]>
  /** Parsed files of each cluster component, by component name. */
  readonly components: ReadonlyMap<string, ComponentFiles>
  /**
   * Roles with a file that was reported and skipped: what it defines is unknown, so nothing is
   * checked against it (one malformed teams.yaml must not also make every account's team "missing").
   */
  readonly unreadable: ReadonlySet<string>
}

/**
 * Classifies and parses every file of the source, reporting unexpected, duplicated, missing,
 * malformed and empty files. Files are taken in path order, whatever order the source lists them
 * in: the same repository must give the same manifests in the same order, and the same "first
 * defined at" in every message.
 */
export function collectFiles(source: FleetSource, sink: DiagnosticSink, cache?: LoadCache): CollectedFiles {
  checkTopLevel(source.topLevel, sink)
  const byRole = new Map<string, ParsedDocument[]>()
  const components = new Map<string, ComponentFiles>()
  const seenNormal = new Map<string, string>()
  const unreadable = new Set<string>()

  for (const [path, text] of [...source.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const role = classifyPath(path)
    if (role.role === 'ignored') continue
    // A file or folder name is part of what the repository says (a component is named by its
    // folder): `corеdns` with a Cyrillic е would be a second component that looks like the first.
    if (!checkFileName(path, sink)) continue
    if (role.role === 'policy-test') continue
    if (role.role === 'unexpected') {
      sink.error(
        { file: path, line: 1, col: 1 },
        'unexpected-file',
        `Flotilla does not read ${path}${role.suggestion ? `; did you mean ${role.suggestion}?` : ''} (the layout is: ${describeLayout()}); move or rename it`,
      )
      continue
    }
    const normal = path.replace(/\.yml$/, '.yaml')
    const twin = seenNormal.get(normal)
    if (twin) {
      sink.error(
        { file: path, line: 1, col: 1 },
        'duplicate-file',
        `${path} and ${twin} are the same file under two extensions; keep one`,
      )
      continue
    }
    seenNormal.set(normal, path)
    const parsed = parseWithCache(path, text, sink, role.role === 'manifest', cache)
    const multiDocument = role.role === 'manifest'
    if (parsed && !multiDocument && parsed.documents.length > 1) {
      sink.error(
        parsed.documents[1]!.locate([]),
        'multiple-documents',
        `${path} must hold one YAML document; remove the extra "---"`,
      )
    }
    if (!parsed || (!multiDocument && parsed.documents.length > 1)) {
      if (role.role === 'component-settings')
        componentFiles(components, role.component, path).settingsUnreadable = true
      else unreadable.add(role.role)
      continue
    }
    if (role.role === 'component-settings' || role.role === 'manifest') {
      const files = componentFiles(components, role.component, path)
      if (role.role === 'component-settings') files.settings = parsed.documents[0]
      else files.manifests.push(...parsed.documents)
      continue
    }
    if (parsed.documents.length === 0) {
      if (role.role !== 'policy' && role.role !== 'accounts' && role.role !== 'clusters') {
        sink.error({ file: path, line: 1, col: 1 }, 'empty-file', `${path} is empty`)
        unreadable.add(role.role)
      }
      continue
    }
    const list = byRole.get(role.role) ?? []
    list.push(parsed.documents[0]!)
    byRole.set(role.role, list)
  }
  for (const required of REQUIRED_FILES) {
    const present = [...source.files.keys()].some((p) => p.replace(/\.yml$/, '.yaml') === required)
    if (!present) {
      sink.error(
        { file: required, line: 1, col: 1 },
        'missing-file',
        `${required} is missing; every fleet repository needs it (see "flotilla init --example")`,
      )
      unreadable.add(classifyPath(required).role)
    }
  }

  return { byRole, components, unreadable }
}

/**
 * Reports invisible and look-alike characters in a file's path, which escapes cannot fix: the file
 * or folder is to be renamed. Returns false when there are any.
 */
function checkFileName(path: string, sink: DiagnosticSink): boolean {
  // The messages' first clause names the character; what they say to do applies to file contents.
  const what = (message: string) => message.split('; ')[0]!
  const problems = [
    ...findInvisibleCharacters(path).map((found) => ({
      rule: 'invisible-character',
      message: `the path contains ${what(invisibleCharacterMessage(found))}`,
    })),
    ...findConfusableWords(path).map((found) => ({
      rule: 'confusable-character',
      message: `in the path, ${what(found.message)}`,
    })),
  ]
  for (const { rule, message } of problems) {
    sink.error({ file: path, line: 1, col: 1 }, rule, `${message}; rename the file or folder`)
  }
  return problems.length === 0
}

/** The files of component `name`, registered on first sight. */
function componentFiles(components: Map<string, ComponentFiles>, name: string, path: string): ComponentFiles {
  let files = components.get(name)
  if (!files) {
    files = { settings: undefined, settingsUnreadable: false, manifests: [], firstFile: path }
    components.set(name, files)
  }
  return files
}

/** Parses a file, or replays an earlier parse of the same path and text (diagnostics included). */
function parseWithCache(
  path: string,
  text: string,
  sink: DiagnosticSink,
  manifest: boolean,
  cache: LoadCache | undefined,
): ParsedFile | undefined {
  if (!cache) return parseYamlFile(path, text, sink, { yaml11Warnings: manifest })
  let entry = cache.parsed(path, text)
  if (!entry) {
    const own = new DiagnosticSink()
    const file = parseYamlFile(path, text, own, { yaml11Warnings: manifest })
    entry = { file, errors: own.errors, warnings: own.warnings }
    cache.rememberParse(path, text, entry)
  }
  sink.errors.push(...entry.errors)
  sink.warnings.push(...entry.warnings)
  return entry.file
}
