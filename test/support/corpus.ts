import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseDocument } from 'yaml'

/**
 * The corpus of real CloudFormation templates and Kubernetes manifests written by others, and how
 * tests place a template in a fixture fleet (a copy, never the original).
 */
// A byte-for-byte copy of the shared corpus (with its SOURCES.md and licenses), so that the test
// runs in any clone; corpus-copy.test.ts checks it against the original when that is at hand.
export const CORPUS = new URL('../fixtures/corpus/', import.meta.url)
export const CFN_DIR = new URL('cloudformation/', CORPUS)
export const K8S_DIR = new URL('kubernetes/', CORPUS)

const yamlFiles = (dir: URL): string[] =>
  readdirSync(fileURLToPath(dir))
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
export const cfnFiles = yamlFiles(CFN_DIR)
export const k8sFiles = yamlFiles(K8S_DIR)
export const read = (dir: URL, name: string): string =>
  readFileSync(fileURLToPath(new URL(name, dir)), 'utf8')

/** A lowercase name usable as a StackName and as a component directory. */
export function slugOf(file: string): string {
  return file
    .replace(/\.ya?ml$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
}

/** Plain data of a YAML text, read independently of Flotilla's parser (unknown tags resolve silently). */
export function plainYaml(text: string): Record<string, unknown> {
  return parseDocument(text, { logLevel: 'silent' }).toJS() as Record<string, unknown>
}

/** A value for a template parameter without a Default: its first allowed value, or one of its type. */
export function parameterValue(declaration: Record<string, unknown>): string | number | string[] {
  const allowed = declaration.AllowedValues
  if (Array.isArray(allowed) && allowed.length > 0) return allowed[0] as string | number
  const type = String(declaration.Type)
  if (type === 'Number') return typeof declaration.MinValue === 'number' ? declaration.MinValue : 1
  if (type.startsWith('List<') || type === 'CommaDelimitedList') return ['corpus-a', 'corpus-b']
  return 'corpus-value'
}

/**
 * Adds Flotilla's keys to a copy of a template, textually: under the template's own top-level
 * `Metadata:` with the same indentation as its keys, or as a new `Metadata:` block at the end.
 */
export function withFlotillaMetadata(
  text: string,
  stackName: string,
  parameters: Record<string, unknown>,
): string {
  const entries = [`StackName: ${stackName}`]
  if (Object.keys(parameters).length > 0) entries.push(`Parameters: ${JSON.stringify(parameters)}`)
  const lines = text.split('\n')
  const metadataLine = lines.findIndex((line) => /^Metadata:\s*(#.*)?$/.test(line))
  if (metadataLine < 0) {
    return `${text.endsWith('\n') ? text : `${text}\n`}Metadata:\n${entries.map((e) => `  ${e}\n`).join('')}`
  }
  const firstChild = lines
    .slice(metadataLine + 1)
    .find((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
  const indent = /^ +/.exec(firstChild ?? '')?.[0] ?? '  '
  lines.splice(metadataLine + 1, 0, ...entries.map((e) => `${indent}${e}`))
  return lines.join('\n')
}

export interface PreparedTemplate {
  readonly original: Record<string, unknown>
  readonly stackName: string
  readonly parameters: Record<string, string | number | string[]>
  readonly text: string
}

export function prepareTemplate(file: string): PreparedTemplate {
  const source = read(CFN_DIR, file)
  const original = plainYaml(source)
  const declared = (original.Parameters ?? {}) as Record<string, Record<string, unknown>>
  const parameters: Record<string, string | number | string[]> = {}
  for (const [name, declaration] of Object.entries(declared)) {
    if (!Object.hasOwn(declaration, 'Default')) parameters[name] = parameterValue(declaration)
  }
  const stackName = `corpus-${slugOf(file)}`
  return { original, stackName, parameters, text: withFlotillaMetadata(source, stackName, parameters) }
}
