/**
 * The names of the drill's scenarios, alone: `flotilla drill --help` lists them, and the CLI
 * declares its commands without loading what a drill needs (`scenarios.ts` imports the YAML
 * library and the fleet model).
 */

/** Names of the scenarios, in the order a drill runs them. */
export const SCENARIO_NAMES = [
  'misspelt-metadata-key',
  'stack-rename',
  'selection-matches-nothing',
  'condition-flipped',
  'account-dropped',
  'dns-broken-at-runtime',
  'freeze-deleted',
  'approval-removed',
] as const

/** A scenario's name. */
export type ScenarioName = (typeof SCENARIO_NAMES)[number]
