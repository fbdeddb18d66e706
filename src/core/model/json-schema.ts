import { z } from 'zod'
import { componentSettingsSchema, configDefaultsSchema } from './cluster-config.ts'
import { fleetSettingsSchema } from './fleet.ts'
import { accountsFileSchema, clustersFileSchema, teamsFileSchema } from './inventory.ts'
import { policyFileSchema } from './policy.ts'
import { policyTestFileSchema } from './policy-test.ts'
import { rolloutSchema } from './rollout.ts'
import { stackFileSchema } from './stack.ts'

/**
 * The repository's files and the schema each follows, with the globs editors use to apply them
 * (e.g. the YAML language server's `yaml.schemas` setting).
 */
export const REPOSITORY_SCHEMAS = [
  { name: 'fleet', schema: fleetSettingsSchema, files: ['fleet.yaml'] },
  { name: 'teams', schema: teamsFileSchema, files: ['inventory/teams.yaml'] },
  {
    name: 'accounts',
    schema: accountsFileSchema,
    files: ['inventory/accounts.yaml', 'inventory/accounts/*.yaml'],
  },
  {
    name: 'clusters',
    schema: clustersFileSchema,
    files: ['inventory/clusters.yaml', 'inventory/clusters/*.yaml'],
  },
  { name: 'config-defaults', schema: configDefaultsSchema, files: ['cluster/config-defaults.yaml'] },
  { name: 'component', schema: componentSettingsSchema, files: ['cluster/manifests/*/component.yaml'] },
  { name: 'policies', schema: policyFileSchema, files: ['policies/*.yaml'] },
  { name: 'policy-test', schema: policyTestFileSchema, files: ['policies/tests/*.yaml'] },
  { name: 'rollout', schema: rolloutSchema, files: ['rollout.yaml'] },
  { name: 'stack', schema: stackFileSchema, files: ['stacks/*.yaml'] },
] as const

/**
 * JSON Schema documents (draft 2020-12) for every repository file, generated from the same zod
 * schemas the loader uses, so editors validate exactly what `flotilla validate` does (except the
 * checks that need the whole repository: references, CEL types, stages).
 * Keyed by file name: `fleet.schema.json`, …
 */
export function repositorySchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const { name, schema, files } of REPOSITORY_SCHEMAS) {
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
    out[`${name}.schema.json`] = {
      $schema: json.$schema,
      $id: `https://flotilla.dev/schema/${name}.schema.json`,
      title: `Flotilla ${name} file (${files.join(', ')})`,
      ...Object.fromEntries(Object.entries(json).filter(([k]) => k !== '$schema')),
    }
  }
  return out
}

/** The text of a generated schema file: stable key order as generated, two-space indent, final newline. */
export function schemaFileText(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`
}
