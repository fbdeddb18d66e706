import { describe, expect, test } from 'vitest'
import { isMap, isScalar, isSeq, type Node, parseAllDocuments, parseDocument } from 'yaml'
import { formatDiagnostic } from '../src/core/diagnostics.ts'
import { loadFleet } from '../src/core/load/load-fleet.ts'
import type { RenderedStack } from '../src/core/model/desired-state.ts'
import type { Fleet } from '../src/core/model/fleet-model.ts'
import { CfnTag } from '../src/core/yaml/cfn-tags.ts'
import {
  CFN_DIR,
  cfnFiles,
  K8S_DIR,
  k8sFiles,
  prepareTemplate,
  read,
  slugOf,
  withFlotillaMetadata,
} from './support/corpus.ts'
import { fixtureSource } from './support/fixture-fleet.ts'

/**
 * Real templates and manifests written by others (`test/fixtures/corpus`, a copy of the shared
 * corpus; see its SOURCES.md) must load,
 * validate and render when placed in a fleet repository. The files are read, never modified: each
 * test places a copy in an in-memory fixture fleet.
 */
/** Loads the fixture fleet with extra files and fails with every diagnostic when it is invalid. */
function loadWith(files: Record<string, string>): Fleet {
  const result = loadFleet(fixtureSource(files))
  if (!result.ok)
    expect.fail(`expected the fleet to load:\n${result.errors.map(formatDiagnostic).join('\n')}`)
  return result.fleet
}

type Path = (string | number)[]

/** Every node carrying a `!Tag`, with its path, found by walking the YAML syntax tree. */
function taggedNodes(text: string): { path: Path; tag: string }[] {
  const found: { path: Path; tag: string }[] = []
  const walk = (node: unknown, path: Path): void => {
    if (node === null || typeof node !== 'object') return
    const tag = (node as Node).tag
    if (typeof tag === 'string' && tag.startsWith('!')) found.push({ path, tag })
    if (isMap(node)) {
      for (const pair of node.items) {
        if (isScalar(pair.key)) walk(pair.value, [...path, String(pair.key.value)])
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        walk(item, [...path, i])
      })
    }
  }
  walk(parseDocument(text, { logLevel: 'silent' }).contents, [])
  return found
}

/** The value at `path` in rendered data, looking through the {@link CfnTag}s on the way. */
function renderedAt(value: unknown, path: Path): unknown {
  let current = value
  for (const segment of path) {
    if (current instanceof CfnTag) current = current.value
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<string | number, unknown>)[segment]
  }
  return current
}

/** Every string in a value (inside tags too), with its path. */
function stringsIn(value: unknown, path: Path = []): { path: Path; text: string }[] {
  if (typeof value === 'string') return [{ path, text: value }]
  if (value instanceof CfnTag) return stringsIn(value.value, path)
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsIn(v, [...path, i]))
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => stringsIn(v, [...path, k]))
  return []
}

function renderedStacks(fleet: Fleet, stackName: string): RenderedStack[] {
  return [...fleet.desired.values()].flatMap((d) => d.stacks.filter((s) => s.stackName === stackName))
}

describe('the corpus', () => {
  test('is found relative to the test file', () => {
    expect(cfnFiles).toHaveLength(40)
    expect(k8sFiles).toHaveLength(15)
  })

  test('{{resolve:…}} dynamic references come out exactly as written', () => {
    const withReferences = cfnFiles.filter((file) => read(CFN_DIR, file).includes('{{resolve:'))
    expect(withReferences.length).toBeGreaterThan(0)
    for (const file of withReferences) {
      const prepared = prepareTemplate(file)
      const fleet = loadWith({ [`stacks/${prepared.stackName}.yaml`]: prepared.text })
      const [stack] = renderedStacks(fleet, prepared.stackName)
      const references = stringsIn(prepared.original.Resources).filter((s) => s.text.includes('{{resolve:'))
      expect(references.length, file).toBeGreaterThan(0)
      for (const { path, text } of references) {
        const value = renderedAt(stack!.template, ['Resources', ...path])
        expect(value instanceof CfnTag ? value.value : value, `${file}: ${path.join('.')}`).toBe(text)
      }
    }
  })

  test('Metadata is inserted under an existing top-level Metadata with its indentation', () => {
    const text = 'Metadata:\n    License: x\nResources: {}\n'
    expect(withFlotillaMetadata(text, 's', { P: 'v' })).toBe(
      'Metadata:\n    StackName: s\n    Parameters: {"P":"v"}\n    License: x\nResources: {}\n',
    )
    expect(withFlotillaMetadata('Resources: {}', 's', {})).toBe('Resources: {}\nMetadata:\n  StackName: s\n')
  })
})

describe.each(cfnFiles)('CloudFormation corpus: %s', (file) => {
  const prepared = prepareTemplate(file)
  const source = read(CFN_DIR, file)
  const fleet = (): Fleet => loadWith({ [`stacks/${prepared.stackName}.yaml`]: prepared.text })

  test('loads as a stack and renders in every active account region', () => {
    const stacks = renderedStacks(fleet(), prepared.stackName)
    // Three active accounts, one of them with two regions; the default scope is per region.
    expect(stacks.map((s) => s.address).sort()).toEqual([
      `111111111111/eu-central-1/${prepared.stackName}`,
      `111111111111/eu-west-1/${prepared.stackName}`,
      `222222222222/eu-central-1/${prepared.stackName}`,
      `333333333333/eu-central-1/${prepared.stackName}`,
    ])
    for (const stack of stacks) {
      expect(stack.parameters).toEqual(
        Object.fromEntries(
          Object.entries(prepared.parameters).map(([k, v]) => [
            k,
            Array.isArray(v) ? v.join(',') : String(v),
          ]),
        ),
      )
    }
  })

  test('keeps every resource', () => {
    const stacks = renderedStacks(fleet(), prepared.stackName)
    const logicalIds = Object.keys(prepared.original.Resources as object)
    expect(logicalIds.length).toBeGreaterThan(0)
    const rendered = new Set(
      stacks.flatMap((s) => Object.keys((s.template as { Resources: object }).Resources)),
    )
    for (const id of logicalIds) expect(rendered, id).toContain(id)
  })

  test('keeps short tags as CfnTags at the same places', () => {
    const [stack] = renderedStacks(fleet(), prepared.stackName)
    const tags = taggedNodes(source)
    for (const { path, tag } of tags) {
      const value = renderedAt(stack!.template, path)
      expect(value, path.join('.')).toBeInstanceOf(CfnTag)
      expect((value as CfnTag).tag, path.join('.')).toBe(tag)
    }
  })

  test('leaves every string as written, {{resolve:…}} and ${…} included', () => {
    const [stack] = renderedStacks(fleet(), prepared.stackName)
    const { Metadata: _flotilla, ...rest } = prepared.original
    for (const { path, text } of stringsIn(rest)) {
      const value = renderedAt(stack!.template, path)
      expect(value instanceof CfnTag ? value.value : value, path.join('.')).toBe(text)
    }
  })

  test("keeps CloudFormation's own Metadata keys and removes Flotilla's", () => {
    const [stack] = renderedStacks(fleet(), prepared.stackName)
    const template = stack!.template as Record<string, unknown>
    const ownMetadata = prepared.original.Metadata as Record<string, unknown> | undefined
    if (ownMetadata === undefined) {
      expect(template).not.toHaveProperty('Metadata')
    } else {
      expect(Object.keys(template.Metadata as object).sort()).toEqual(Object.keys(ownMetadata).sort())
    }
    // Every top-level section of the original is still there, and nothing else.
    expect(Object.keys(template).sort()).toEqual(Object.keys(prepared.original).sort())
  })
})

/** Kubernetes objects in a file: every non-empty document, with `kind: *List` counting its items. */
function countObjects(text: string): number {
  const count = (value: unknown): number => {
    const v = value as { kind?: unknown; items?: unknown } | null
    if (v && typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items))
      return v.items.reduce((n: number, item) => n + count(item), 0)
    return 1
  }
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as unknown)
    .filter((value) => value !== null && value !== undefined)
    .reduce((n: number, value) => n + count(value), 0)
}

describe.each(k8sFiles)('Kubernetes corpus: %s', (file) => {
  // No corpus manifest contains "{{", so every component renders with interpolation on; the test
  // below that compares rendered objects with the originals would catch one that needed
  // `interpolate: false`.
  const component = slugOf(file)
  const text = read(K8S_DIR, file)
  const fleet = (): Fleet => loadWith({ [`cluster/manifests/${component}/${file}`]: text })
  const clusterId = 'aws:111111111111:eu-central-1:kube-1'

  test('loads as a component and renders one manifest per object, Lists expanded', () => {
    const manifests = fleet()
      .desired.get(clusterId)!
      .manifests.filter((m) => m.component === component)
    expect(manifests.length).toBeGreaterThan(0)
    expect(manifests).toHaveLength(countObjects(text))
    for (const m of manifests) {
      expect(m.address).toMatch(new RegExp(`^${clusterId}/[^/]+/[A-Za-z]+/[^/]+$`))
      expect(m.object.kind).not.toMatch(/List$/)
    }
  })

  test('renders every object unchanged', () => {
    const manifests = fleet()
      .desired.get(clusterId)!
      .manifests.filter((m) => m.component === component)
    const originals = parseAllDocuments(text)
      .map((doc) => doc.toJS() as { kind?: string; items?: unknown[] } | null)
      .filter((value) => value !== null && value !== undefined)
      .flatMap((value) =>
        value.kind?.endsWith('List') && Array.isArray(value.items) ? value.items : [value],
      )
    expect(manifests.map((m) => m.object)).toEqual(originals)
  })
})
