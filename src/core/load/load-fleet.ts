import { type Diagnostic, DiagnosticSink } from '../diagnostics.ts'
import { configDefaultsSchema } from '../model/cluster-config.ts'
import type { DesiredState } from '../model/desired-state.ts'
import { fleetSettingsSchema } from '../model/fleet.ts'
import type { Fleet, Target } from '../model/fleet-model.ts'
import type { FleetSource } from '../model/source.ts'
import { renderFleet } from '../render/render-fleet.ts'
import { checkGateTemplates } from '../validate/gates.ts'
import { checkStageCoverage } from '../validate/stage-coverage.ts'
import { assignStages } from '../validate/stages.ts'
import type { ParsedDocument } from '../yaml/parse.ts'
import { collectFiles } from './collect-files.ts'
import { loadComponents } from './components.ts'
import { loadInventory } from './inventory.ts'
import type { LoadCache } from './load-cache.ts'
import { loadPolicies } from './policies.ts'
import { loadRollout } from './rollout.ts'
import { checkSchema } from './schema-check.ts'
import { loadStacks } from './stacks.ts'

/** How to load. */
export interface LoadOptions {
  /**
   * Work shared with other loads of the same repository (the base and head of a plan): unchanged
   * files are not parsed, compiled or rendered again. @default no sharing
   */
  readonly cache?: LoadCache
  /**
   * Renders only the targets this selects (`flotilla render --target`): the fleet's `desired` then
   * holds those alone, and what concerns only the whole fleet's rollout — the gates' templates — is
   * not checked. Everything is still parsed and checked against the schemas, and every target
   * assigned its stage. @default every target is rendered, and everything checked
   */
  readonly renderOnly?: (target: Target) => boolean
}

/** The outcome of loading a repository: a complete, valid fleet, or every error found. Never half of one. */
export type LoadResult =
  | { readonly ok: true; readonly fleet: Fleet; readonly warnings: readonly Diagnostic[] }
  | { readonly ok: false; readonly errors: readonly Diagnostic[]; readonly warnings: readonly Diagnostic[] }

/**
 * Loads, validates and renders a fleet repository: parses every file, checks it against the
 * schemas and every cross-reference, compiles every expression, renders every target and assigns
 * it to its rollout stage. Every problem is collected (not just the first); the fleet is returned
 * only when there is none. Pure: the source is already in memory.
 */
export function loadFleet(source: FleetSource, options: LoadOptions = {}): LoadResult {
  const { cache, renderOnly } = options
  cache?.beginLoad()
  const sink = new DiagnosticSink()
  const { byRole, components, unreadable } = collectFiles(source, sink, cache)
  const docs = (role: string): readonly ParsedDocument[] => byRole.get(role) ?? []
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
  const stacks = loadStacks(docs('stack'), sink, cache)
  const loadedComponents = loadComponents(components, sink, cache)
  const policies = loadPolicies(docs('policy'), sink)
  const rolloutDoc = docs('rollout')[0]
  const rollout = rolloutDoc ? loadRollout(rolloutDoc, sink) : undefined

  let stageOf = new Map<string, string>()
  let desired = new Map<string, DesiredState>()
  if (settings) {
    // Without the config defaults every cluster would miss config items: errors that are not there.
    if (rollout) {
      stageOf = assignStages(rollout, inventory.targets, settings, sink)
      if (configDefaults && !renderOnly)
        checkGateTemplates(rollout, stageOf, inventory.targets, inventory.accounts, settings, sink)
    }
    if (configDefaults)
      desired = renderFleet(
        { settings, ...inventory, stacks, components: loadedComponents },
        sink,
        cache,
        renderOnly,
      )
    // Coverage compares what whole stages receive: not for a partial render, and not over a fleet
    // whose errors already left some of it unrendered (its gaps would be false).
    if (rollout && configDefaults && !renderOnly && !sink.hasErrors)
      checkStageCoverage({ rollout, stageOf, desired }, settings.coverage.stages, sink)
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
      policies: policies.rules,
      policyOverrides: policies.overrides,
      rollout,
      stageOf,
      desired,
    },
  }
}
