import { type Diagnostic, DiagnosticSink } from '../diagnostics.ts'
import { configDefaultsSchema } from '../model/cluster-config.ts'
import { fleetSettingsSchema } from '../model/fleet.ts'
import type { Fleet } from '../model/fleet-model.ts'
import type { DesiredState } from '../render/desired-state.ts'
import { renderFleet } from '../render/render-fleet.ts'
import type { FleetSource } from '../source/source.ts'
import { checkGateTemplates } from '../validate/gates.ts'
import { assignStages } from '../validate/stages.ts'
import { type ParsedDocument, parseYamlFile } from '../yaml/parse.ts'
import { type ComponentFiles, loadComponents } from './components.ts'
import { classifyPath, describeLayout } from './files.ts'
import { loadInventory } from './inventory.ts'
import { loadPolicies } from './policies.ts'
import { loadRollout } from './rollout.ts'
import { checkSchema } from './schema-check.ts'
import { loadStacks } from './stacks.ts'

/** The outcome of loading a repository: a complete, valid fleet, or every error found. Never half of one. */
export type LoadResult =
  | { readonly ok: true; readonly fleet: Fleet; readonly warnings: readonly Diagnostic[] }
  | { readonly ok: false; readonly errors: readonly Diagnostic[]; readonly warnings: readonly Diagnostic[] }

const REQUIRED_FILES = ['fleet.yaml', 'inventory/teams.yaml', 'rollout.yaml'] as const

/**
 * Loads, validates and renders a fleet repository: parses every file, checks it against the
 * schemas and every cross-reference, compiles every expression, renders every target and assigns
 * it to its rollout stage. Every problem is collected (not just the first); the fleet is returned
 * only when there is none. Pure: the source is already in memory.
 */
export function loadFleet(source: FleetSource): LoadResult {
  const sink = new DiagnosticSink()
  const byRole = new Map<string, ParsedDocument[]>()
  const components = new Map<string, ComponentFiles>()
  const seenNormal = new Map<string, string>()
  // Roles with a file that was reported and skipped: what it defines is unknown, so nothing is
  // checked against it (one malformed teams.yaml must not also make every account's team "missing").
  const unreadable = new Set<string>()

  // In path order, whatever order the source lists them in: the same repository must give the
  // same manifests in the same order, and the same "first defined at" in every message.
  for (const [path, text] of [...source.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const role = classifyPath(path)
    if (role.role === 'ignored' || role.role === 'policy-test') continue
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
    const parsed = parseYamlFile(path, text, sink, { yaml11Warnings: role.role === 'manifest' })
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

  const docs = (role: string): ParsedDocument[] => byRole.get(role) ?? []
  const fleetDoc = docs('fleet')[0]
  const settings = fleetDoc ? checkSchema(fleetSettingsSchema, fleetDoc, sink) : undefined
  const defaultsDoc = docs('config-defaults')[0]
  const configDefaults = defaultsDoc
    ? checkSchema(configDefaultsSchema, defaultsDoc, sink)
    : unreadable.has('config-defaults')
      ? undefined
      : configDefaultsSchema.parse({})
  const inventory = loadInventory(
    { teams: docs('teams'), accounts: docs('accounts'), clusters: docs('clusters'), unreadable },
    settings,
    configDefaults,
    sink,
  )
  const stacks = loadStacks(docs('stack'), sink)
  const loadedComponents = loadComponents(components, sink)
  const policies = loadPolicies(docs('policy'), sink)
  const rolloutDoc = docs('rollout')[0]
  const rollout = rolloutDoc ? loadRollout(rolloutDoc, sink) : undefined

  let stageOf = new Map<string, string>()
  let desired = new Map<string, DesiredState>()
  if (settings) {
    // Without the config defaults every cluster would miss config items: errors that are not there.
    if (rollout) {
      stageOf = assignStages(rollout, inventory.targets, settings, sink)
      if (configDefaults)
        checkGateTemplates(rollout, stageOf, inventory.targets, inventory.accounts, settings, sink)
    }
    if (configDefaults)
      desired = renderFleet({ settings, ...inventory, stacks, components: loadedComponents }, sink)
  }

  const { errors, warnings } = sink.sorted()
  if (errors.length > 0 || !settings || !rollout || !configDefaults || !fleetDoc) {
    return { ok: false, errors, warnings }
  }
  return {
    ok: true,
    warnings,
    fleet: {
      source: source.ref,
      settings: { ...settings, at: fleetDoc.locate([]) },
      teams: inventory.teams,
      accounts: inventory.accounts,
      clusters: inventory.clusters,
      targets: inventory.targets,
      configDefaults,
      stacks,
      components: loadedComponents,
      policies,
      rollout,
      stageOf,
      desired,
    },
  }
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
