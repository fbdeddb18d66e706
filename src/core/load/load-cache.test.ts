import { describe, expect, test } from 'vitest'
import { BASE_FILES, fixtureSource } from '../../../test/support/fixture-fleet.ts'
import { formatDiagnostic } from '../diagnostics.ts'
import { LoadCache } from './load-cache.ts'
import { loadFleet } from './load-fleet.ts'

const MANIFEST_WITH_WARNING =
  'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: flags }\ndata: { enabled: yes }\n'

describe('LoadCache', () => {
  test('a second load of unchanged files returns the same renderings, so a plan skips them by identity', () => {
    const cache = new LoadCache()
    const first = loadFleet(fixtureSource(), { cache })
    const second = loadFleet(
      fixtureSource({
        'inventory/teams.yaml': `${BASE_FILES['inventory/teams.yaml']}- id: extra\n  name: Extra\n`,
      }),
      { cache },
    )
    if (!first.ok || !second.ok) throw new Error('both loads should succeed')
    const stack = (f: typeof first.fleet) => f.desired.get('111111111111')!.stacks[0]
    expect(stack(second.fleet)).toBe(stack(first.fleet))
    const manifests = (f: typeof first.fleet) =>
      f.desired.get('aws:111111111111:eu-central-1:kube-1')!.manifests
    expect(manifests(second.fleet)).toBe(manifests(first.fleet))
  })

  test('a changed input renders anew; an unchanged one in the same load is still reused', () => {
    const cache = new LoadCache()
    const first = loadFleet(fixtureSource(), { cache })
    const changed = BASE_FILES['inventory/accounts.yaml']!.replace('teapot.example.org', 'teapot.example.com')
    const second = loadFleet(fixtureSource({ 'inventory/accounts.yaml': changed }), { cache })
    if (!first.ok || !second.ok) throw new Error('both loads should succeed')
    const stackOf = (f: typeof first.fleet, id: string) => f.desired.get(id)!.stacks[0]!
    expect(stackOf(second.fleet, '111111111111')).not.toBe(stackOf(first.fleet, '111111111111'))
    expect(stackOf(second.fleet, '111111111111').parameters.DomainName).toBe('teapot.example.com')
    expect(stackOf(second.fleet, '333333333333')).toBe(stackOf(first.fleet, '333333333333'))
  })

  test('diagnostics of a cached parse are reported on every load', () => {
    const cache = new LoadCache()
    const files = { 'cluster/manifests/flags/config.yaml': MANIFEST_WITH_WARNING }
    const warnings = () => {
      const result = loadFleet(fixtureSource(files), { cache })
      return result.warnings.map(formatDiagnostic)
    }
    const first = warnings()
    expect(first).toEqual([
      expect.stringContaining('cluster/manifests/flags/config.yaml:4:18: warning: "yes" is a string here'),
    ])
    expect(warnings()).toEqual(first)
  })

  test('parse results are kept for the last two loads only', () => {
    const cache = new LoadCache()
    const text = 'a: 1\n'
    cache.beginLoad()
    cache.rememberParse('x.yaml', text, { file: undefined, errors: [], warnings: [] })
    cache.beginLoad()
    expect(cache.parsed('x.yaml', text)).toBeDefined() // used again: kept for the next load too
    cache.beginLoad()
    cache.beginLoad()
    expect(cache.parsed('x.yaml', text)).toBeUndefined()
  })
})
