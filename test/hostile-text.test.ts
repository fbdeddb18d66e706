import { describe, expect, test } from 'vitest'
import { formatDiagnostic } from '../src/core/diagnostics.ts'
import { loadFleet } from '../src/core/load/load-fleet.ts'
import { memorySource } from '../src/core/model/source.ts'
import { readPolicyTests } from '../src/core/policy-test/policy-test-file.ts'
import { generateExampleFleet } from '../src/example/generate-example.ts'

/**
 * Text that reads one way and means another, and YAML built to crash the loader, placed in the
 * example fleet (`flotilla init --example`): every variant is an error at its file:line:col,
 * whichever file it is in — stacks, manifests, policies and their `when`, rollout `select`s,
 * inventory values, fleet.yaml, policy tests.
 */
const BASE = generateExampleFleet({ accounts: 10, clusters: 5, seed: '1' })

/**
 * The example with the first `from` in `path` replaced by `to`, and a position in the new text as
 * `path:line:col`: where `from` and `to` first differ, or where `marker` first occurs in the edit.
 */
function edited(
  path: string,
  from: string,
  to: string,
  marker?: string,
): { files: Map<string, string>; at: string } {
  const text = BASE.get(path)
  if (text === undefined) throw new Error(`the example has no ${path}`)
  const start = text.indexOf(from)
  if (start < 0) throw new Error(`the example's ${path} has no "${from}"`)
  let within = 0
  if (marker === undefined) while (from[within] === to[within]) within++
  else within = to.indexOf(marker)
  if (within < 0) throw new Error(`"${marker}" is not in the edit`)
  const changed = text.slice(0, start) + to + text.slice(start + from.length)
  const offset = start + within
  const line = changed.slice(0, offset).split('\n').length
  const col = offset - changed.lastIndexOf('\n', offset - 1)
  return { files: new Map(BASE).set(path, changed), at: `${path}:${line}:${col}` }
}

function errorsOf(files: Map<string, string>): string[] {
  const result = loadFleet(memorySource(files))
  return result.ok ? [] : result.errors.map(formatDiagnostic)
}

describe('the example fleet', () => {
  test('loads without errors or warnings with every character and YAML check on', () => {
    const result = loadFleet(memorySource(BASE))
    expect(result.ok ? [] : result.errors.map(formatDiagnostic)).toEqual([])
    expect(result.warnings.map(formatDiagnostic)).toEqual([])
    if (!result.ok) return
    const suite = readPolicyTests(
      [...BASE].filter(([path]) => path.startsWith('policies/tests/')),
      result.fleet,
    )
    expect(suite.errors.map(formatDiagnostic)).toEqual([])
    expect(suite.tests.length).toBeGreaterThan(0)
  })
})

describe('invisible characters anywhere in the example fleet', () => {
  test.each([
    [
      'a stack value',
      'stacks/vpc.yaml',
      'StackName: vpc',
      'StackName: v\u200bpc',
      'U+200B (zero-width space)',
    ],
    [
      'a stack template expression',
      'stacks/vpc.yaml',
      'Environment: "{{ account.environment }}"',
      'Environment: "{{ account.environ\u00a0ment }}"',
      'U+00A0 (no-break space)',
    ],
    [
      'a manifest',
      'cluster/manifests/coredns/coredns.yaml',
      'kind: ServiceAccount',
      'kind: Service\u0085Account',
      'U+0085 (next line',
    ],
    [
      'a policy when',
      'policies/protection.yaml',
      "target.criticality == 'tier-1'",
      "target.criticality == 'tier-1\u202e'",
      'U+202E (right-to-left override)',
    ],
    [
      'a rollout select',
      'rollout.yaml',
      "target.channel == 'dev'",
      "target.channel == 'dev\u{e0041}'",
      'U+E0041 (tag character, an invisible "A")',
    ],
    [
      'an inventory value',
      'inventory/accounts/ops.yaml',
      'name: ops-monitoring',
      'name: ops-monitoring\ufe0f',
      'U+FE0F (variation selector-16)',
    ],
    [
      'fleet.yaml',
      'fleet.yaml',
      'name: example-fleet',
      'name: example\u0007-fleet',
      'control character U+0007 (bell)',
    ],
    ['a comment', 'inventory/teams.yaml', '# Teams.', '# Teams.\u2066', 'U+2066 (left-to-right isolate)'],
    [
      'a component setting',
      'cluster/config-defaults.yaml',
      'coredns_replicas: 3',
      'coredns_replicas: 3\u3000',
      'U+3000 (ideographic space)',
    ],
  ])('in %s is an error at its position, naming the code point', (_where, path, from, to, named) => {
    const { files, at } = edited(path, from, to)
    const errors = errorsOf(files)
    expect(errors).toEqual([expect.stringContaining(`${at}: `)])
    expect(errors[0]).toContain(named)
  })

  test('in a policy test file too', () => {
    const { files, at } = edited('policies/tests/protection.yaml', 'action: delete', 'action: de\u200dlete')
    const loaded = loadFleet(memorySource(files))
    if (!loaded.ok) expect.fail('the fleet itself is unchanged')
    const suite = readPolicyTests(
      [...files].filter(([path]) => path.startsWith('policies/tests/')),
      loaded.fleet,
    )
    expect(suite.errors.map(formatDiagnostic)).toEqual([
      expect.stringMatching(new RegExp(`^${at}: invisible character U\\+200D \\(zero-width joiner\\)`)),
    ])
  })

  test('an escape in a double-quoted string is the way to keep one that is meant', () => {
    const { files } = edited(
      'stacks/vpc.yaml',
      'Description: Account network with',
      'Description: "Account\\u00a0network" # with',
    )
    expect(errorsOf(files)).toEqual([])
  })
})

describe('look-alike letters anywhere in the example fleet', () => {
  test.each([
    [
      'a manifest key',
      'cluster/manifests/coredns/coredns.yaml',
      'kind: ServiceAccount\nmetadata:',
      'kind: ServiceAccount\nmetаdata:',
      'key "metаdata" mixes Latin and Cyrillic: U+0430 is Cyrillic and looks like "a"',
    ],
    [
      'a stack key',
      'stacks/vpc.yaml',
      'Metadata:\n  StackName: vpc',
      'Metаdata:\n  StackName: vpc',
      'key "Metаdata" mixes Latin and Cyrillic',
    ],
    [
      'a stack value',
      'stacks/vpc.yaml',
      'AllowedValues: [production, staging, test]',
      'AllowedValues: [prοduction, staging, test]',
      '"prοduction" mixes Latin and Greek: U+03BF is Greek and looks like "o"',
    ],
    [
      'a policy when',
      'policies/protection.yaml',
      "target.criticality == 'tier-1'",
      "target.criticality == 'tiеr-1'",
      '"tiеr" mixes Latin and Cyrillic: U+0435 is Cyrillic and looks like "e"',
    ],
    [
      'a rollout select',
      'rollout.yaml',
      "target.channel == 'dev'",
      "target.channel == 'dеv'",
      '"dеv" mixes Latin and Cyrillic',
    ],
    [
      'an inventory value',
      'inventory/accounts/ops.yaml',
      'environment: production',
      'environment: prοduction',
      '"prοduction" mixes Latin and Greek',
    ],
    [
      'an inventory tag value',
      'inventory/teams.yaml',
      'name: Site Reliability Engineering',
      'name: Site Reliability Εngineering',
      '"Εngineering" mixes Latin and Greek: U+0395 is Greek and looks like "E"',
    ],
    [
      'fleet.yaml',
      'fleet.yaml',
      'requiredTags: [owner, cost-center, environment]',
      'requiredTags: [owner, cost-сenter, environment]',
      '"сenter" mixes Latin and Cyrillic',
    ],
    [
      'a fullwidth letter in a manifest',
      'cluster/manifests/coredns/coredns.yaml',
      'namespace: kube-system',
      'namespace: kube-ｓystem',
      'U+FF53, which looks like "s"',
    ],
  ])('in %s is an error at the letter', (_where, path, from, to, message) => {
    const { files, at } = edited(path, from, to)
    const errors = errorsOf(files)
    expect(errors).toEqual([expect.stringContaining(`${at}: `)])
    expect(errors[0]).toContain(message)
  })

  test('text in one script, or in the mixes that writing systems use, is fine', () => {
    const { files } = edited(
      'inventory/teams.yaml',
      'name: Site Reliability Engineering',
      'name: "Site Reliability Engineering — Служба надёжности, Υπηρεσία αξιοπιστίας, 信頼性エンジニアリングチーム, 신뢰성팀, فريق الموثوقية ❤️"',
    )
    expect(errorsOf(files)).toEqual([])
  })
})

describe('YAML that could be misread or crash, in the example fleet', () => {
  test.each([
    [
      'a key without a colon in a flow mapping',
      'stacks/vpc.yaml',
      'Scope: { Type: region }',
      'Scope: { Type: region, Count "2" }',
      'Count',
      '"Count "2"" has no ":" after it',
    ],
    [
      'an undefined alias',
      'inventory/accounts/ops.yaml',
      'environment: production',
      'environment: *production',
      '*production',
      'alias *production refers to no anchor',
    ],
    [
      'a merge key of a string',
      'cluster/manifests/coredns/coredns.yaml',
      'metadata:\n  name: coredns\n  namespace: kube-system',
      'metadata:\n  <<: coredns\n  name: coredns\n  namespace: kube-system',
      'coredns\n',
      'the merge key "<<" takes a mapping',
    ],
    [
      'an alias inside its own anchor',
      'policies/protection.yaml',
      'effect: require-approval',
      'effect: require-approval\n  x: &x [1, *x]',
      '*x]',
      'alias *x is inside the value anchored as &x',
    ],
  ])('%s is an error where it is', (_name, path, from, to, marker, message) => {
    const { files, at } = edited(path, from, to, marker)
    const errors = errorsOf(files)
    expect(errors).toEqual([expect.stringContaining(`${at}: ${message}`)])
  })

  test('a billion laughs in a manifest is an error, quickly, and nothing runs out of memory', () => {
    let laughs = 'lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n'
    for (let i = 1; i < 10; i++)
      laughs += `lol${i}: &l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(', ')}]\n`
    const files = new Map(BASE)
    files.set('cluster/manifests/coredns/laughs.yaml', `apiVersion: v1\nkind: ConfigMap\n${laughs}`)
    const started = performance.now()
    const errors = errorsOf(files)
    expect(performance.now() - started).toBeLessThan(10_000)
    expect(errors).toEqual([
      expect.stringMatching(
        /^cluster\/manifests\/coredns\/laughs\.yaml:7:\d+: aliases are expanded more than 10,000 times/,
      ),
    ])
  })

  test.each([
    ['fleet.yaml', 'fleet.yaml', `${'['.repeat(10_000)}\n`, 'fleet.yaml:1:101'],
    [
      'a stack',
      'stacks/deep.yaml',
      `Resources: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n`,
      'stacks/deep.yaml:1:408',
    ],
    [
      'a manifest',
      'cluster/manifests/coredns/deep.yaml',
      `${'- '.repeat(10_000)}x\n`,
      'cluster/manifests/coredns/deep.yaml:1:201',
    ],
  ])('deep nesting in %s is an error, not a stack overflow', (_name, path, text, at) => {
    const files = new Map(BASE)
    files.set(path, text)
    expect(errorsOf(files)).toEqual([
      expect.stringMatching(new RegExp(`^${at}: lists and mappings are nested more than 100 levels deep`)),
    ])
  })
})
