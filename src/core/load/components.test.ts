import { describe, expect, test } from 'vitest'
import { edit, errorsFor, loadValid } from '../../../test/support/load-fleet-helpers.ts'

const SETTINGS = 'cluster/manifests/ingress/component.yaml'
const DEPLOYMENT = 'cluster/manifests/ingress/deployment.yaml'
const CLUSTER_ID = 'aws:111111111111:eu-central-1:kube-1'

/** A ConfigMap manifest whose data holds `value` as written. */
const configMap = (name: string, value: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: monitoring\ndata:\n  text: ${value}\n`

function manifestsOf(overrides: Record<string, string | null>, component?: string) {
  const { fleet } = loadValid(overrides)
  const manifests = fleet.desired.get(CLUSTER_ID)!.manifests
  return component === undefined ? manifests : manifests.filter((m) => m.component === component)
}

describe('components: component.yaml', () => {
  test('a CEL type error in select', () => {
    expect(errorsFor({ [SETTINGS]: "select: cluster.regon == 'x'\n" })).toEqual([
      'cluster/manifests/ingress/component.yaml:1:17: CEL type error: No such key: regon; did you mean "region"?',
    ])
  })

  test('select sees cluster, account, target, config and fleet, but no region', () => {
    expect(errorsFor({ [SETTINGS]: "select: region == 'x'\n" })).toEqual([
      'cluster/manifests/ingress/component.yaml:1:9: CEL type error: Unknown variable: region (available here: cluster, account, target, config, fleet)',
    ])
  })

  test('select must be true or false', () => {
    expect(errorsFor({ [SETTINGS]: 'select: cluster.alias\n' })).toEqual([
      'cluster/manifests/ingress/component.yaml:1:9: this expression must be true or false, but it is of type string',
    ])
  })

  test('an unknown key and a wrong type', () => {
    expect(errorsFor({ [SETTINGS]: 'interpolat: false\n' })).toEqual([
      'cluster/manifests/ingress/component.yaml:1:1: unknown key "interpolat"; did you mean "interpolate"?',
    ])
    expect(errorsFor({ [SETTINGS]: 'interpolate: "no"\n' })).toEqual([
      'cluster/manifests/ingress/component.yaml:1:14: "interpolate" must be true or false, not the string "no"',
    ])
  })

  test('a component directory name must be lowercase', () => {
    expect(errorsFor({ 'cluster/manifests/Ingress/deployment.yaml': configMap('x', 'y') })).toEqual([
      'cluster/manifests/Ingress/deployment.yaml:1:1: component directory "Ingress" must be a lowercase name (letters, digits, dashes)',
    ])
  })

  test('a component.yaml that cannot be read is one error: its manifests are not checked with the wrong settings', () => {
    expect(
      errorsFor({
        'cluster/manifests/alerts/component.yaml': 'interpolate: false\ninterpolate: false\n',
        'cluster/manifests/alerts/rules.yaml': configMap('rules', '"{{ $labels.instance }} is down"'),
      }),
    ).toEqual([
      'cluster/manifests/alerts/component.yaml:2:1: duplicate key "interpolate" (first at line 1); YAML would silently keep only one — remove or rename one of them',
    ])
  })

  test('a component without manifests is a warning', () => {
    const { warnings } = loadValid({ 'cluster/manifests/empty/component.yaml': 'description: nothing yet\n' })
    expect(warnings).toEqual([
      'cluster/manifests/empty/component.yaml:1:1: warning: component "empty" has no manifests; add YAML files next to component.yaml or remove the directory',
    ])
  })

  test('select decides which clusters get the component', () => {
    expect(manifestsOf({ [SETTINGS]: "select: cluster.environment == 'test'\n" })).toEqual([])
    expect(manifestsOf({ [SETTINGS]: "select: cluster.environment == 'production'\n" })).toHaveLength(1)
  })
})

describe('components: manifests', () => {
  test('a document that is not a mapping', () => {
    expect(errorsFor({ 'cluster/manifests/ingress/list.yaml': '- a\n- b\n' })).toEqual([
      'cluster/manifests/ingress/list.yaml:1:1: a manifest document must be a mapping (a Kubernetes object with apiVersion, kind and metadata)',
    ])
  })

  test('an expression error in a manifest, at its position', () => {
    expect(errorsFor(edit(DEPLOYMENT, '"{{ region }}"', '"{{ regoin }}"'))).toEqual([
      'cluster/manifests/ingress/deployment.yaml:10:43: CEL type error: Unknown variable: regoin; did you mean "region"? (available here: cluster, account, target, config, fleet, region) in {{ regoin }}',
    ])
  })

  test('in the second document of a file, at its position', () => {
    const text = `${configMap('first', 'a')}---\n${configMap('second', '"{{ cluster.aliass }}"')}`
    expect(errorsFor({ 'cluster/manifests/ingress/two.yaml': text })).toEqual([
      'cluster/manifests/ingress/two.yaml:15:21: CEL type error: No such key: aliass; did you mean "alias"? in {{ cluster.aliass }}',
    ])
  })

  test('other templating needs interpolate: false, and is then kept as written', () => {
    const rules = configMap('rules', '"{{ $labels.instance }} is down"')
    expect(errorsFor({ 'cluster/manifests/alerts/rules.yaml': rules })).toEqual([
      expect.stringMatching(
        /^cluster\/manifests\/alerts\/rules\.yaml:7:13: CEL syntax error: .* in \{\{ \$labels\.instance \}\}$/,
      ),
    ])
    const [manifest] = manifestsOf(
      {
        'cluster/manifests/alerts/rules.yaml': rules,
        'cluster/manifests/alerts/component.yaml': 'interpolate: false\n',
      },
      'alerts',
    )
    expect(manifest!.object.data).toEqual({ text: '{{ $labels.instance }} is down' })
  })

  test("a literal {{ can be written {{ '{{' }}", () => {
    const text = configMap('escaped', `"{{ '{{' }} .Values.x }} in {{ region }}"`)
    const [manifest] = manifestsOf({ 'cluster/manifests/escaped/cm.yaml': text }, 'escaped')
    expect(manifest!.object.data).toEqual({ text: '{{ .Values.x }} in eu-central-1' })
  })

  test('empty documents (a trailing ---) are not manifests', () => {
    const text = `---\n${configMap('a', 'x')}---\n---\n${configMap('b', 'y')}---\n`
    expect(manifestsOf({ 'cluster/manifests/extra/cm.yaml': text }, 'extra').map((m) => m.address)).toEqual([
      `${CLUSTER_ID}/monitoring/ConfigMap/a`,
      `${CLUSTER_ID}/monitoring/ConfigMap/b`,
    ])
  })

  test('manifests warn about YAML 1.1 booleans; stacks do not', () => {
    const { warnings } = loadValid(edit(DEPLOYMENT, 'app: ingress', 'app: ingress, enabled: yes'))
    expect(warnings).toEqual([
      'cluster/manifests/ingress/deployment.yaml:10:40: warning: "yes" is a string here (YAML 1.2) but a boolean to YAML 1.1 parsers such as kubectl\'s; quote it, or write true/false',
    ])
    expect(
      loadValid(
        edit(
          'stacks/dns.yaml',
          'ValidationMethod: DNS',
          'ValidationMethod: DNS\n      Tags: [{ Key: managed, Value: yes }]',
        ),
      ).warnings,
    ).toEqual([])
  })

  test('components are sorted by name, manifests by file and document', () => {
    const { fleet } = loadValid({
      'cluster/manifests/zeta/b.yaml': configMap('zb', 'x'),
      'cluster/manifests/zeta/a.yaml': `${configMap('za1', 'x')}---\n${configMap('za2', 'x')}`,
      'cluster/manifests/alpha/a.yaml': configMap('aa', 'x'),
    })
    expect(fleet.components.map((c) => c.name)).toEqual(['alpha', 'ingress', 'zeta'])
    expect(fleet.desired.get(CLUSTER_ID)!.manifests.map((m) => m.address.split('/').at(-1))).toEqual([
      'aa',
      'ingress',
      'za1',
      'za2',
      'zb',
    ])
  })
})
