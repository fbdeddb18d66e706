import { describe, expect, test } from 'vitest'
import { BASE_FILES, fixtureSource } from '../../../test/support/fixture-fleet.ts'
import { edit, errorsFor, loadValid } from '../../../test/support/load-fleet-helpers.ts'
import { DiagnosticSink, formatDiagnostic } from '../diagnostics.ts'
import { loadFleet } from '../load/load-fleet.ts'
import type { Fleet } from '../model/fleet-model.ts'
import { CfnTag } from '../yaml/cfn-tags.ts'
import { renderFleet } from './render-fleet.ts'

const CLUSTER_ID = 'aws:111111111111:eu-central-1:kube-1'

/**
 * A stack file with Flotilla's Metadata (`metadata`, indented two spaces) and one resource with
 * `properties`. The resource is a custom resource, whose properties may be whatever a test needs.
 */
function stackFile(metadata: string, properties = '      TopicName: x\n', parameters = ''): string {
  return `Metadata:\n${metadata}${parameters}Resources:\n  Topic:\n    Type: Custom::Probe\n    Properties:\n${properties}`
}

function addresses(fleet: Fleet, stackName?: string): string[] {
  return [...fleet.desired.values()]
    .flatMap((d) => d.stacks)
    .filter((s) => stackName === undefined || s.stackName === stackName)
    .map((s) => s.address)
}

/** The Properties of the Topic resource of stack `name` in account `id`, region `region`. */
function topicProperties(fleet: Fleet, id: string, name = 'topic', region?: string): Record<string, unknown> {
  const stack = fleet.desired
    .get(id)!
    .stacks.find((s) => s.stackName === name && (region === undefined || s.region === region))!
  return (stack.template as { Resources: { Topic: { Properties: Record<string, unknown> } } }).Resources.Topic
    .Properties
}

function manifests(fleet: Fleet, component?: string) {
  return fleet.desired
    .get(CLUSTER_ID)!
    .manifests.filter((m) => component === undefined || m.component === component)
}

describe('render: stacks per account', () => {
  test('Select chooses the accounts; without it every active account gets the stack', () => {
    const { fleet } = loadValid({
      'stacks/topic.yaml': stackFile('  StackName: topic\n  Scope: { Type: global }\n'),
    })
    expect(addresses(fleet, 'route53-hostedzones')).toEqual([
      '111111111111/global/route53-hostedzones',
      '333333333333/global/route53-hostedzones',
    ])
    expect(addresses(fleet, 'topic')).toEqual([
      '111111111111/global/topic',
      '222222222222/global/topic',
      '333333333333/global/topic',
    ])
  })

  test('accounts that are not active receive nothing', () => {
    const { fleet } = loadValid({
      'stacks/topic.yaml': stackFile('  StackName: topic\n'),
      ...edit('inventory/accounts.yaml', 'channel: dev\n', 'channel: dev\n  lifecycle: requested\n'),
    })
    expect(fleet.desired.get('222222222222')!.stacks).toEqual([])
    expect(addresses(fleet, 'topic')).not.toContain('222222222222/eu-central-1/topic')
  })

  test('Scope region: one stack per account region, addressed <id>/<region>/<StackName>', () => {
    const { fleet } = loadValid({
      'stacks/topic.yaml': stackFile('  StackName: topic\n', '      TopicName: "topic-{{ region }}"\n'),
    })
    const stacks = fleet.desired.get('111111111111')!.stacks.filter((s) => s.stackName === 'topic')
    expect(stacks.map((s) => [s.address, s.region, s.scope])).toEqual([
      ['111111111111/eu-central-1/topic', 'eu-central-1', 'region'],
      ['111111111111/eu-west-1/topic', 'eu-west-1', 'region'],
    ])
    expect(topicProperties(fleet, '111111111111', 'topic', 'eu-west-1')).toEqual({
      TopicName: 'topic-eu-west-1',
    })
  })

  test("Scope global: one stack per account, addressed <id>/global/<StackName>, in the account's first region", () => {
    const { fleet } = loadValid()
    const [stack] = fleet.desired.get('111111111111')!.stacks
    expect([stack!.address, stack!.region, stack!.scope, stack!.source]).toEqual([
      '111111111111/global/route53-hostedzones',
      'eu-central-1',
      'global',
      'stacks/dns.yaml',
    ])
  })

  test('MovedFrom is carried on the rendered stack', () => {
    const { fleet } = loadValid({
      'stacks/topic.yaml': stackFile('  StackName: topic\n  MovedFrom: old-topic\n'),
    })
    expect(fleet.desired.get('222222222222')!.stacks[0]!.movedFrom).toBe('old-topic')
  })

  test('parameter values are rendered per account, as the strings CloudFormation takes', () => {
    const metadata =
      '  StackName: topic\n  Parameters:\n    Name: "{{ config.dns_domain }}"\n    Count: "{{ config.replicas }}"\n    Regions: "{{ account.regions }}"\n    Fixed: [a, b]\n'
    const parameters =
      'Parameters:\n  Name: { Type: String }\n  Count: { Type: Number }\n  Regions: { Type: CommaDelimitedList }\n  Fixed: { Type: CommaDelimitedList }\n'
    const { fleet } = loadValid({ 'stacks/topic.yaml': stackFile(metadata, undefined, parameters) })
    const stack = fleet.desired.get('111111111111')!.stacks.find((s) => s.stackName === 'topic')!
    expect(stack.parameters).toEqual({
      Name: 'teapot.example.org',
      Count: '2',
      Regions: 'eu-central-1,eu-west-1',
      Fixed: 'a,b',
    })
  })

  test("Flotilla's Metadata keys are removed from the rendered template, the rest is kept", () => {
    const { fleet } = loadValid()
    const template = fleet.desired.get('111111111111')!.stacks[0]!.template as Record<string, unknown>
    expect(Object.keys(template)).toEqual(['AWSTemplateFormatVersion', 'Parameters', 'Resources'])
    expect(template.AWSTemplateFormatVersion).toBe('2010-09-09')
  })
})

describe('render: {{ CEL }} interpolation', () => {
  const render = (properties: string, id = '111111111111') =>
    topicProperties(
      loadValid({
        'stacks/topic.yaml': stackFile('  StackName: topic\n  Scope: { Type: global }\n', properties),
      }).fleet,
      id,
    )

  test('a string that is exactly one {{ expr }} keeps the type of the value', () => {
    expect(
      render(
        [
          '      Number: "{{ config.replicas }}"',
          '      Sum: "{{ config.replicas + 1 }}"',
          '      Fraction: "{{ 1.5 }}"',
          '      Bool: "{{ account.environment == \'production\' }}"',
          '      List: "{{ account.regions }}"',
          '      Map: "{{ account.tags }}"',
          '      Spaced: "{{config.replicas}}"',
          '',
        ].join('\n'),
      ),
    ).toEqual({
      Number: 2,
      Sum: 3,
      Fraction: 1.5,
      Bool: true,
      List: ['eu-central-1', 'eu-west-1'],
      Map: { owner: 'teapot' },
      Spaced: 2,
    })
  })

  test('inside a longer string, values are converted to text', () => {
    expect(
      render(
        [
          '      Text: "{{ account.name }}-{{ config.replicas }}-{{ account.environment == \'test\' }}"',
          '      Padded: " {{ config.replicas }}"',
          '',
        ].join('\n'),
      ),
    ).toEqual({ Text: 'teapot-prod-2-false', Padded: ' 2' })
  })

  test("a literal {{ is written {{ '{{' }}, and a closing }} inside a CEL string does not end the expression", () => {
    expect(
      render(
        [
          '      Escaped: "{{ \'{{\' }} .Values.name }}"',
          '      Braces: "{{ \'}}\' + account.name }}"',
          '',
        ].join('\n'),
      ),
    ).toEqual({ Escaped: '{{ .Values.name }}', Braces: '}}teapot-prod' })
  })

  test('every variable of a stack template is available: account, target, config, fleet, region', () => {
    expect(
      render(
        '      All: "{{ account.id }} {{ target.kind }} {{ config.dns_domain }} {{ fleet.name }} {{ region }}"\n',
      ),
    ).toEqual({ All: '111111111111 account teapot.example.org test-fleet eu-central-1' })
  })
})

describe('render: CloudFormation passes through', () => {
  const template = [
    '  Topic:',
    '    Type: AWS::SNS::Topic',
    '    Condition: IsProd',
    '    Properties:',
    '      TopicName: !Sub "${AWS::StackName}-{{ config.dns_domain }}"',
    '      DisplayName: !Join ["-", [!Ref "AWS::Region", "{{ account.name }}", !GetAtt Other.Arn]]',
    "      KmsMasterKeyId: '{{resolve:ssm:/kms/{{ account.name }}}}'",
    "      DataProtectionPolicy: '{{resolve:secretsmanager:MySecret:SecretString:password}}'",
    '      Tags:',
    '        - Key: Mode',
    '          Value: !If [IsProd, !Sub "${Env}-prod", !Ref "AWS::NoValue"]',
    '  Other:',
    '    Type: AWS::SNS::Topic',
    '    Properties:',
    '      TopicName: !Select [0, !Split [",", !ImportValue shared-names]]',
    '',
  ].join('\n')
  const file = `Metadata:\n  StackName: topic\n  Scope: { Type: global }\nParameters:\n  Env: { Type: String, Default: x }\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\nResources:\n${template}`

  test('short tags stay CfnTags, ${} and {{resolve:…}} stay as written; {{ }} inside a tag is rendered', () => {
    const { fleet } = loadValid({ 'stacks/topic.yaml': file })
    const rendered = fleet.desired.get('222222222222')!.stacks[0]!.template as {
      Conditions: Record<string, unknown>
      Resources: Record<string, { Properties: Record<string, unknown>; Condition?: string }>
    }
    const topic = rendered.Resources.Topic!.Properties
    expect(topic.TopicName).toEqual(new CfnTag('!Sub', '${AWS::StackName}-teapot-test.example.org'))
    expect(topic.DisplayName).toEqual(
      new CfnTag('!Join', [
        '-',
        [new CfnTag('!Ref', 'AWS::Region'), 'teapot-test', new CfnTag('!GetAtt', 'Other.Arn')],
      ]),
    )
    // A dynamic reference is CloudFormation's; the {{ }} inside it is not Flotilla's either.
    expect(topic.KmsMasterKeyId).toBe('{{resolve:ssm:/kms/{{ account.name }}}}')
    expect(topic.DataProtectionPolicy).toBe('{{resolve:secretsmanager:MySecret:SecretString:password}}')
    expect(topic.Tags).toEqual([
      {
        Key: 'Mode',
        Value: new CfnTag('!If', [
          'IsProd',
          new CfnTag('!Sub', '${Env}-prod'),
          new CfnTag('!Ref', 'AWS::NoValue'),
        ]),
      },
    ])
    expect(rendered.Resources.Topic!.Condition).toBe('IsProd')
    expect(rendered.Conditions.IsProd).toEqual(new CfnTag('!Equals', [new CfnTag('!Ref', 'Env'), 'prod']))
    expect(rendered.Resources.Other!.Properties.TopicName).toEqual(
      new CfnTag('!Select', [0, new CfnTag('!Split', [',', new CfnTag('!ImportValue', 'shared-names')])]),
    )
  })

  test('subtrees without {{ }} are the parsed values themselves, shared between accounts', () => {
    const { fleet } = loadValid({ 'stacks/topic.yaml': file })
    const other = (id: string) =>
      (
        fleet.desired.get(id)!.stacks.find((s) => s.stackName === 'topic')!.template as {
          Resources: Record<string, unknown>
        }
      ).Resources.Other
    expect(other('111111111111')).toBe(other('222222222222'))
  })
})

describe('render: cluster manifests', () => {
  test('each component renders once per cluster, with the merged config and the cluster region', () => {
    const { fleet } = loadValid()
    const [deployment] = manifests(fleet)
    expect(deployment!.address).toBe(`${CLUSTER_ID}/kube-system/Deployment/ingress`)
    expect(deployment!.source).toBe('cluster/manifests/ingress/deployment.yaml')
    // replicas: 2 in defaults, 3 for production: the environment wins, and stays a number.
    expect(deployment!.object.spec).toEqual({
      replicas: 3,
      template: { metadata: { labels: { app: 'ingress', region: 'eu-central-1' } } },
    })
  })

  test('the cluster variable and config are available in manifests', () => {
    const cm =
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: info, namespace: "{{ cluster.alias }}" }\ndata:\n  account: "{{ account.name }}"\n  log: "{{ config.log_level }}"\n  scale: "{{ string(config.autoscaling_enabled) }}"\n'
    const [manifest] = manifests(loadValid({ 'cluster/manifests/info/cm.yaml': cm }).fleet, 'info')
    expect(manifest!.address).toBe(`${CLUSTER_ID}/teapot-kube-1/ConfigMap/info`)
    expect(manifest!.object.data).toEqual({ account: 'teapot-prod', log: 'info', scale: 'true' })
  })

  test('kind: List and kind: *List are expanded into their items, nested ones too', () => {
    const list = [
      'apiVersion: v1',
      'kind: List',
      'items:',
      '  - { apiVersion: v1, kind: ConfigMap, metadata: { name: a, namespace: n } }',
      '  - apiVersion: v1',
      '    kind: ConfigMapList',
      '    items:',
      '      - { apiVersion: v1, kind: ConfigMap, metadata: { name: b, namespace: n } }',
      '      - { apiVersion: v1, kind: ConfigMap, metadata: { name: c, namespace: n } }',
      '---',
      'apiVersion: rbac.authorization.k8s.io/v1',
      'kind: RoleList',
      'items:',
      '  - { apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: { name: r, namespace: n } }',
      '',
    ].join('\n')
    const rendered = manifests(loadValid({ 'cluster/manifests/lists/all.yaml': list }).fleet, 'lists')
    expect(rendered.map((m) => m.address)).toEqual([
      `${CLUSTER_ID}/n/ConfigMap/a`,
      `${CLUSTER_ID}/n/ConfigMap/b`,
      `${CLUSTER_ID}/n/ConfigMap/c`,
      `${CLUSTER_ID}/n/Role/r`,
    ])
  })

  test('namespaces: default when unset, _ for cluster-scoped kinds and for custom kinds a CRD declares cluster-scoped', () => {
    const objects = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: plain }',
      'apiVersion: v1\nkind: Namespace\nmetadata: { name: monitoring }',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: { name: reader, namespace: ignored }',
      'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: { name: widgets.example.org }\nspec: { scope: Cluster, names: { kind: Widget } }',
      'apiVersion: example.org/v1\nkind: Widget\nmetadata: { name: w }',
      'apiVersion: example.org/v1\nkind: Gadget\nmetadata: { name: g, namespace: tools }',
    ].join('\n---\n')
    const rendered = manifests(
      loadValid({ 'cluster/manifests/kinds/all.yaml': `${objects}\n` }).fleet,
      'kinds',
    )
    expect(rendered.map((m) => m.address.slice(CLUSTER_ID.length + 1))).toEqual([
      'default/ConfigMap/plain',
      '_/Namespace/monitoring',
      '_/ClusterRole/reader',
      '_/CustomResourceDefinition/widgets.example.org',
      '_/Widget/w',
      'tools/Gadget/g',
    ])
  })

  test('clusters that are not ready receive nothing', () => {
    const { fleet } = loadValid(
      edit('inventory/clusters.yaml', '  nodePools:', '  lifecycle: creating\n  nodePools:'),
    )
    expect(manifests(fleet)).toEqual([])
  })
})

describe('render: errors', () => {
  test('a config key missing in some targets is one error at the expression, with the count of targets', () => {
    const accounts = BASE_FILES['inventory/accounts.yaml']!.replace(
      'config: { dns_domain: ops.example.org, replicas: 3 }',
      'config: { replicas: 3 }',
    )
    expect(errorsFor({ 'inventory/accounts.yaml': accounts })).toEqual([
      'stacks/dns.yaml:7:21: CEL evaluation error: No such key: dns_domain in {{ config.dns_domain }} (for target 333333333333)',
    ])
  })

  test('missing in every selected target, the error names how many and which', () => {
    expect(
      errorsFor(edit('stacks/dns.yaml', '"*.{{ config.dns_domain }}"', '"*.{{ config.zone }}"')),
    ).toEqual([
      'stacks/dns.yaml:19:25: CEL evaluation error: No such key: zone in {{ config.zone }} (for 2 targets: 111111111111, 333333333333)',
    ])
  })

  test('more than three targets are summarised', () => {
    const stack = stackFile('  StackName: topic\n', '      TopicName: "{{ config.topic }}"\n')
    const extra = (id: string, name: string) =>
      `- { id: "${id}", name: ${name}, team: sre, environment: test, criticality: tier-3, channel: dev, regions: [eu-central-1] }\n`
    const result = loadFleet(
      fixtureSource({
        'stacks/topic.yaml': stack,
        'inventory/accounts/more.yaml': extra('444444444444', 'four') + extra('555555555555', 'five'),
      }),
    )
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.errors.map(formatDiagnostic)).toEqual([
      'stacks/topic.yaml:7:22: CEL evaluation error: No such key: topic in {{ config.topic }} (for 5 targets: 111111111111, 222222222222, 333333333333, … 2 more)',
    ])
  })

  test('a target is counted once, however many regional stacks of it fail', () => {
    const stack = stackFile(
      '  StackName: topic\n  Select: "account.id == \'111111111111\'"\n',
      '      TopicName: "{{ config.topic }}"\n',
    )
    expect(errorsFor({ 'stacks/topic.yaml': stack })).toEqual([
      'stacks/topic.yaml:8:22: CEL evaluation error: No such key: topic in {{ config.topic }} (for target 111111111111)',
    ])
  })

  test('a list or a mapping cannot be part of a string', () => {
    expect(
      errorsFor(edit('stacks/dns.yaml', '"*.{{ config.dns_domain }}"', '"*.{{ account.regions }}"')),
    ).toEqual([
      "stacks/dns.yaml:19:25: {{ account.regions }} is a list and cannot be part of a string; make it the whole value, or turn it into text first (a list with .join(', ')) (for 2 targets: 111111111111, 333333333333)",
    ])
  })

  test('a selector that gives something other than true or false is one error for all its targets', () => {
    const stack = stackFile('  StackName: topic\n  Select: config.dns_domain\n')
    expect(errorsFor({ 'stacks/topic.yaml': stack })).toEqual([
      'stacks/topic.yaml:3:11: the selector must be true or false, but it gave a string (for 3 targets: 111111111111, 222222222222, 333333333333)',
    ])
  })

  test('a manifest without metadata.name, and an object rendered twice', () => {
    expect(
      errorsFor({ 'cluster/manifests/other/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n' }),
    ).toEqual([
      `cluster/manifests/other/cm.yaml:1:1: ConfigMap needs metadata.name (a string); generateName is not supported because the object would be created again on every apply (for target ${CLUSTER_ID})`,
    ])
    expect(
      errorsFor({
        'cluster/manifests/other/copy.yaml': BASE_FILES['cluster/manifests/ingress/deployment.yaml']!,
      }),
    ).toEqual([
      `cluster/manifests/other/copy.yaml:1:1: Deployment "ingress" in namespace kube-system is rendered twice (also by cluster/manifests/ingress/deployment.yaml); each object must come from one place (for target ${CLUSTER_ID})`,
    ])
  })

  test('a manifest that renders to something other than a Kubernetes object', () => {
    const text = 'apiVersion: v1\nkind: "{{ 1 }}"\nmetadata: { name: x }\n'
    expect(errorsFor({ 'cluster/manifests/other/bad.yaml': text })).toEqual([
      `cluster/manifests/other/bad.yaml:1:1: a Kubernetes object needs kind (a string) (for target ${CLUSTER_ID})`,
    ])
  })
})

describe('renderFleet', () => {
  test('is deterministic and pure: rendering the same input twice gives equal output and no diagnostics', () => {
    const { fleet } = loadValid()
    const input = { ...fleet }
    const sink = new DiagnosticSink()
    const first = renderFleet(input, sink)
    const second = renderFleet(input, sink)
    expect(sink.errors).toEqual([])
    expect(second).toEqual(first)
    expect([...first.keys()]).toEqual(fleet.targets.map((t) => t.id))
  })
})
