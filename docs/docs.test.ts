import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { formatDiagnostic } from '../src/core/diagnostics.ts'
import { classifyPath } from '../src/core/load/files.ts'
import { type LoadResult, loadFleet } from '../src/core/load/load-fleet.ts'
import type { Fleet } from '../src/core/model/fleet-model.ts'
import { REPOSITORY_SCHEMAS } from '../src/core/model/json-schema.ts'
import { git, readRevisionSource } from '../src/core/source/git.ts'
import { memorySource } from '../src/core/source/source.ts'
import { CFN_TAGS, CfnTag } from '../src/core/yaml/cfn-tags.ts'
import { writeExampleFleet } from '../src/example/write-example.ts'
import { GIT_IDENTITY, gitFixture } from '../test/support/git-fixture.ts'
import { runCaptured } from '../test/support/run-cli.ts'

/**
 * The user guide is part of the product: its example repository must load, the messages it
 * quotes must be the ones Flotilla prints, the commands it shows must behave as shown, and its
 * links must lead somewhere.
 */

const DOCS = fileURLToPath(new URL('.', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const read = (file: string): string => readFileSync(join(DOCS, file), 'utf8')
const pages = readdirSync(DOCS).filter((f) => f.endsWith('.md'))

type Files = Record<string, string>

interface CodeBlock {
  readonly lang: string
  readonly body: string
  /** 1-based line of the opening fence, for messages. */
  readonly line: number
}

/** Fenced code blocks of a markdown text, in order. */
function codeBlocks(markdown: string, lang?: string): CodeBlock[] {
  const blocks: CodeBlock[] = []
  for (const m of markdown.matchAll(/^```([\w-]*)\n([\s\S]*?)^```$/gm)) {
    if (lang !== undefined && m[1] !== lang) continue
    blocks.push({ lang: m[1]!, body: m[2]!, line: markdown.slice(0, m.index).split('\n').length })
  }
  return blocks
}

/** The path a YAML example names on its first line (`# inventory/teams.yaml`), if it names one. */
function pathOf(block: CodeBlock): string | undefined {
  return /^# ([\w./<>*-]+)\n/.exec(block.body)?.[1]
}

/** The YAML examples of a page that are complete repository files, by path. */
function repositoryFiles(page: string): Files {
  const files: Files = {}
  for (const block of codeBlocks(read(page), 'yaml')) {
    const path = pathOf(block)
    if (path === undefined) continue
    if (Object.hasOwn(files, path)) throw new Error(`${page}:${block.line}: ${path} is shown twice`)
    files[path] = block.body
  }
  return files
}

/** The rows of every table in a markdown text, as trimmed cells (formatters pad the columns). */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    )
}

/** Every line of the page's ```text blocks: the diagnostics the page quotes. */
function quotedDiagnostics(page: string): string[] {
  return codeBlocks(read(page), 'text').flatMap((b) => b.body.split('\n').filter((l) => l !== ''))
}

function expectValid(result: LoadResult, warnings = true): Fleet {
  const problems = [...(result.ok ? [] : result.errors), ...(warnings ? result.warnings : [])]
  expect(problems.map(formatDiagnostic)).toEqual([])
  if (!result.ok) throw new Error('unreachable')
  return result.fleet
}

/** The repository that repository-format.md shows, file by file. */
const BASE = repositoryFiles('repository-format.md')

describe('repository-format.md: the example repository', () => {
  test('every YAML example names its path on its first line, at a place of the layout', () => {
    const blocks = codeBlocks(read('repository-format.md'), 'yaml')
    expect(blocks.length).toBeGreaterThan(10)
    for (const block of blocks) {
      const path = pathOf(block)
      expect(path, `block at line ${block.line} has no "# <path>" first line`).toBeDefined()
      const role = classifyPath(path!).role
      expect(['unexpected', 'ignored'], `${path} is not a place of the layout`).not.toContain(role)
    }
  })

  test('the examples together form a repository that loads with no error and no warning', () => {
    expect(Object.keys(BASE)).toEqual(
      expect.arrayContaining(['fleet.yaml', 'inventory/teams.yaml', 'rollout.yaml', 'policies/freeze.yaml']),
    )
    expectValid(loadFleet(memorySource(BASE)))
  })

  test('what the page says about the example is what Flotilla does', () => {
    const fleet = expectValid(loadFleet(memorySource(BASE)))
    const desired = (id: string) => fleet.desired.get(id)!
    const cluster = (alias: string) => fleet.targets.find((t) => t.name === alias)!

    // config-defaults merge order, as the page states it
    expect(cluster('checkout-kube-1').config).toEqual({
      log_level: 'info',
      ingress_replicas: 3,
      autoscaling_enabled: true,
    })
    expect(cluster('checkout-test-kube-1').config).toEqual({
      log_level: 'debug',
      ingress_replicas: 2,
      autoscaling_enabled: false,
    })
    // inheritance from the account
    expect(cluster('ops-kube-1')).toMatchObject({ team: 'sre', group: 'ops' })

    // which accounts get route53-hostedzones
    const withZones = fleet.targets
      .filter((t) => desired(t.id).stacks.some((s) => s.stackName === 'route53-hostedzones'))
      .map((t) => t.name)
    expect(withZones.sort()).toEqual(['checkout-prod', 'ops-monitoring', 'search-prod', 'search-staging'])

    // addresses quoted on the page
    const addresses = new Set(
      [...fleet.desired.values()].flatMap((d) => [...d.stacks, ...d.manifests]).map((x) => x.address),
    )
    for (const address of [
      '263820974194/eu-west-1/vpc',
      '263820974194/global/route53-hostedzones',
      'aws:263820974194:eu-central-1:kube-1/ingress/Deployment/ingress-controller',
      'aws:263820974194:eu-central-1:kube-1/_/ClusterRole/team-developer',
    ]) {
      expect(addresses).toContain(address)
    }

    // a whole {{ expr }} keeps its type
    const deployment = desired('aws:263820974194:eu-central-1:kube-1').manifests.find(
      (m) => m.object.kind === 'Deployment',
    )!
    expect((deployment.object.spec as { replicas: unknown }).replicas).toBe(3)

    // interpolate: false leaves Prometheus templates alone
    const rules = desired('aws:263820974194:eu-central-1:kube-1').manifests.find(
      (m) => m.component === 'prometheus-rules',
    )!
    expect(JSON.stringify(rules.object)).toContain('{{ $labels.instance }}')

    // ops segregation: ops targets have a stage of their own; lifecycle and stages
    expect(fleet.stageOf.get('730164829355')).toBe('ops')
    expect(fleet.stageOf.get('aws:730164829355:eu-central-1:kube-1')).toBe('ops')
    expect(desired('381947260518').stacks).toEqual([]) // decommission-requested: nothing rendered
    expect(fleet.stageOf.get('381947260518')).toBe('stable') // … but it still needs a stage
    expect(desired('aws:602938471650:eu-west-1:kube-2').manifests).toEqual([]) // creating
  })
})

type Change = null | string | readonly [from: string, to: string] | ((files: Files) => string)

/** The example repository with some files changed: replaced, edited (first occurrence), or deleted (`null`). */
function edited(changes: Readonly<Record<string, Change | readonly (readonly [string, string])[]>>): Files {
  const files: Files = { ...BASE }
  for (const [path, change] of Object.entries(changes)) {
    if (change === null) {
      delete files[path]
    } else if (typeof change === 'string') {
      files[path] = change
    } else if (typeof change === 'function') {
      files[path] = change(BASE)
    } else {
      const pairs = (typeof change[0] === 'string' ? [change] : change) as readonly (readonly [
        string,
        string,
      ])[]
      let text = files[path]!
      for (const [from, to] of pairs) {
        if (!text.includes(from)) throw new Error(`${path} has no "${from}"; update the case`)
        text = text.replace(from, to)
      }
      files[path] = text
    }
  }
  return files
}

const A = 'inventory/accounts.yaml'
const C = 'inventory/clusters.yaml'
const D = 'cluster/manifests/ingress/deployment.yaml'
const F = 'fleet.yaml'
const R = 'rollout.yaml'
const T = 'inventory/teams.yaml'
const V = 'stacks/vpc.yaml'
const Z = 'stacks/route53-hostedzones.yaml'

/** Mistakes made in the example repository: validation.md and expressions.md quote what each one produces. */
const MISTAKES: Record<string, Parameters<typeof edited>[0]> = {
  'the 2022 typo': { [Z]: ['Metadata:', 'Metadpata:'] },
  'a misplaced file': { 'inventory/acounts.yaml': '[]\n' },
  'a file in a subfolder': { 'stacks/network/vpc.yaml': '{}\n' },
  'a misspelt top-level folder': { 'polices/freeze.yaml': '[]\n' },
  'an inventory file at the top level': { 'accounts.yaml': '[]\n' },
  'a missing file': { [R]: null },
  'an empty file': { 'stacks/empty.yaml': '' },
  'a file under two extensions': { 'stacks/vpc.yml': (files) => files[V]! },
  'two documents': { [F]: ['  maxShrinkPercent: 10\n', '  maxShrinkPercent: 10\n---\nname: other\n'] },
  'malformed YAML': { [F]: ['environment]', 'environment'] },
  'a duplicate key': { [A]: ['  channel: dev\n', '  channel: dev\n  channel: stable\n'] },
  'an invisible character': { [T]: ['name: Team Search', 'name: Team\u00a0Search'] },
  'a look-alike letter': { [V]: ['Metadata:', 'Met\u0430data:'] },
  'an unknown tag': { [V]: ['!Ref CidrBlock', '!Reff CidrBlock'] },
  'an unquoted template': { [D]: ['"{{ config.ingress_replicas }}"', '{{ config.ingress_replicas }}'] },
  'a YAML 1.1 boolean': {
    [D]: [
      'aws-load-balancer-type: nlb',
      'aws-load-balancer-type: nlb\n    service.beta.kubernetes.io/aws-load-balancer-internal: yes',
    ],
  },
  'a misspelt key': { [C]: ['  kubernetesVersion: "1.32"', '  kubernetes_version: "1.32"'] },
  'a key without a close match': {
    [T]: ['  members: [carol]', '  members: [carol]\n  slack: "#team-search"'],
  },
  'a missing key': { [A]: ['  criticality: tier-3\n  channel: dev\n', '  channel: dev\n'] },
  'an unquoted id': { [A]: ['- id: "418295736021"', '- id: 418295736021'] },
  'an unquoted version': { [C]: ['  kubernetesVersion: "1.32"', '  kubernetesVersion: 1.32'] },
  'a string for a list': {
    [A]: [
      '  regions: [eu-central-1]\n  tags: { owner: checkout',
      '  regions: eu-central-1\n  tags: { owner: checkout',
    ],
  },
  'an invalid environment': { [A]: ['  environment: test\n', '  environment: prod\n'] },
  'an invalid channel': { [A]: ['  channel: dev\n', '  channel: develop\n'] },
  'an invalid gate type': { [R]: ['healthy: { type: health,', 'healthy: { type: healthy,'] },
  'an invalid region': {
    [A]: [
      '  regions: [eu-central-1]\n  tags: { owner: checkout',
      '  regions: [eu-central1]\n  tags: { owner: checkout',
    ],
  },
  'an invalid slug': { [T]: ['- id: search\n', '- id: Search_Team\n'] },
  'an invalid config item name': {
    [A]: ['config: { dns_domain: checkout', 'config: { dns-domain: checkout'],
  },
  'max below min': { [C]: ['min: 1, max: 3', 'min: 3, max: 1'] },
  'an invalid duration': { [R]: ['    bake: 30m\n', '    bake: 30 minutes\n'] },
  'a number too small': { [R]: ['defaults: { maxParallel: 1,', 'defaults: { maxParallel: 0,'] },
  'an unknown team': { [A]: ['  team: sre\n', '  team: sreteam\n'] },
  'an unknown account': { [C]: ['  account: "418295736021"', '  account: "418295736012"'] },
  'a region the account lacks': { [C]: ['  region: eu-west-1\n', '  region: eu-north-1\n'] },
  'an unknown gate': { [R]: ['gates: [healthy, dns, e2e, errors]', 'gates: [healthy, dns, e2e, error]'] },
  'a duplicate account id': {
    'inventory/accounts/search.yaml': ['- id: "602938471650"', '- id: "263820974194"'],
  },
  'a duplicate account name': {
    'inventory/accounts/search.yaml': ['  name: search-prod', '  name: checkout-prod'],
  },
  'a duplicate StackName': { [V]: ['StackName: vpc', 'StackName: iam-roles'] },
  'a duplicate policy name': {
    'policies/approvals.yaml': '- name: cyber-week-freeze\n  when: change.protected\n  effect: warn\n',
  },
  'a duplicate stage name': { [R]: ['  - name: alpha\n', '  - name: beta\n'] },
  'a near miss in Metadata': { [Z]: ['  Select: account', '  Selcet: account'] },
  'an undeclared parameter': {
    [V]: [
      '    Environment: "{{ account.environment }}"\n',
      '    Environment: "{{ account.environment }}"\n    CidrBlok: 10.1.0.0/16\n',
    ],
  },
  'a parameter without value': {
    [V]: ['    AvailabilityZones: "{{ region == \'eu-central-1\' ? 3 : 2 }}"\n', ''],
  },
  'an invalid logical id': { [V]: ['  FlowLog:\n', '  Flow_Log:\n'] },
  'a misspelt resource attribute': { [V]: ['    Condition: IsProduction\n', '    Condtion: IsProduction\n'] },
  'an invalid resource type': { [V]: ['Type: AWS::EC2::FlowLog', 'Type: EC2::FlowLog'] },
  'an invalid DeletionPolicy': { [Z]: ['DeletionPolicy: Retain', 'DeletionPolicy: Retian'] },
  'an unknown resource type': { [Z]: ['Type: AWS::Route53::HostedZone', 'Type: AWS::Route53::HostedZon'] },
  'a misspelt resource property': {
    [Z]: [
      '      DomainName: "*.{{ config.dns_domain }}"\n',
      '      DomainNmae: "*.{{ config.dns_domain }}"\n',
    ],
  },
  'MovedFrom itself': { [Z]: ['MovedFrom: dns-zones', 'MovedFrom: route53-hostedzones'] },
  'MovedFrom a name in use': { [Z]: ['MovedFrom: dns-zones', 'MovedFrom: vpc'] },
  'a misspelt field': {
    [Z]: ["Select: account.environment != 'test'", "Select: account.enviroment != 'test'"],
  },
  'a misspelt variable': { [R]: ["select: target.channel == 'alpha'", "select: targets.channel == 'alpha'"] },
  'a CEL syntax error': { [R]: ["select: target.channel == 'beta'", "select: target.channel = 'beta'"] },
  'a selector that is not a boolean': {
    [Z]: ["Select: account.environment != 'test'", 'Select: account.environment'],
  },
  'an unterminated template': { [D]: ['"{{ config.ingress_replicas }}"', '"{{ config.ingress_replicas }"'] },
  'an empty template': { [D]: ['"{{ cluster.alias }}"', '"{{ }}"'] },
  'a misspelt config item': {
    [Z]: [
      '"*.{{ config.dns_domain }}"\n      ValidationMethod',
      '"*.{{ config.dns_domian }}"\n      ValidationMethod',
    ],
  },
  'a list inside a string': {
    [D]: ['"{{ cluster.alias }}"', '"{{ cluster.alias }} ({{ cluster.nodePools }})"'],
  },
  'a selector giving a string': {
    'cluster/manifests/prometheus-rules/component.yaml': [
      "select: cluster.environment == 'production'",
      'select: config.log_level',
    ],
  },
  'a gate that cannot be built for some targets': {
    [R]: ['names: ["shop.{{ account.config.dns_domain }}"]', 'names: ["shop.{{ config.dns_domain }}"]'],
  },
  'an int times a double': {
    [D]: ['"{{ config.ingress_replicas }}"', '"{{ config.ingress_replicas * 1.5 }}"'],
  },
  generateName: {
    'cluster/manifests/rbac/roles.yaml': [
      '      name: team-developer\n    rules',
      '      generateName: team-developer-\n    rules',
    ],
  },
  'an object rendered twice': { 'cluster/manifests/ingress-v2/deployment.yaml': (files) => files[D]! },
  'a manifest that is a list': {
    'cluster/manifests/external-dns/deployment.yaml': '- apiVersion: v1\n  kind: ConfigMap\n',
  },
  'an invalid component name': {
    'cluster/manifests/External_DNS/deployment.yaml':
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n',
  },
  'a component without manifests': { 'cluster/manifests/external-dns/component.yaml': 'select: "true"\n' },
  'a target in no stage': {
    [R]: [
      "select: target.channel == 'alpha'",
      "select: target.channel == 'alpha' && target.kind == 'cluster'",
    ],
  },
  'ops with production': {
    [R]: [
      "  - name: ops\n    description: Monitoring and ops tooling, never together with production\n    select: target.group == 'ops'\n    gates: [healthy, dns]\n",
      '',
    ],
  },
  'waves not cumulative': { [R]: ['waves: [1, 10%, 50%, 100%]', 'waves: [1, 50%, 10%]'] },
  'a stage after a broader one': {
    [R]: [
      'gates:\n  healthy:',
      "  - name: stable-tier-1\n    select: target.channel == 'stable' && target.criticality == 'tier-1'\n    waves: [1, 100%]\ngates:\n  healthy:",
    ],
  },
  'an unused gate': { [R]: ['gates: [healthy, status]', 'gates: [healthy]'] },
}

describe('validation.md and expressions.md: the messages they quote', () => {
  const produced = new Map<string, string[]>()
  beforeAll(() => {
    for (const [name, changes] of Object.entries(MISTAKES)) {
      const result = loadFleet(memorySource(edited(changes)))
      produced.set(name, [...(result.ok ? [] : result.errors), ...result.warnings].map(formatDiagnostic))
    }
  })
  const allProduced = () => new Set([...produced.values()].flat())

  test.each(['validation.md', 'expressions.md', 'repository-format.md'])(
    'every diagnostic %s quotes is printed, word for word, for a mistake in the example repository',
    (page) => {
      const all = allProduced()
      const missing = quotedDiagnostics(page).filter((line) => !all.has(line))
      expect(missing, `quoted but not produced (produced:\n${[...all].join('\n')})`).toEqual([])
    },
  )

  test('every mistake is caught, and validation.md quotes something it produces', () => {
    const quoted = new Set([...quotedDiagnostics('validation.md'), ...quotedDiagnostics('expressions.md')])
    for (const [name, lines] of produced) {
      expect(lines.length, `${name}: nothing reported`).toBeGreaterThan(0)
      if (name === 'an int times a double') continue // quoted in prose in expressions.md, checked below
      expect(
        lines.some((l) => quoted.has(l)),
        `${name}: none of its messages is quoted:\n${lines.join('\n')}`,
      ).toBe(true)
    }
  })

  test('the 2022 typo is an error, as the README and validation.md show', () => {
    expect(produced.get('the 2022 typo')).toContain(
      'stacks/route53-hostedzones.yaml:4:1: unknown key "Metadpata"; did you mean "Metadata"?',
    )
  })

  test('the output example of validation.md: stderr, summary and exit code', async () => {
    const dir = await gitFixture(edited(MISTAKES['the 2022 typo']!))
    const { code, stdout, stderr } = await runCaptured(['validate', '--repo', '.', '--rev', 'HEAD'], dir)
    const [block] = codeBlocks(read('validation.md').split('## Output')[1]!, 'console')
    const lines = block!.body.trimEnd().split('\n')
    expect(lines[0]).toBe('$ npx flotilla validate --repo example-fleet --rev HEAD')
    expect(lines.slice(-2)).toEqual(['$ echo $?', String(code)])
    expect(stdout).toBe('')
    const commit = /^HEAD \(([0-9a-f]{7})\)/m.exec(stderr)![1]!
    expect(stderr.replace(commit, '3f2a9c1').trimEnd().split('\n')).toEqual(lines.slice(1, -2))
  })

  test('messages quoted in the prose of expressions.md', () => {
    const page = read('expressions.md')
    expect(page).toContain('no such overload: dyn<int> * double')
    expect(produced.get('an int times a double')!.join('\n')).toContain('no such overload: dyn<int> * double')
    const unquoted = produced.get('an unquoted template')!.join('\n')
    expect(unquoted).toContain('a mapping key must be a plain string, not a list or a mapping')
    expect(page).toContain('a mapping key must be a plain string, not a list or a mapping')
  })

  test('the rule ids table lists the rule of every quoted mistake', () => {
    const rows = tableRows(read('validation.md').split('## Rule ids')[1]!).map(
      ([rule, severity]) => `${rule} ${severity}`,
    )
    for (const [name, changes] of Object.entries(MISTAKES)) {
      const result = loadFleet(memorySource(edited(changes)))
      for (const d of [...(result.ok ? [] : result.errors), ...result.warnings]) {
        expect(rows, `${name}: rule ${d.rule}`).toContain(`\`${d.rule}\` ${d.severity}`)
      }
    }
  })
})

describe('expressions.md: its examples', () => {
  const files = { ...BASE, ...repositoryFiles('expressions.md') }
  const fleet = (): Fleet => expectValid(loadFleet(memorySource(files)))
  const manifest = (f: Fleet, cluster: string, kind: string, name: string) =>
    f.desired
      .get(cluster)!
      .manifests.find((m) => m.object.kind === kind && (m.object.metadata as { name: string }).name === name)
  const kube1 = 'aws:263820974194:eu-central-1:kube-1'

  test('its files add to the example repository without an error or a warning', () => {
    expect(Object.keys(repositoryFiles('expressions.md')).every((p) => !Object.hasOwn(BASE, p))).toBe(true)
    fleet()
  })

  test('a whole {{ expr }} keeps its type; text around it makes a string', () => {
    const hpa = manifest(fleet(), kube1, 'HorizontalPodAutoscaler', 'ingress-controller')!.object as {
      spec: { minReplicas: unknown; maxReplicas: unknown }
      metadata: { labels: Record<string, unknown> }
    }
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 })
    expect(hpa.metadata.labels.pools).toBe('default-worker-stateful')
  })

  test("{{ '{{' }} renders a literal {{", () => {
    const secret = manifest(fleet(), kube1, 'Secret', 'alertmanager-config')!.object as {
      stringData: Record<string, string>
    }
    const text = secret.stringData['alertmanager.yaml']!
    expect(text).toContain('title: "{{ .CommonLabels.alertname }} in checkout-kube-1"')
    expect(text).toContain('channel: "#alerts-checkout"')
  })

  test('CloudFormation syntax is left alone, and templates inside short tags are rendered', () => {
    const stack = fleet()
      .desired.get('263820974194')!
      .stacks.find((s) => s.address === '263820974194/eu-west-1/log-bucket')!
    const props = (stack.template as { Resources: { AccessLogs: { Properties: Record<string, unknown> } } })
      .Resources.AccessLogs.Properties
    expect(props.BucketName).toEqual(
      new CfnTag('!Sub', `\${AWS::AccountId}-checkout-prod-access-logs-\${AWS::Region}`),
    )
    expect(JSON.stringify(props.Tags)).toContain('{{resolve:ssm:/platform/logs-kms-key-arn}}')
    const ops = fleet().desired.get('730164829355')!.stacks
    expect(ops.some((s) => s.stackName === 'log-bucket')).toBe(false)
  })

  test('the cluster-autoscaler selector picks only clusters that ask for it', () => {
    const f = fleet()
    const selected = f.targets
      .filter((t) => f.desired.get(t.id)!.manifests.some((m) => m.component === 'cluster-autoscaler'))
      .map((t) => t.name)
    expect(selected).toEqual(['checkout-kube-1'])
    expect(JSON.stringify(manifest(f, kube1, 'Deployment', 'cluster-autoscaler')!.object)).toContain(
      '--expander=least-waste',
    )
  })
})

describe('editor-support.md', () => {
  const page = read('editor-support.md')
  const globToRegExp = (glob: string) => new RegExp(`^${glob.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`)
  const schemaFor = (path: string) =>
    REPOSITORY_SCHEMAS.find((s) => s.files.some((g) => globToRegExp(g).test(path)))?.name

  test('the VS Code settings map every schema to exactly the files it applies to', () => {
    const [settings] = codeBlocks(page, 'json')
    const parsed = JSON.parse(settings!.body) as { 'yaml.schemas': unknown; 'yaml.customTags': string[] }
    expect(parsed['yaml.schemas']).toEqual(
      Object.fromEntries(REPOSITORY_SCHEMAS.map((s) => [`./schema/${s.name}.schema.json`, [...s.files]])),
    )
    for (const tag of parsed['yaml.customTags']) {
      expect(CFN_TAGS, tag).toContain(tag.split(' ')[0])
    }
  })

  test('the table names every schema file, which exists', () => {
    const rows = tableRows(page)
    for (const { name, files } of REPOSITORY_SCHEMAS) {
      expect(rows).toContainEqual([`\`schema/${name}.schema.json\``, files.map((f) => `\`${f}\``).join(', ')])
      expect(() => readFileSync(join(ROOT, 'schema', `${name}.schema.json`))).not.toThrow()
    }
  })

  test('the schemas use only the keywords the page lists (draft-07 has them all)', () => {
    const listed = new Set(
      [
        ...page
          .split('Only keywords that draft-07')[1]!
          .split('\n\n')[0]!
          .matchAll(/`(\w+)`/g),
      ].map((m) => m[1]),
    )
    const used = new Set<string>()
    const walk = (schema: unknown): void => {
      if (schema === null || typeof schema !== 'object') return
      for (const [key, value] of Object.entries(schema)) {
        used.add(key)
        if (key === 'properties') for (const child of Object.values(value as object)) walk(child)
        else if (['items', 'additionalProperties', 'propertyNames'].includes(key)) walk(value)
        else if (key === 'anyOf' || key === 'oneOf') for (const child of value as unknown[]) walk(child)
      }
    }
    for (const { name } of REPOSITORY_SCHEMAS)
      walk(JSON.parse(readFileSync(join(ROOT, 'schema', `${name}.schema.json`), 'utf8')))
    const unlisted = [...used].filter((k) => !listed.has(k) && !['$schema', '$id', 'title'].includes(k))
    expect(unlisted).toEqual([])
  })

  test('each modeline points from its file to the right schema, and Flotilla ignores it', () => {
    const examples = repositoryFiles('editor-support.md')
    expect(Object.keys(examples).length).toBeGreaterThan(0)
    for (const [path, text] of Object.entries(examples)) {
      const target = /# yaml-language-server: \$schema=(\S+)/.exec(text)![1]!
      expect(posix.normalize(posix.join(posix.dirname(path), target))).toBe(
        `schema/${schemaFor(path)}.schema.json`,
      )
    }
    expectValid(loadFleet(memorySource({ ...BASE, ...examples })), false)
  })
})

describe('links between the pages', () => {
  /** GitHub's heading anchors. */
  const anchors = (markdown: string): Set<string> => {
    const seen = new Map<string, number>()
    const out = new Set<string>()
    const withoutCode = markdown.replace(/^```[\s\S]*?^```$/gm, '')
    for (const m of withoutCode.matchAll(/^#{1,6} (.+)$/gm)) {
      const text = m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
      const slug = text
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-')
      const n = seen.get(slug) ?? 0
      seen.set(slug, n + 1)
      out.add(n === 0 ? slug : `${slug}-${n}`)
    }
    return out
  }

  const linksOf = (markdown: string) =>
    [...markdown.replace(/^```[\s\S]*?^```$/gm, '').matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1]!)
      .filter((l) => !/^[a-z]+:/.test(l))

  test.each(pages)('every relative link of %s leads to an existing page and heading', (page) => {
    for (const link of linksOf(read(page))) {
      const [file, anchor] = link.split('#') as [string, string | undefined]
      const target = file === '' ? page : file
      expect(pages, `${page}: ${link}`).toContain(target)
      if (anchor !== undefined) expect(anchors(read(target)), `${page}: ${link}`).toContain(anchor)
    }
  })

  test('the README links to every page of the guide', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const linked = linksOf(readme)
    for (const page of pages) expect(linked).toContain(`docs/${page}`)
  })
})

describe('getting-started.md: the commands it shows', () => {
  const page = read('getting-started.md')
  const consoles = codeBlocks(page, 'console').map((b) => b.body)
  let cwd = ''

  /** Runs the CLI in-process, as `npx flotilla …` in `cwd`. */
  function flotilla(...argv: string[]) {
    return runCaptured(argv, cwd)
  }

  /**
   * What differs between machines: the directory, which the page writes as `…`. Commit ids do not
   * differ: the example is committed with a fixed author and date, and the page says so.
   */
  const normal = (text: string) => text.replaceAll(cwd, '…')

  /** The lines of the page's console block that starts with `first` (the command line itself left out). */
  const shown = (first: string): string[] => {
    const block = consoles.find((b) => b.startsWith(first))
    if (!block) throw new Error(`getting-started.md has no console block starting with "${first}"`)
    return normal(block).split('\n').slice(1, -1)
  }

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'flotilla-docs-'))
    const init = await flotilla(
      'init',
      'my-fleet',
      '--example',
      '--accounts',
      '20',
      '--clusters',
      '15',
      '--seed',
      '7',
    )
    expect(init.stderr).toBe('')
    expect(init.code).toBe(0)
    const block = consoles.find((b) => b.startsWith('Created an example fleet'))!
    expect(normal(init.stdout)).toBe(normal(block))
  })

  afterAll(() => {
    if (cwd !== '') rmSync(cwd, { recursive: true, force: true })
  })

  test('validate prints the summary line shown', async () => {
    const { code, stdout, stderr } = await flotilla('validate', '--repo', 'my-fleet')
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(normal(stdout).trimEnd().split('\n')).toEqual(
      shown('$ npx flotilla validate --repo my-fleet\n…/my-fleet: valid'),
    )
  })

  test('validate --rev HEAD --format json prints the document shown', async () => {
    const { code, stdout } = await flotilla(
      'validate',
      '--repo',
      'my-fleet',
      '--rev',
      'HEAD',
      '--format',
      'json',
    )
    expect(code).toBe(0)
    const block = shown('$ npx flotilla validate --repo my-fleet --rev HEAD --format json')
    expect(JSON.parse(normal(stdout))).toEqual(JSON.parse(block.join('\n')))
  })

  test('render prints the target and its stacks as shown', async () => {
    const { code, stdout } = await flotilla('render', '--repo', 'my-fleet', '--target', 'shipping-prod')
    expect(code).toBe(0)
    const block = shown('$ npx flotilla render --repo my-fleet --target shipping-prod')
    expect(block.at(-1)).toBe('…')
    expect(
      normal(stdout)
        .split('\n')
        .slice(0, block.length - 1),
    ).toEqual(block.slice(0, -1))
  })

  test('render takes a cluster alias, and --format json uses the long form of intrinsic functions', async () => {
    const cluster = await flotilla(
      'render',
      '--repo',
      'my-fleet',
      '--target',
      'shipping-prod-kube-1',
      '--format',
      'json',
    )
    expect(cluster.code).toBe(0)
    expect(JSON.parse(cluster.stdout).manifests.length).toBeGreaterThan(0)
    const account = await flotilla(
      'render',
      '--repo',
      'my-fleet',
      '--target',
      'shipping-prod',
      '--format',
      'json',
    )
    expect(account.stdout).toMatch(/"Fn::(Sub|Equals|If|GetAtt)"|"Ref"/)
    expect(account.stdout).not.toContain('!Ref')
  })

  test('an unknown target is exit 1 with the suggestion shown', async () => {
    const { code, stderr } = await flotilla('render', '--repo', 'my-fleet', '--target', 'shiping-prod')
    expect(code).toBe(1)
    expect(stderr.trimEnd().split('\n')).toEqual(
      shown('$ npx flotilla render --repo my-fleet --target shiping-prod'),
    )
  })

  test('a misspelt key: the messages and exit code shown; --rev HEAD~1 still validates', async () => {
    const dir = join(cwd, 'my-fleet')
    const file = join(dir, 'inventory/accounts/production.yaml')
    writeFileSync(file, readFileSync(file, 'utf8').replace('  channel: stable', '  chanel: stable'))
    const broken = await flotilla('validate', '--repo', 'my-fleet')
    expect(broken.code).toBe(1)
    expect(broken.stdout).toBe('')
    const [messages] = codeBlocks(page.split('## When validation fails')[1]!, 'text')
    const summary = shown('…/my-fleet: invalid')
    expect(normal(broken.stderr).trimEnd().split('\n')).toEqual([
      ...messages!.body.trimEnd().split('\n'),
      normal(consoles.find((b) => b.startsWith('…/my-fleet: invalid'))!).split('\n')[0],
    ])
    expect(summary).toEqual(['$ echo $?', '1'])

    await git(dir, ['commit', '-q', '-am', 'typo'], undefined, GIT_IDENTITY)
    expect((await flotilla('validate', '--repo', 'my-fleet', '--rev', 'HEAD')).code).toBe(1)
    expect((await flotilla('validate', '--repo', 'my-fleet', '--rev', 'HEAD~1')).code).toBe(0)
  })

  test('npm start: the example fleet validates as shown and the account it renders', async () => {
    const dir = join(cwd, 'example-fleet')
    await writeExampleFleet(dir)
    const { code, stdout } = await flotilla('validate', '--repo', dir, '--rev', 'HEAD')
    expect(code).toBe(0)
    const block = shown('$ npm start')
    expect(block).toContain(normal(stdout).trimEnd())
    const result = loadFleet(await readRevisionSource(dir, 'HEAD'))
    const fleet = expectValid(result, false)
    const first = fleet.targets.find(
      (t) => t.kind === 'account' && fleet.desired.get(t.id)!.stacks.length > 0,
    )!
    expect(block).toContain(`$ flotilla render --repo …/example-fleet --rev HEAD --target ${first.name}`)
  })

  test('the help lists the commands', async () => {
    const { code, stdout } = await flotilla('--help')
    expect(code).toBe(0)
    for (const command of ['init', 'validate', 'render']) expect(stdout).toContain(command)
  })
})
