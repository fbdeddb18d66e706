import { InputError } from '../core/errors.ts'
import { componentFiles } from './components.ts'
import { generateInventory } from './inventory.ts'
import { writeInventoryFiles } from './inventory-files.ts'
import { policyFiles } from './policies.ts'
import { policyTestFiles } from './policy-tests.ts'
import { readmeFile } from './readme.ts'
import { ROLLOUT } from './rollout.ts'
import { CONFIG_DEFAULTS, fleetFile } from './settings.ts'
import { stackFiles } from './stacks.ts'

/** Sizes and seed of the example fleet. */
export interface ExampleOptions {
  /**
   * Number of accounts, ops accounts included (at least 10, at most 5000).
   * @default 300
   */
  accounts?: number
  /**
   * Number of clusters (0 to 5000). Beyond one per active account, accounts get a second one.
   * @default 250
   */
  clusters?: number
  /**
   * Seed of every random choice; `1` and `"1"` are the same seed.
   * @default 1
   */
  seed?: string | number
}

/** The bounds of {@link ExampleOptions}: small enough to fill every rollout stage, large enough to load-test. */
export const EXAMPLE_LIMITS = { accounts: { min: 10, max: 5000 }, clusters: { min: 0, max: 5000 } } as const

/**
 * Generates a realistic fleet repository: teams, accounts in every environment, criticality and
 * channel, an `ops` group, clusters with node pools, account stacks, cluster components,
 * policies with their tests and rollout stages. It loads without errors or warnings.
 *
 * Pure and deterministic: the same options give byte-identical files, and files are returned
 * sorted by path. Each concern draws from its own random stream, so changing `clusters` leaves
 * the teams and accounts as they were.
 *
 * @returns repository-relative path → file text
 * @throws {InputError} when a size is not a whole number within {@link EXAMPLE_LIMITS}
 * @example
 * const files = generateExampleFleet({ accounts: 20, clusters: 15, seed: 'demo' })
 * loadFleet(memorySource(files)) // { ok: true, … }
 */
export function generateExampleFleet(options: ExampleOptions = {}): Map<string, string> {
  const accounts = checkSize('accounts', options.accounts ?? 300)
  const clusters = checkSize('clusters', options.clusters ?? 250)
  const seed = String(options.seed ?? 1)
  const inventory = generateInventory(accounts, clusters, seed)

  const files = new Map<string, string>()
  files.set('README.md', readmeFile({ seed, inventory }))
  files.set(
    '.gitignore',
    "# Flotilla's embedded database, when no FLOTILLA_DATABASE_URL is set\n.flotilla/\n",
  )
  files.set('e2e/run.sh', E2E_SCRIPT)
  files.set(
    'fleet.yaml',
    fleetFile(
      `Example fleet: ${accounts} accounts and ${clusters} clusters (flotilla init --example --seed ${seed})`,
    ),
  )
  writeInventoryFiles(inventory, files)
  files.set('cluster/config-defaults.yaml', CONFIG_DEFAULTS)
  for (const [path, text] of componentFiles()) files.set(path, text)
  for (const [path, text] of stackFiles(inventory.opsAccountIds)) files.set(path, text)
  for (const [path, text] of policyFiles()) files.set(path, text)
  for (const [path, text] of policyTestFiles(inventory)) files.set(path, text)
  files.set('rollout.yaml', ROLLOUT)
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

function checkSize(name: keyof typeof EXAMPLE_LIMITS, value: number): number {
  const { min, max } = EXAMPLE_LIMITS[name]
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InputError(`--${name} must be a whole number from ${min} to ${max}, not ${String(value)}`)
  }
  return value
}

/** The command the `e2e` gate runs; it only marks the place for a real end-to-end suite. */
const E2E_SCRIPT = `#!/bin/sh
# End-to-end test for one target, run by the e2e gate in rollout.yaml:
#   sh e2e/run.sh <target id>
# Exit 0 passes the gate; anything else fails it and halts the rollout.
# This placeholder passes: replace it with your end-to-end suite.
set -eu
target="\${1:?usage: e2e/run.sh TARGET_ID}"
echo "e2e: no end-to-end tests yet for \${target}"
`
