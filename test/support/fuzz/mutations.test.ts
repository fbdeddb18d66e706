import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { generateExampleFleet } from '../../../src/example/generate-example.ts'
import {
  ALL_OPS,
  applyMutation,
  applyMutations,
  type Mutation,
  mutationArbitrary,
  NASTY_CHARACTERS,
  SEMANTIC_OPS,
  semanticSites,
} from './mutations.ts'

const files = generateExampleFleet({ accounts: 10, clusters: 2, seed: 1 })
const DNS = 'stacks/route53-hostedzones.yaml'

function changed(mutation: Mutation): { path: string; before: string; after: string | undefined }[] {
  const after = applyMutation(files, mutation)
  return [...files.keys()]
    .filter((p) => files.get(p) !== after.get(p))
    .map((p) => ({ path: p, before: files.get(p)!, after: after.get(p) }))
}

describe('mutations of the example fleet', () => {
  test('every semantic operator finds something to edit in the example (else it would silently test nothing)', () => {
    for (const op of SEMANTIC_OPS) expect(semanticSites(op, files).length, op).toBeGreaterThan(0)
  })

  test('every operator changes the files for most draws', () => {
    for (const op of ALL_OPS) {
      const draws = fc.sample(mutationArbitrary(files, new Set([op])), { numRuns: 40, seed: 3 })
      const effective = draws.filter((m) => changed(m).length > 0).length
      expect(effective, op).toBeGreaterThanOrEqual(20)
    }
  })

  test('the same mutation edits the same place the same way, and only one file', () => {
    const draws = fc.sample(mutationArbitrary(files), { numRuns: 200, seed: 11 })
    for (const m of draws) {
      expect(applyMutation(files, m)).toEqual(applyMutation(files, m))
      expect(changed(m).length).toBeLessThanOrEqual(1)
    }
  })

  test('character edits: a nasty character is inserted where asked, code units and all', () => {
    const text = files.get(DNS)!
    const [edit] = changed({
      op: 'nasty-unicode',
      path: DNS,
      at: 10,
      pick: NASTY_CHARACTERS.indexOf('\ud800'),
    })
    expect(edit!.after).toBe(`${text.slice(0, 10)}\ud800${text.slice(10)}`)
    const [look] = changed({ op: 'look-alike', path: DNS, at: 0, pick: 0 })
    expect(look!.after).toMatch(/[\u0430\u0435\u043e\u0440\u0441\u0445\u0443\u0456\u039f\u0391\u03a4]/)
  })

  test('structure edits act on `key: value` lines', () => {
    const [flow] = changed({ op: 'broken-flow', path: 'fleet.yaml', at: 0, pick: 0 })
    expect(flow!.after).toContain('{ a: 1, b "2" }')
    const [alias] = changed({ op: 'undefined-alias', path: 'fleet.yaml', at: 1, pick: 0 })
    expect(alias!.after).toMatch(/: \*x$/m)
    const [nested] = changed({ op: 'deep-nesting', path: 'fleet.yaml', at: 0, pick: 3 })
    expect(nested!.after).toContain('{a: '.repeat(1000))
  })

  test('semantic edits: deleting the hosted zone resource removes its whole block and nothing else', () => {
    const sites = semanticSites('remove-resource', files)
    const index = sites.findIndex((s) => s.path === DNS)
    expect(index).toBeGreaterThanOrEqual(0)
    const [edit] = changed({ op: 'remove-resource', at: index, pick: 0 })
    expect(edit!.path).toBe(DNS)
    expect(edit!.after).not.toContain('AWS::Route53::HostedZone')
    expect(edit!.after).toContain('AWS::CertificateManager::Certificate')
  })

  test('semantic edits: a selection flip turns != into ==', () => {
    const sites = semanticSites('flip-select', files)
    const index = sites.findIndex((s) => s.path === DNS)
    const [edit] = changed({ op: 'flip-select', at: index, pick: 0 })
    expect(edit!.after).toContain("Select: account.environment == 'test'")
  })

  test('several mutations apply one after the other; a deleted file stays deleted', () => {
    const after = applyMutations(files, [
      { op: 'delete-file', path: 'policies/freeze.yaml' },
      { op: 'insert-char', path: 'fleet.yaml', at: 0, pick: 0 },
    ])
    expect(after.has('policies/freeze.yaml')).toBe(false)
    expect(after.get('fleet.yaml')).toBe(`:${files.get('fleet.yaml')}`)
  })
})
