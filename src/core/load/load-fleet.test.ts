import { describe, expect, test } from 'vitest'
import { BASE_FILES } from '../../../test/support/fixture-fleet.ts'
import { edit, errorsFor, loadInvalid, loadValid } from '../../../test/support/load-fleet-helpers.ts'
import { compareDiagnostics, formatDiagnostic } from '../diagnostics.ts'
import { memorySource } from '../model/source.ts'
import { loadFleet } from './load-fleet.ts'

const FLEET = 'fleet.yaml'

describe('loadFleet: a valid repository', () => {
  test('loads completely, without warnings', () => {
    const { fleet, warnings } = loadValid()
    expect(warnings).toEqual([])
    expect(fleet.settings.name).toBe('test-fleet')
    expect(fleet.settings.limits).toEqual({ maxDeletes: 10, maxShrinkPercent: 10 })
    expect([...fleet.teams.keys()]).toEqual(['teapot', 'sre'])
    expect(fleet.targets.map((t) => t.id)).toEqual([
      '111111111111',
      '222222222222',
      '333333333333',
      'aws:111111111111:eu-central-1:kube-1',
    ])
    expect(fleet.stacks.map((s) => s.stackName)).toEqual(['route53-hostedzones'])
    expect(fleet.components.map((c) => c.name)).toEqual(['ingress'])
    expect([...fleet.desired.keys()]).toEqual(fleet.targets.map((t) => t.id))
  })

  test('is deterministic: the order of the files does not matter', () => {
    const files = {
      ...BASE_FILES,
      'cluster/manifests/ingress/a-config.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a, namespace: x }\n',
    }
    const forwards = loadFleet(memorySource(files))
    const backwards = loadFleet(memorySource(new Map(Object.entries(files).reverse())))
    expect(forwards.ok && backwards.ok).toBe(true)
    if (!forwards.ok || !backwards.ok) return
    const rendered = (fleet: typeof forwards.fleet) =>
      JSON.stringify([...fleet.desired.values()].map((d) => [d.target.id, d.stacks, d.manifests]))
    expect(rendered(backwards.fleet)).toBe(rendered(forwards.fleet))
    expect(
      forwards.fleet.desired.get('aws:111111111111:eu-central-1:kube-1')!.manifests.map((m) => m.source),
    ).toEqual(['cluster/manifests/ingress/a-config.yaml', 'cluster/manifests/ingress/deployment.yaml'])
    expect([...backwards.fleet.stageOf]).toEqual([...forwards.fleet.stageOf])
  })

  test('reports the same errors, in the same order, whatever the order of the files', () => {
    const broken = { ...BASE_FILES, ...edit('inventory/accounts.yaml', '"222222222222"', '"111111111111"') }
    broken['stacks/dns2.yaml'] = BASE_FILES['stacks/dns.yaml']!
    const a = loadFleet(memorySource(broken))
    const b = loadFleet(memorySource(new Map(Object.entries(broken).reverse())))
    expect(a.ok || b.ok).toBe(false)
    if (a.ok || b.ok) return
    expect(b.errors.map(formatDiagnostic)).toEqual(a.errors.map(formatDiagnostic))
    expect(a.errors.map(formatDiagnostic)).toEqual([
      'inventory/accounts.yaml:10:3: duplicate account id "111111111111" (first defined at inventory/accounts.yaml:1:3); each account id must be unique across the fleet',
      'stacks/dns2.yaml:3:14: duplicate StackName "route53-hostedzones" (also in stacks/dns.yaml:3:14); each stack needs its own name',
    ])
  })
})

describe('loadFleet: an invalid repository', () => {
  test('collects every error, sorted by file, line and column, and returns no fleet', () => {
    const result = loadInvalid({
      ...edit('rollout.yaml', 'name: ops', 'name: dev'),
      ...edit('inventory/accounts.yaml', 'team: sre', 'team: sra'),
      ...edit(FLEET, 'provider: sim', 'provider: sims'),
    })
    expect(result.errors.map((d) => `${d.file}:${d.line}:${d.rule}`)).toEqual([
      'fleet.yaml:3:invalid-value',
      'inventory/accounts.yaml:18:broken-reference',
      'rollout.yaml:5:duplicate-id',
    ])
    expect([...result.errors].sort(compareDiagnostics)).toEqual(result.errors)
  })

  const broken = 'key: [unclosed\nother: 1\n'
  test.each([
    FLEET,
    'inventory/teams.yaml',
    'inventory/accounts.yaml',
    'inventory/clusters.yaml',
    'cluster/config-defaults.yaml',
    'stacks/dns.yaml',
    'cluster/manifests/ingress/deployment.yaml',
    'cluster/manifests/ingress/component.yaml',
    'rollout.yaml',
    'policies/freeze.yaml',
  ])('malformed YAML in %s is exactly one error, in that file', (path) => {
    const result = loadInvalid({ [path]: broken })
    expect(result.errors.map((d) => [d.file, d.rule])).toEqual([[path, 'malformed-yaml']])
    expect(formatDiagnostic(result.errors[0]!)).toMatch(
      new RegExp(
        `^${path.replaceAll('.', '\\.')}:\\d+:\\d+: malformed YAML: .+; fix the syntax \\(nothing in this file was loaded\\)$`,
      ),
    )
  })

  test.each([
    ['fleet.yaml', FLEET, 'name: test-fleet', 'name: test\u00a0fleet', 'fleet.yaml:2:11'],
    [
      'inventory/teams.yaml',
      'inventory/teams.yaml',
      'name: SRE',
      'name: S\u200bRE',
      'inventory/teams.yaml:6:10',
    ],
    [
      'cluster/config-defaults.yaml',
      'cluster/config-defaults.yaml',
      'log_level: info',
      'log_level: info\u200d',
      'cluster/config-defaults.yaml:2:18',
    ],
  ])('an invisible character in %s is exactly one error', (_name, path, from, to, at) => {
    expect(errorsFor(edit(path, from, to))).toEqual([
      expect.stringMatching(
        new RegExp(`^${at.replaceAll('.', '\\.')}: (invisible character|unusual space) U\\+`),
      ),
    ])
  })

  test('config defaults that fail their schema do not make every cluster miss its config', () => {
    expect(errorsFor(edit('cluster/config-defaults.yaml', '  production:', '  prod:'))).toEqual([
      'cluster/config-defaults.yaml:5:3: unknown key "prod" (valid keys: production, staging, test)',
    ])
    expect(errorsFor(edit('cluster/config-defaults.yaml', '  production:', '  prodution:'))).toEqual([
      'cluster/config-defaults.yaml:5:3: unknown key "prodution"; did you mean "production"?',
    ])
  })
})

describe('loadFleet: files', () => {
  test('fleet.yaml and inventory/teams.yaml are required', () => {
    expect(errorsFor({ [FLEET]: null, 'inventory/teams.yaml': null })).toEqual([
      'fleet.yaml:1:1: fleet.yaml is missing; every fleet repository needs it (see "flotilla init --example")',
      'inventory/teams.yaml:1:1: inventory/teams.yaml is missing; every fleet repository needs it (see "flotilla init --example")',
    ])
  })

  test('a YAML file in a place Flotilla does not read is an error, with the closest known file', () => {
    expect(errorsFor({ 'inventory/acounts.yaml': '[]\n' })).toEqual([
      expect.stringMatching(
        /^inventory\/acounts\.yaml:1:1: Flotilla does not read inventory\/acounts\.yaml; did you mean inventory\/accounts\.yaml\? \(the layout is: .*\); move or rename it$/,
      ),
    ])
  })

  test('files that are not YAML, and policy tests, are ignored', () => {
    loadValid({ 'stacks/README.md': '# not yaml', 'policies/tests/freeze.yaml': 'anything: [at all' })
  })

  test('.yml is read like .yaml, but both at once is an error', () => {
    const text = BASE_FILES['inventory/teams.yaml']!
    const { fleet } = loadValid({ 'inventory/teams.yaml': null, 'inventory/teams.yml': text })
    expect([...fleet.teams.keys()]).toEqual(['teapot', 'sre'])
    expect(errorsFor({ 'inventory/teams.yml': text })).toEqual([
      'inventory/teams.yml:1:1: inventory/teams.yml and inventory/teams.yaml are the same file under two extensions; keep one',
    ])
  })

  test('a single-document file with a second document', () => {
    expect(errorsFor({ [FLEET]: `${BASE_FILES[FLEET]}---\nname: other\n` })).toEqual([
      'fleet.yaml:8:1: fleet.yaml must hold one YAML document; remove the extra "---"',
    ])
  })

  test('an empty fleet.yaml', () => {
    expect(errorsFor({ [FLEET]: '# nothing\n' })).toEqual(['fleet.yaml:1:1: fleet.yaml is empty'])
  })
})

describe('loadFleet: fleet.yaml', () => {
  test('apiVersion is required and must be flotilla/v1', () => {
    expect(errorsFor(edit(FLEET, 'apiVersion: flotilla/v1\n', ''))).toEqual([
      'fleet.yaml:1:1: missing required key "apiVersion" (expected "flotilla/v1")',
    ])
    expect(errorsFor(edit(FLEET, 'flotilla/v1', 'flotilla/v2'))).toEqual([
      'fleet.yaml:1:13: invalid value "flotilla/v2" for "apiVersion": expected "flotilla/v1"',
    ])
  })

  test('an unknown key, a wrong type inside limits, an invalid protected type', () => {
    expect(
      errorsFor({
        [FLEET]: [
          'apiVersion: flotilla/v1',
          'name: test-fleet',
          'requiredTag: [owner]',
          'protect: [not a type]',
          'limits: { maxDeletes: ten }',
          '',
        ].join('\n'),
      }),
    ).toEqual([
      'fleet.yaml:3:1: unknown key "requiredTag"; did you mean "requiredTags"?',
      'fleet.yaml:4:11: invalid "protect" "not a type": expected a CloudFormation resource type (AWS::Service::Resource) or a Kubernetes kind',
      'fleet.yaml:5:23: "maxDeletes" must be a number, not the string "ten"',
    ])
  })

  test('defaults are applied', () => {
    const { fleet } = loadValid({ [FLEET]: 'apiVersion: flotilla/v1\nname: minimal\n' })
    expect(fleet.settings).toMatchObject({
      provider: 'sim',
      requiredTags: [],
      protect: [],
      limits: { maxDeletes: 10, maxShrinkPercent: 10 },
      at: { file: 'fleet.yaml', line: 1, col: 1 },
    })
  })
})

describe('loadFleet: rendering only some targets (render --target)', () => {
  test('renders the selected target alone, the same as a full load renders it', () => {
    const full = loadFleet(memorySource(BASE_FILES))
    const rendered: string[] = []
    const one = loadFleet(memorySource(BASE_FILES), {
      renderOnly: (t) => {
        rendered.push(t.id)
        return t.name === 'teapot-prod'
      },
    })
    if (!full.ok || !one.ok) throw new Error('the fixture loads')
    // Every target is asked about once; only the selected one is in the desired state.
    expect(rendered).toEqual(full.fleet.targets.map((t) => t.id))
    expect([...one.fleet.desired.keys()]).toEqual(['111111111111'])
    expect(one.fleet.desired.get('111111111111')).toEqual(full.fleet.desired.get('111111111111'))
    expect(one.fleet.stageOf).toEqual(full.fleet.stageOf)
  })

  test("another target's render error does not stop it; a schema error anywhere does", () => {
    const broken = {
      ...BASE_FILES,
      'cluster/manifests/ingress/deployment.yaml': BASE_FILES[
        'cluster/manifests/ingress/deployment.yaml'
      ]!.replace('  name: ingress\n', ''),
    }
    expect(loadFleet(memorySource(broken)).ok).toBe(false)
    expect(loadFleet(memorySource(broken), { renderOnly: (t) => t.kind === 'account' }).ok).toBe(true)
    const misspelt = { ...BASE_FILES, 'fleet.yaml': `${BASE_FILES['fleet.yaml']}colour: blue\n` }
    expect(loadFleet(memorySource(misspelt), { renderOnly: (t) => t.kind === 'account' }).ok).toBe(false)
  })
})
