import { type ChildProcess, spawn } from 'node:child_process'
import { Resolver } from 'node:dns/promises'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { ROLES } from '../src/app/access/permissions.ts'
import { planExitCode } from '../src/cli/commands/plan.ts'
import { waitExitCode } from '../src/cli/commands/rollout.ts'
import { buildProgram, EXIT, runCli } from '../src/cli/main.ts'
import { formatDiagnostic } from '../src/core/diagnostics.ts'
import { compileExpression, ExpressionError } from '../src/core/expr/cel.ts'
import { classifyPath } from '../src/core/load/files.ts'
import { LoadCache } from '../src/core/load/load-cache.ts'
import { type LoadResult, loadFleet } from '../src/core/load/load-fleet.ts'
import type { Fleet } from '../src/core/model/fleet-model.ts'
import { REPOSITORY_SCHEMAS } from '../src/core/model/json-schema.ts'
import { nodeRotationSchema, rotationLimits } from '../src/core/model/node-rotation.ts'
import { CHANGE_ACTIONS, type Plan } from '../src/core/model/plan.ts'
import {
  policyTestChangeSchema,
  policyTestFindingSchema,
  policyTestSchema,
} from '../src/core/model/policy-test.ts'
import { memorySource } from '../src/core/model/source.ts'
import { planSchema } from '../src/core/plan/plan-schema.ts'
import {
  BASE_PROTECTED_TYPES,
  BUILTIN_PROTECTED_KINDS,
  BUILTIN_PROTECTED_TYPES,
} from '../src/core/plan/protected.ts'
import { ACTION_SYMBOLS } from '../src/core/plan/render-common.ts'
import { escapeMarkdown, GITHUB_COMMENT_LIMIT, renderPlanMarkdown } from '../src/core/plan/render-markdown.ts'
import { renderPlanText } from '../src/core/plan/render-text.ts'
import { summarisePlan } from '../src/core/plan/summary.ts'
import { builtinRules } from '../src/core/policy/builtin/index.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { replacementOf } from '../src/core/resource-types/aws.ts'
import { KUBERNETES_IMMUTABLE_FIELDS, kubernetesReplacement } from '../src/core/resource-types/kubernetes.ts'
import { STATEFUL_SUPPLEMENT } from '../src/core/resource-types/stateful-supplement.ts'
import { CFN_TAGS, CfnTag } from '../src/core/yaml/cfn-tags.ts'
import { SCENARIO_NAMES } from '../src/drill/scenarios.ts'
import { generateExampleFleet } from '../src/example/generate-example.ts'
import { planAgainstObserved } from '../src/operations/observed-fleet.ts'
import { FAULT_KINDS } from '../src/providers/sim/faults.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { DEFAULT_GATE_TIMEOUT_MS } from '../src/rollout/gates.ts'
import { RolloutMetrics } from '../src/rollout/metrics.ts'
import { ROLLOUT_STATES } from '../src/rollout/rollout-model.ts'
import { openApiDocument } from '../src/server/openapi.ts'
import { git } from '../src/source/git.ts'
import { useTestStore } from '../src/store/test-store.ts'
import { GIT_IDENTITY, gitFixture } from '../test/support/git-fixture.ts'
import { type CodeBlock, codeBlocks, tableRows } from '../test/support/markdown.ts'
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

// The pages show the embedded store (`.flotilla/` in the repository); a PostgreSQL URL in the
// environment would put every example into one shared database and change what they print.
const databaseUrl = process.env.FLOTILLA_DATABASE_URL
beforeAll(() => {
  delete process.env.FLOTILLA_DATABASE_URL
})
afterAll(() => {
  if (databaseUrl !== undefined) process.env.FLOTILLA_DATABASE_URL = databaseUrl
})

type Files = Record<string, string>

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
      autoscaling_enabled: true,
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
  'a look-alike letter in a selector': {
    [R]: ["select: target.channel == 'dev'", "select: target.channel == 'd\u0435v'"],
  },
  'a key without a colon': { [A]: ['tags: { owner: checkout,', 'tags: { owner checkout,'] },
  'an undefined alias': {
    [F]: ['protect:\n  - AWS::EC2::EIP', 'protect:\n  - *protected'],
  },
  'a merge key of a string': {
    [R]: ['defaults: { maxParallel: 1,', 'defaults: { <<: standard, maxParallel: 1,'],
  },
  'nesting too deep': { [F]: ['requiredTags: [owner', `requiredTags: ${'['.repeat(100)}[owner`] },
  'a billion laughs': {
    'cluster/manifests/ingress/laughs.yaml': Array.from(
      { length: 10 },
      (_, i) =>
        `lol${i}: &l${i} [${Array(10)
          .fill(i === 0 ? 'lol' : `*l${i - 1}`)
          .join(', ')}]\n`,
    ).join(''),
  },
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
      "select: cluster.environment == 'production' || cluster.channel == 'dev'",
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
  'a stack only production receives': {
    [Z]: ["Select: account.environment != 'test'", "Select: account.environment == 'production'"],
  },
  'waves not cumulative': { [R]: ['waves: [1, 10%, 50%, 100%]', 'waves: [1, 50%, 10%]'] },
  'a stage after a broader one': {
    [R]: [
      'gates:\n  healthy:',
      "  - name: stable-tier-1\n    select: target.channel == 'stable' && target.criticality == 'tier-1'\n    waves: [1, 100%]\ngates:\n  healthy:",
    ],
  },
  'an unused gate': { [R]: ['gates: [healthy, status]', 'gates: [healthy]'] },
  'an undefined condition': {
    [Z]: [
      '    Type: AWS::Route53::HostedZone\n    DeletionPolicy: Retain\n',
      '    Type: AWS::Route53::HostedZone\n    Condition: IsProduction\n    DeletionPolicy: Retain\n',
    ],
  },
  'a mapping without the region': {
    [Z]: [
      'Resources:\n  HostedZone:\n    Type: AWS::Route53::HostedZone\n    DeletionPolicy: Retain\n    Properties:\n',
      'Mappings:\n  Comments:\n    us-east-1: { text: Virginia }\nResources:\n  HostedZone:\n    Type: AWS::Route53::HostedZone\n    DeletionPolicy: Retain\n    Properties:\n      HostedZoneConfig: { Comment: !FindInMap [Comments, !Ref "AWS::Region", text] }\n',
    ],
  },
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
    expect(selected).toEqual(['checkout-kube-1', 'checkout-test-kube-1'])
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

  test('npm start: creates the example, applies it to the simulated fleet and serves, printing what the page shows', {
    timeout: 300_000,
  }, async () => {
    const dir = join(cwd, 'example-fleet')
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'start.js')], {
      cwd,
      env: { ...process.env, FLOTILLA_EXAMPLE_DIR: dir, PORT: '0', FLOTILLA_DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      out += text
    })
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      err += text
    })
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    try {
      const deadline = Date.now() + 280_000
      while (!out.includes('Admin token: ') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 200))
      expect(out, err).toContain('Admin token: ')
      // Line for line as the page shows it, but for what differs from run to run: time, port, token.
      const vary = (text: string) =>
        normal(text)
          .replace(/in \d+\.\d s\./, 'in N s.')
          .replace(/127\.0\.0\.1:\d+/, '127.0.0.1:PORT')
          .replace(/flt_\S+/, 'flt_…')
      // It serves first, then applies the example in the background: the lines up to the token,
      // the apply's first line, progress lines like those shown, and its last line.
      const page = shown('$ npm start').map(vary)
      const token = page.findIndex((line) => line.startsWith('Admin token: '))
      const printed = vary(`${out.split('Admin token: ')[0]!}Admin token: flt_…`).split('\n')
      expect(printed).toEqual(page.slice(0, token + 1))
      while (!/Applied the example: .*\n/.test(out) && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 200))
      const applying = normal(out.split(/Admin token: \S+\n/)[1]!)
        .split('\n')
        .filter((line) => line !== '')
        .map(vary)
      const progress = (line: string) =>
        line.replace(
          /\d+ of (\d+) targets, [\d.]+\/s(, about [\d.]+ (s|min) left)?/,
          'N of $1 targets, N/s, about N s left',
        )
      expect(applying[0]).toBe(page[token + 1])
      const took = (line: string) => line.replace(/in [\d.]+ (s|min)\./, 'in N s.')
      expect(took(applying.at(-1)!)).toBe(took(page.at(-1)!))
      for (const line of applying.slice(1, -1)) expect(progress(line)).toBe(progress(page[token + 2]!))
      const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!
      const admin = /Admin token: (\S+)/.exec(out)![1]!
      const me = await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${admin}` } })
      expect(await me.json()).toMatchObject({ name: 'admin', role: 'admin' })
      const accounts = (await (
        await fetch(`${url}/api/accounts`, { headers: { authorization: `Bearer ${admin}` } })
      ).json()) as { total: number }
      expect(accounts.total).toBe(300)
      const accountsPage = await fetch(`${url}/accounts`, { headers: { authorization: `Bearer ${admin}` } })
      expect(await accountsPage.text()).toContain('Cloud Infrastructure')
    } finally {
      child.kill('SIGTERM')
      expect(await exited, err).toBe(0)
    }
  })

  test('the help lists the commands', async () => {
    const { code, stdout } = await flotilla('--help')
    expect(code).toBe(0)
    for (const command of ['init', 'validate', 'render', 'plan']) expect(stdout).toContain(command)
  })
})

/**
 * Applies a ```diff block of the page: for each `+++ b/<path>`, its hunks (separated by `@@`
 * lines) with ` ` context, `-` removed and `+` added lines; each hunk must match exactly once.
 */
function applyDiff(files: Files, diff: string): Files {
  const out = { ...files }
  let path: string | undefined
  let hunk: string[] = []
  const flush = () => {
    if (path === undefined || hunk.length === 0) return
    const side = (keep: string) =>
      hunk
        .filter((l) => l[0] === ' ' || l[0] === keep)
        .map((l) => `${l.slice(1)}\n`)
        .join('')
    const [from, to] = [side('-'), side('+')]
    const text = out[path]
    if (text === undefined) throw new Error(`a diff of ${path}, which the repository does not have`)
    if (text.split(from).length !== 2) throw new Error(`a hunk of ${path} does not match once:\n${from}`)
    out[path] = text.replace(from, () => to)
    hunk = []
  }
  for (const line of diff.trimEnd().split('\n')) {
    if (line.startsWith('--- ')) flush()
    else if (line.startsWith('+++ b/')) path = line.slice(6)
    else if (line.startsWith('@@')) flush()
    else hunk.push(line)
  }
  flush()
  return out
}

/** Words of a command line, with "…" and '…' quoting. */
const shellWords = (line: string): string[] =>
  [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!)

/**
 * Whether an output line is the line the docs show: the same, or — where the docs shorten it
 * with `…` inside the line (a JSON line with an entry per cluster) — the same around it.
 */
function lineMatches(actual: string | undefined, shown: string): boolean {
  if (actual === undefined) return false
  if (actual === shown || !shown.includes('…')) return actual === shown
  const pattern = shown
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${pattern}$`).test(actual)
}

/** `actual`, with each line the docs show shortened (see {@link lineMatches}) as they show it. */
function asShown(actual: readonly string[], shown: readonly string[]): string[] {
  return actual.map((line, i) => (shown[i] !== undefined && lineMatches(line, shown[i]) ? shown[i] : line))
}

/** `shown` is `actual`, except that a line `…` stands for any number of lines. */
function expectExcerpt(actual: readonly string[], shown: readonly string[], what: string): void {
  const chunks: string[][] = [[]]
  for (const line of shown) {
    if (line === '…') chunks.push([])
    else chunks.at(-1)!.push(line)
  }
  if (chunks.length === 1) {
    expect(asShown(actual, shown), what).toEqual(shown)
    return
  }
  const first = chunks[0]!
  expect(asShown(actual.slice(0, first.length), first), what).toEqual(first)
  let at = first.length
  for (const chunk of chunks.slice(1, -1)) {
    let i = at
    while (i <= actual.length - chunk.length && !chunk.every((line, j) => lineMatches(actual[i + j], line)))
      i++
    expect(
      i <= actual.length - chunk.length,
      `${what}: not in the output, in order:\n${chunk.join('\n')}`,
    ).toBe(true)
    at = i + chunk.length
  }
  const last = chunks.at(-1)!
  if (last.length > 0) {
    expect(asShown(actual.slice(-last.length), last), what).toEqual(last)
    expect(actual.length - last.length, what).toBeGreaterThanOrEqual(at)
  }
}

describe('plans.md: the plans it shows', () => {
  const page = read('plans.md')
  /** The repository the page plans: the one of repository-format.md, without its policies. */
  const PLAN_BASE: Files = Object.fromEntries(
    Object.entries(BASE).filter(([path]) => !path.startsWith('policies/')),
  )
  /** The commit id the page shows for `main`; the real one depends on the machine's clock. */
  const SHOWN_COMMIT = '5e2f1a9c4b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f'

  /** The example committed on `main` in `…/example-fleet`, with `head` in the working tree. */
  interface Checkout {
    readonly dir: string
    /** Output with this machine's directory and commit id as the page shows them. */
    normal(text: string): string
    plan(...argv: string[]): ReturnType<typeof runCaptured>
  }

  async function checkout(head: Files): Promise<Checkout> {
    const parent = mkdtempSync(join(tmpdir(), 'flotilla-plans-'))
    const dir = join(parent, 'example-fleet')
    const write = (files: Files) => {
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(join(dir, posix.dirname(path)), { recursive: true })
        writeFileSync(join(dir, path), text)
      }
    }
    write(PLAN_BASE)
    await git(dir, ['init', '-q', '-b', 'main'])
    await git(dir, ['add', '-A'])
    await git(dir, ['commit', '-q', '-m', 'the example of repository-format.md'], undefined, GIT_IDENTITY)
    const commit = (await git(dir, ['rev-parse', 'HEAD'])).toString().trim()
    write(Object.fromEntries(Object.entries(head).filter(([path, text]) => PLAN_BASE[path] !== text)))
    cleanup.push(parent)
    return {
      dir,
      normal: (text) =>
        text
          .replaceAll(commit, SHOWN_COMMIT)
          .replaceAll(commit.slice(0, 7), SHOWN_COMMIT.slice(0, 7))
          .replaceAll(escapeMarkdown(parent), '…')
          .replaceAll(parent, '…'),
      plan: (...argv) => runCaptured(['plan', ...argv], dir),
    }
  }

  /** The page's code blocks by the diff before them: each diff starts a scenario, edited from `main`. */
  interface Scenario {
    readonly diff: CodeBlock | undefined
    readonly blocks: CodeBlock[]
    readonly head: Files
    repo?: Checkout
    /** `flotilla plan --base main` in text: stdout and stderr, normalised, by line. */
    text?: string[]
  }
  const scenarios: Scenario[] = [{ diff: undefined, blocks: [], head: PLAN_BASE }]
  for (const block of codeBlocks(page)) {
    if (block.lang === 'diff')
      scenarios.push({ diff: block, blocks: [], head: applyDiff(PLAN_BASE, block.body) })
    else scenarios.at(-1)!.blocks.push(block)
  }
  const where = (s: Scenario, block?: CodeBlock) =>
    `plans.md:${block?.line ?? s.diff?.line ?? 1} (the change at line ${s.diff?.line ?? '-'})`

  const cleanup: string[] = []
  beforeAll(async () => {
    for (const scenario of scenarios) {
      scenario.repo = await checkout(scenario.head)
      const { stdout, stderr } = await scenario.repo.plan('--base', 'main')
      scenario.text = scenario.repo
        .normal(stdout + stderr)
        .trimEnd()
        .split('\n')
    }
  })
  afterAll(() => {
    for (const dir of cleanup) rmSync(dir, { recursive: true, force: true })
  })

  test('the page shows at least one change per rule it documents', () => {
    expect(scenarios.length).toBeGreaterThan(10)
    const outputs = scenarios.map((s) => s.text!.join('\n')).join('\n')
    for (const rule of ['stack-rename', 'selection-shrink', 'protected-destroy', 'delete-budget'])
      expect(outputs, rule).toContain(`  ${rule}: `)
    expect(outputs).toContain('was removed from the inventory without going through lifecycle')
  })

  test('every console block prints what it shows, with the exit code shown', async () => {
    let checked = 0
    for (const scenario of scenarios) {
      for (const block of scenario.blocks.filter((b) => b.lang === 'console')) {
        const lines = block.body.trimEnd().split('\n')
        expect(lines[0], where(scenario, block)).toMatch(/^\$ npx flotilla plan/)
        const argv = shellWords(lines[0]!).slice(4)
        let shown = lines.slice(1)
        const run = await scenario.repo!.plan(...argv)
        if (shown.at(-2) === '$ echo $?') {
          expect(String(run.code), where(scenario, block)).toBe(shown.at(-1))
          shown = shown.slice(0, -2)
        }
        const output = scenario.repo!.normal(run.stdout + run.stderr)
        if (argv.includes('json') && !shown.includes('…')) {
          expect(run.stderr, where(scenario, block)).toBe('')
          expect(JSON.parse(output), where(scenario, block)).toEqual(JSON.parse(shown.join('\n')))
          expect(planSchema.safeParse(JSON.parse(run.stdout)).success).toBe(true)
        } else {
          expectExcerpt(output.trimEnd().split('\n'), shown, where(scenario, block))
        }
        checked++
      }
    }
    expect(checked).toBeGreaterThanOrEqual(8)
  })

  test('every text block is printed, line for line, by the plan of one change shown', () => {
    const blocks = scenarios.flatMap((s) => s.blocks.filter((b) => b.lang === 'text'))
    expect(blocks.length).toBeGreaterThanOrEqual(8)
    for (const block of blocks) {
      const lines = block.body.split('\n').filter((l) => l !== '')
      const printed = scenarios.some((s) => lines.every((line) => s.text!.includes(line)))
      expect(printed, `plans.md:${block.line}: no plan prints all of\n${lines.join('\n')}`).toBe(true)
    }
  })

  test('the Markdown example is what --format markdown prints', async () => {
    const scenario = scenarios.find((s) => s.blocks.some((b) => b.lang === 'markdown'))!
    const block = scenario.blocks.find((b) => b.lang === 'markdown')!
    const { code, stdout } = await scenario.repo!.plan('--base', 'main', '--format', 'markdown')
    expect(code).toBe(2)
    expectExcerpt(
      scenario.repo!.normal(stdout).split('\n'),
      block.body.trimEnd().split('\n'),
      where(scenario, block),
    )
    expect(stdout).toMatch(/\*\*same change in \d+ accounts\*\*/)
  })

  test('the truncation note and the comment limit are those of the Markdown rendering', async () => {
    expect(page).toContain(`At most ${GITHUB_COMMENT_LIMIT.toLocaleString('en-US')} characters`)
    const quoted = /^ {2}> (_Truncated: .*_)$/m.exec(page)![1]!
    const rename = scenarios.find((s) => s.text!.some((l) => l.includes('deny  stack-rename')))!
    const { stdout } = await rename.repo!.plan('--base', 'main', '--format', 'json')
    const plan = JSON.parse(stdout) as Plan
    // The longest comment that leaves out some changes (and no finding), as the note quoted does.
    let maxLength = renderPlanMarkdown(plan).length
    let note = ''
    while (!/^_Truncated: [\d,]+ more changes? in/.test(note)) {
      maxLength -= 100
      const cut = renderPlanMarkdown(plan, { maxLength })
      expect(cut.length).toBeLessThanOrEqual(maxLength)
      note = cut.trimEnd().split('\n').at(-1)!
    }
    const pattern = (text: string) =>
      text
        .replace(/[\d,]+/g, 'N')
        .replace(/\b(some|none)\b/, 'some-or-none')
        .replace(/\b(change|group)s\b/g, '$1')
    expect(pattern(note)).toBe(pattern(quoted))
  })

  test('the actions, replacement values and symbols are those of the plan model', () => {
    const actions = tableRows(page.split('### Actions')[1]!.split('###')[0]!)
    expect(actions.slice(1).map(([action, symbol]) => [action, symbol])).toEqual(
      CHANGE_ACTIONS.map((a) => [`\`${a}\``, ACTION_SYMBOLS[a].trim() ? `\`${ACTION_SYMBOLS[a]}\`` : '']),
    )
    const values = tableRows(page.split('### Update or replace')[1]!.split('\n\n**')[0]!)
    expect(values.slice(1).map(([value]) => value)).toEqual([
      '`true`',
      '`false`',
      '`"conditional"`',
      '`"unknown"`',
    ])
  })

  test('what the page says about replacement is what the resource types say', () => {
    expect(replacementOf('AWS::CertificateManager::Certificate', ['DomainName'])).toBe(true)
    expect(replacementOf('AWS::EC2::VPC', ['InstanceTenancy'])).toBe('conditional')
    expect(replacementOf('AWS::Budgets::Budget', ['Budget', 'BudgetName'])).toBe(true)
    expect(replacementOf('AWS::Budgets::Budget', ['Budget'])).toBe('conditional')
    expect(replacementOf('AWS::Budgets::Budget', ['Budget', 'TimeUnit'])).toBe(false)
    for (const type of ['Custom::DnsRecord', 'AWS::Serverless::Function', 'Vendor::Service::Thing'])
      expect(replacementOf(type, ['Anything']), type).toBe('unknown')
    expect(replacementOf('AWS::S3::Bucket', ['NoSuchProperty'])).toBe('unknown')

    const kinds = tableRows(page.split('**Kubernetes objects.**')[1]!.split('\n\nA change to a field')[0]!)
      .slice(1)
      .flatMap(([kind]) => [...kind!.matchAll(/`(\w+)`/g)].map((m) => m[1]!))
    expect(kinds.sort()).toEqual([...KUBERNETES_IMMUTABLE_FIELDS.values()].map((r) => r.kind).sort())
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment' }
    expect(kubernetesReplacement('Deployment', deployment, ['spec', 'selector', 'matchLabels', 'app'])).toBe(
      true,
    )
    expect(kubernetesReplacement('Deployment', deployment, ['spec', 'replicas'])).toBe(false)
    expect(kubernetesReplacement('Deployment', deployment, ['spec'])).toBe('conditional')
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap' }
    expect(kubernetesReplacement('ConfigMap', { ...configMap, immutable: true }, ['data', 'x'])).toBe(true)
    expect(kubernetesReplacement('ConfigMap', configMap, ['data', 'x'])).toBe(false)
    expect(kubernetesReplacement('Widget', { apiVersion: 'example.org/v1' }, ['spec', 'x'])).toBe(false)
  })

  test('the protected types it names are built in, the base list and the kinds all of them', () => {
    const section = page.split('## Protected resources')[1]!.split('Every change carries `protected`.')[0]!
    const named = [...section.matchAll(/`([\w:]+)`/g)].map((m) => m[1]!).filter((name) => name !== 'protect')
    const builtin = [...BUILTIN_PROTECTED_TYPES, ...BUILTIN_PROTECTED_KINDS]
    expect(named.filter((name) => !builtin.includes(name))).toEqual([])
    expect(
      [...BASE_PROTECTED_TYPES, ...BUILTIN_PROTECTED_KINDS].filter((name) => !named.includes(name)),
    ).toEqual([])
  })

  test('the repository format lists every built-in protected type, marking the supplement', () => {
    const section = read('repository-format.md').split('## Protected resources')[1]!.split('\n## ')[0]!
    const cells = tableRows(section)
      .slice(1)
      .flatMap((row) => row[1]!.split(', '))
    const listed = cells.map((cell) => /^`([\w:]+)`/.exec(cell)![1]!)
    expect(listed.sort()).toEqual([...BUILTIN_PROTECTED_TYPES, ...BUILTIN_PROTECTED_KINDS].sort())
    const marked = cells
      .filter((cell) => /^`[\w:]+`†/.test(cell))
      .map((cell) => /^`([\w:]+)`/.exec(cell)![1]!)
    expect(marked.sort()).toEqual(STATEFUL_SUPPLEMENT.map((entry) => entry.type).sort())
  })

  test('the rules table lists every built-in rule, and the verdict table the exit codes', () => {
    const rules = tableRows(page.split('## Safety rules')[1]!.split('###')[0]!)
      .slice(1)
      .map(([rule]) => rule)
    expect(rules.sort()).toEqual(
      [
        ...builtinRules().rules.map((r) => r.id),
        'inventory-removal',
        'namespace-removal',
        'definition-removal',
        'ops-segregation',
      ]
        .map((id) => `\`${id}\``)
        .sort(),
    )
    const verdicts = tableRows(page.split('## Verdict and exit codes')[1]!.split('\n\n')[1]!).slice(1)
    for (const [verdict, code] of verdicts) {
      const v = verdict!.replaceAll('`', '')
      const expected = v === 'invalid' ? EXIT.user : planExitCode({ verdict: v } as Plan)
      expect(code, v).toBe(`\`${expected}\``)
    }
    expect(page).toContain(`Exit code \`${EXIT.internal}\` is an internal error`)
  })

  test('every option the page uses is an option of flotilla plan', () => {
    const program = buildProgram({ stdout: () => {}, stderr: () => {}, isTTY: false, cwd: ROOT }, () => {})
    const options = new Set(program.commands.find((c) => c.name() === 'plan')!.options.map((o) => o.long))
    const used = [
      ...codeBlocks(page)
        .filter((b) => ['sh', 'console', 'yaml'].includes(b.lang))
        .flatMap((b) => b.body.split('\n').filter((l) => l.includes('flotilla plan'))),
      ...tableRows(page.split('## Base and head')[1]!.split('```')[0]!).map(([option]) => option!),
    ].flatMap((text) => [...text.matchAll(/(?<![\w-])(--[a-z]+)/g)].map((m) => m[1]!))
    expect(used.length).toBeGreaterThan(10)
    for (const option of used) expect(options, option).toContain(option)
  })

  test('the --target examples select targets of the example', async () => {
    const lines = codeBlocks(page.split('## Planning some targets')[1]!.split('\n## ')[0]!, 'sh')
      .flatMap((b) => b.body.split('\n'))
      .filter((l) => l.includes('--target'))
    expect(lines.length).toBeGreaterThan(0)
    const tag = scenarios.find((s) => s.blocks.some((b) => b.lang === 'markdown'))!
    for (const line of lines) {
      const { code, stdout, stderr } = await tag.repo!.plan(...shellWords(line).slice(3))
      expect(stderr, line).toBe('')
      expect([0, 2], line).toContain(code)
      expect(stdout, line).toMatch(/^Targets changed: \d+ of [1-9]/m) // it selects some
    }
  })

  test('the pull-request workflow runs a plan that CI passes on exit code 2', async () => {
    const [block] = codeBlocks(page.split('## On every pull request')[1]!, 'yaml')
    const workflow = parseYaml(block!.body) as {
      jobs: { plan: { steps: { id?: string; name?: string; run?: string; env?: Record<string, string> }[] } }
    }
    const steps = workflow.jobs.plan.steps
    const planStep = steps.find((s) => s.id === 'plan')!
    const line = planStep.run!.split('\n').find((l) => l.includes('npx flotilla plan'))!
    const words = shellWords(line.split(' > ')[0]!.trim())
    expect(words.slice(0, 3)).toEqual(['npx', 'flotilla', 'plan'])
    expect(planStep.env!.BASE_REF).toBe('${{ github.base_ref }}')
    const argv = words.slice(3).map((w) => (w === 'origin/$BASE_REF' ? 'main' : w))

    const markdown = scenarios.find((s) => s.blocks.some((b) => b.lang === 'markdown'))!
    const repo = await checkout(markdown.head)
    await git(repo.dir, ['checkout', '-q', '-b', 'pull-request'])
    await git(repo.dir, ['commit', '-q', '-am', 'a tag renamed'], undefined, GIT_IDENTITY)
    const { code, stdout, stderr } = await repo.plan(...argv)
    expect(stderr).toBe('')
    expect(code).toBe(2)
    expect(stdout).toMatch(/^### Flotilla plan: \*\*allowed\*\*\n/)
    expect(stdout).toContain('→ <code>HEAD</code>')

    const verdict = steps.find((s) => s.name === 'Verdict')!.run!
    expect(verdict).toMatch(/^\s+0\|2\) echo /m)
  })

  test('unchanged renderings are shared between base and head, as the performance notes say', () => {
    const cache = new LoadCache()
    const base = expectValid(loadFleet(memorySource(PLAN_BASE), { cache }), false)
    const tag = scenarios.find((s) => s.blocks.some((b) => b.lang === 'markdown'))!.head
    const head = expectValid(loadFleet(memorySource(tag), { cache }), false)
    const stacks = (fleet: Fleet, name: string) =>
      fleet.desired.get('263820974194')!.stacks.filter((s) => s.stackName === name)
    expect(stacks(head, 'vpc')).toHaveLength(2)
    for (const [i, stack] of stacks(head, 'vpc').entries()) expect(stack).toBe(stacks(base, 'vpc')[i])
    expect(stacks(head, 'iam-roles')[0]).not.toBe(stacks(base, 'iam-roles')[0])
  })
})

describe('policies.md: its policies and policy tests', () => {
  const page = read('policies.md')
  const own = repositoryFiles('policies.md')
  const files: Files = { ...BASE, ...own }
  const consoles = codeBlocks(page, 'console').map((b) => b.body)
  /** The YAML blocks of the page under a heading, up to the next heading. */
  const yamlUnder = (heading: string) => codeBlocks(page.split(heading)[1]!.split(/^#{2,3} /m)[0]!, 'yaml')
  /** The lines of the ```text block under a heading (the `n`th there). */
  const textUnder = (heading: string, n = 0) =>
    codeBlocks(page.split(heading)[1]!.split(/^#{2,3} /m)[0]!, 'text')
      [n]!.body.trimEnd()
      .split('\n')
  const FREEZE = 'policies/freeze.yaml'

  /** Writes a repository as `example-fleet/` of a new directory and runs `flotilla policy test` there. */
  function policyTest(repository: Files, ...options: string[]) {
    const cwd = mkdtempSync(join(tmpdir(), 'flotilla-policies-'))
    for (const [path, text] of Object.entries(repository)) {
      mkdirSync(join(cwd, 'example-fleet', posix.dirname(path)), { recursive: true })
      writeFileSync(join(cwd, 'example-fleet', path), text)
    }
    return runCaptured(['policy', 'test', '--repo', 'example-fleet', ...options], cwd)
  }

  /** A console block of the page, compared with a run: its output lines and its exit code. */
  function expectConsole(block: string, run: { code: number; stdout: string; stderr: string }) {
    const lines = block.trimEnd().split('\n')
    expect(lines[0]).toBe('$ npx flotilla policy test --repo example-fleet')
    expect(lines.slice(-2)).toEqual(['$ echo $?', String(run.code)])
    expect(run.stderr).toBe('')
    expect(run.stdout.trimEnd().split('\n')).toEqual(lines.slice(1, -2))
  }

  test('its files are new to the example repository, which loads with them without an error or a warning', () => {
    expect(Object.keys(own).sort()).toEqual([
      'policies/protection.yaml',
      'policies/tests/freeze.yaml',
      'policies/tests/protection.yaml',
    ])
    expect(Object.keys(own).every((p) => !Object.hasOwn(BASE, p))).toBe(true)
    const fleet = expectValid(loadFleet(memorySource(files)))
    expect(fleet.policies.map((p) => p.name)).toEqual(
      expect.arrayContaining(['cyber-week-freeze', 'protected-in-production', 'mass-destruction']),
    )
  })

  test('flotilla policy test: every test of the page passes, as shown', async () => {
    expectConsole(consoles[0]!, await policyTest(files))
  })

  test('the failing test: the edit the page describes gives the output and exit code shown', async () => {
    expect(page).toContain("removing `target.environment == 'production' &&` from its `when`")
    const from = "target.environment == 'production'\n    && now >="
    expect(BASE[FREEZE]).toContain(from)
    const run = await policyTest({ ...files, [FREEZE]: BASE[FREEZE]!.replace(from, 'now >=') })
    expect(run.code).toBe(1)
    expectConsole(consoles[1]!, run)
  })

  test('--format json: the fields the page lists', async () => {
    const { code, stdout } = await policyTest(files, '--format', 'json')
    expect(code).toBe(0)
    const report = JSON.parse(stdout)
    expect(report).toMatchObject({ passed: 10, failed: 0 })
    const listed = [...page.matchAll(/"(\w+)"/g)].map((m) => m[1])
    const staging = report.tests.find((t: { name: string }) => t.name === 'staging is not frozen')
    for (const key of Object.keys(staging)) expect(listed, key).toContain(key)
    expect(Object.keys(report.tests[0])).toContain('expectedVerdict')
    expect(Object.keys(report.tests[0].actual[0]).sort()).toEqual(['addresses', 'effect', 'message', 'rule'])
  })

  test('a built-in rule made stricter loads; made weaker, each entry is the error quoted', () => {
    const [stricter, weaker] = yamlUnder('### Making a built-in rule stricter')
    const fleet = expectValid(loadFleet(memorySource({ ...files, 'policies/safety.yaml': stricter!.body })))
    expect(fleet.policyOverrides).toMatchObject([{ name: 'delete-budget', effect: 'deny' }])
    const result = loadFleet(memorySource({ ...files, 'policies/safety.yaml': weaker!.body }))
    expect(result.ok ? [] : result.errors.map(formatDiagnostic)).toEqual(
      textUnder('### Making a built-in rule stricter'),
    )
  })

  test('a rule that cannot decide: the policy-error quoted, and it denies', async () => {
    const [rule] = yamlUnder('## When a rule cannot decide')
    const zoneTest = `- name: a zone in checkout-test
  now: 2026-12-02T10:00:00Z
  changes: [{ target: checkout-test, action: create, type: AWS::Route53::HostedZone }]
  expect: [{ rule: policy-error, effect: deny }]
  verdict: denied
`
    const run = await policyTest(
      { ...files, 'policies/zones.yaml': rule!.body, 'policies/tests/zones.yaml': zoneTest },
      '--format',
      'json',
    )
    const zones = JSON.parse(run.stdout).tests.find((t: { file: string }) => t.file.endsWith('zones.yaml'))
    expect(zones.passed).toBe(true)
    expect(zones.actual.map((f: { message: string }) => f.message)).toEqual(
      textUnder('## When a rule cannot decide'),
    )
  })

  test('the approval messages quoted are those of the page’s tests', async () => {
    const report = JSON.parse((await policyTest(files, '--format', 'json')).stdout)
    const messages = report.tests.flatMap((t: { actual: { message: string }[] }) =>
      t.actual.map((f) => f.message),
    )
    const quoted = [
      ...textUnder('## Approvals', 0),
      ...textUnder('## Approvals', 1),
      ...textUnder('## Approvals', 2),
    ]
    expect(quoted).toHaveLength(3)
    for (const line of quoted) expect(messages).toContain(line)
    // The prose's example of where a finding says its rule is written.
    expect(page).toContain('`(3 changes; policies/protection.yaml:8:3)`')
    expect(messages).toContain(
      'IAM changes in production are called out in the plan (1 change; policies/protection.yaml:8:3)',
    )
  })

  test('problems in a test file: the errors quoted, for the typos they name', async () => {
    const tests = own['policies/tests/freeze.yaml']!.replace(
      'target: checkout-prod',
      'target: checkout-prd',
    ).replace('rule: cyber-week-freeze,', 'rule: cyber-week-frezee,')
    const run = await policyTest({ ...files, 'policies/tests/freeze.yaml': tests })
    expect(run.code).toBe(1)
    const lines = run.stderr.trimEnd().split('\n')
    expect(lines.at(-1)).toBe('1 policy test file is invalid (2 errors); no test was run')
    expect(lines.slice(0, -1)).toEqual(textUnder('### The test file'))
  })

  test('the when examples of "Time" are valid per-change conditions', () => {
    const block = page.split('## Time: now and freeze windows')[1]!.split(/^```\n/m)[1]!
    const whens = block.split('\n').filter((l) => l.startsWith('when: '))
    expect(whens).toHaveLength(3)
    for (const when of whens) {
      const compiled = compileExpression(when.slice('when: '.length), 'policy-change')
      expect(compiled, when).not.toBeInstanceOf(ExpressionError)
      expect((compiled as { type: string }).type).toBe('bool')
    }
  })

  test('the tables list exactly the keys of a policy test, a change and an expected finding', () => {
    const section = page.split('### The test file')[1]!.split(/^#{2,3} /m)[0]!
    const tables: string[][] = []
    for (const row of tableRows(section)) {
      if (row[0] === 'key') tables.push([])
      else tables.at(-1)!.push(row[0]!.replaceAll('`', ''))
    }
    expect(tables).toEqual([
      Object.keys(policyTestSchema.shape),
      Object.keys(policyTestChangeSchema.shape),
      Object.keys(policyTestFindingSchema.shape),
    ])
  })

  test('the plan rule variables name every field of the plan summary', () => {
    const section = page.split('### Plan rules')[1]!.split(/^#{2,3} /m)[0]!
    for (const key of Object.keys(summarisePlan([], 0)))
      expect(section, key).toMatch(new RegExp(`\\b${key}\\b`))
  })
})

/**
 * Values that differ on every run: snapshot and fault ids, times, ports, process ids. The page
 * shows values of its own; they must follow the same pattern as the real ones. Each distinct value
 * is numbered, per kind, in order of first appearance — on the page and in the real output alike —
 * and a command the page runs with a value it showed (`flotilla restore snap-…`) gets the real one.
 */
class VolatileValues {
  static readonly KINDS: Readonly<Record<string, RegExp>> = {
    snapshot: /snap-\d{8}-[0-9a-f]{6}/g,
    fault: /fault-[0-9a-f]{8}/g,
    time: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g,
    port: /(?<=127\.0\.0\.1:|-p )\d+/g,
    pid: /(?<=process )\d+/g,
  }
  private readonly numbered = { shown: new Map<string, string>(), actual: new Map<string, string>() }

  /** `text` with each volatile value replaced by its kind and number, `⟨snapshot 1⟩`. */
  canon(text: string, side: 'shown' | 'actual'): string {
    const numbers = this.numbered[side]
    let out = text
    for (const [kind, pattern] of Object.entries(VolatileValues.KINDS)) {
      out = out.replace(pattern, (value) => {
        const key = `${kind} ${value}`
        if (!numbers.has(key))
          numbers.set(
            key,
            `⟨${kind} ${[...numbers.keys()].filter((k) => k.startsWith(`${kind} `)).length + 1}⟩`,
          )
        return numbers.get(key)!
      })
    }
    return out
  }

  /** A command line of the page with the values it shows replaced by the real ones. */
  real(line: string): string {
    let out = line
    for (const [kind, pattern] of Object.entries(VolatileValues.KINDS)) {
      out = out.replace(pattern, (value) => {
        const placeholder = this.numbered.shown.get(`${kind} ${value}`)
        const real = [...this.numbered.actual].find(([, p]) => p === placeholder)?.[0]
        if (placeholder === undefined || real === undefined)
          throw new Error(`"${line}" uses ${value}, which no output has shown before`)
        return real.slice(kind.length + 1)
      })
    }
    return out
  }
}

/** What `dig @HOST -p PORT +short NAME [TYPE]` prints, asked with Node's resolver (dig is not a dependency). */
async function digShort(words: readonly string[]): Promise<string> {
  const [server, dashP, port, short, name, type = 'A'] = words
  expect([server?.startsWith('@'), dashP, short], 'dig @HOST -p PORT +short NAME [TYPE]').toEqual([
    true,
    '-p',
    '+short',
  ])
  const resolver = new Resolver({ timeout: 2000, tries: 1 })
  resolver.setServers([`${server!.slice(1)}:${port}`])
  let records: unknown
  try {
    records = await resolver.resolve(name!, type)
  } catch (error) {
    // +short prints nothing for a name that does not exist or has no record of the type
    if (['ENOTFOUND', 'ENODATA'].includes((error as NodeJS.ErrnoException).code ?? '')) return ''
    throw error
  }
  if (type === 'TXT')
    return (records as string[][]).map((chunks) => `${chunks.map((c) => `"${c}"`).join(' ')}\n`).join('')
  if (type === 'SOA') {
    const soa = records as {
      nsname: string
      hostmaster: string
      serial: number
      refresh: number
      retry: number
      expire: number
      minttl: number
    }
    return `${soa.nsname}. ${soa.hostmaster}. ${soa.serial} ${soa.refresh} ${soa.retry} ${soa.expire} ${soa.minttl}\n`
  }
  return (records as string[]).map((r) => `${r}\n`).join('')
}

describe('simulated-fleet.md: the walkthrough, run in order in one repository', () => {
  const page = read('simulated-fleet.md')
  /** Console blocks run, diff blocks edit the repository, in the order of the page. */
  const steps = codeBlocks(page).filter((b) => b.lang === 'console' || b.lang === 'diff')
  const volatile = new VolatileValues()
  let parent = ''
  let cwd = ''
  let lastCode = 0
  let background: { child: ChildProcess; exited: Promise<number | null> } | undefined

  /** Output as the page shows it: this machine's directory as `…`, volatile values numbered, no trailing blanks. */
  const normal = (text: string) =>
    volatile
      .canon(text.replaceAll(parent, '…'), 'actual')
      .trimEnd()
      .split('\n')
      .map((line) => line.trimEnd())

  beforeAll(() => {
    parent = mkdtempSync(join(tmpdir(), 'flotilla-sim-'))
    cwd = parent
  })
  afterAll(() => {
    if (parent !== '') rmSync(parent, { recursive: true, force: true })
  })

  /**
   * Runs the CLI in-process; stdout and stderr interleaved, as a terminal shows them. Its clock is
   * the Tuesday morning the page shows: the example's policies want approvals for production
   * changes on weekends and in Cyber Week, and `apply` takes no `--now`.
   */
  async function flotilla(argv: readonly string[]): Promise<string> {
    const out: string[] = []
    const write = (text: string) => void out.push(text)
    const clock = () => ({ at: '2026-11-10T10:00:00.000Z', source: 'clock' as const })
    lastCode = await runCli(argv, { stdout: write, stderr: write, isTTY: false, cwd, clock })
    return out.join('')
  }

  /** `npx flotilla … &`: a real process in the background (it holds the store); its first line. */
  async function inBackground(argv: readonly string[]): Promise<string> {
    expect(background, 'one background job at a time').toBeUndefined()
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'flotilla.js'), ...argv], { cwd })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    background = { child, exited }
    let stderr = ''
    child.stderr!.on('data', (chunk) => {
      stderr += chunk
    })
    return new Promise((resolve, reject) => {
      let stdout = ''
      child.stdout!.on('data', (chunk) => {
        stdout += chunk
        if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n') + 1))
      })
      void exited.then((code) =>
        reject(new Error(`${argv.join(' ')} exited (${code}) before printing:\n${stderr}`)),
      )
    })
  }

  async function run(line: string): Promise<string> {
    const words = shellWords(volatile.real(line))
    if (words[0] === 'npx' && words[1] === 'flotilla') {
      return words.at(-1) === '&' ? inBackground(words.slice(2, -1)) : flotilla(words.slice(2))
    }
    switch (words[0]) {
      case 'cd':
        cwd = join(cwd, words[1]!)
        return ''
      case 'dig':
        return digShort(words.slice(1))
      case 'kill': {
        // `kill %1`: SIGTERM to the background job, which stops and releases the store
        expect(words[1]).toBe('%1')
        background!.child.kill('SIGTERM')
        expect(await background!.exited, 'the background job stops cleanly').toBe(0)
        background = undefined
        return ''
      }
      default:
        throw new Error(`the page runs "${line}", which this test cannot run`)
    }
  }

  test.each(steps.map((step) => [step.line, step] as const))('the block at line %i', async (_, step) => {
    const where = `simulated-fleet.md:${step.line}`
    if (step.lang === 'diff') {
      const paths = [...step.body.matchAll(/^\+\+\+ b\/(.+)$/gm)].map((m) => m[1]!)
      const before = Object.fromEntries(paths.map((p) => [p, readFileSync(join(cwd, p), 'utf8')]))
      for (const [path, text] of Object.entries(applyDiff(before, step.body)))
        writeFileSync(join(cwd, path), text)
      return
    }
    const commands: { line: string; shown: string[] }[] = []
    for (const line of step.body.trimEnd().split('\n')) {
      if (line.startsWith('$ ')) commands.push({ line: line.slice(2), shown: [] })
      else if (commands.length === 0) throw new Error(`${where}: a console block starts with a command`)
      else commands.at(-1)!.shown.push(line)
    }
    try {
      for (const { line, shown } of commands) {
        const expected = shown.map((l) => volatile.canon(l, 'shown').trimEnd())
        if (line === 'echo $?') {
          expect(String(lastCode), `${where}: ${line}`).toBe(shown.join('\n'))
          continue
        }
        const output = await run(line)
        expectExcerpt(output === '' ? [] : normal(output), expected, `${where}: ${line}`)
      }
      expect(background, `${where}: a block stops (kill %1) what it starts in the background`).toBeUndefined()
    } finally {
      // A job left running would hold the store, and every later block would fail for it.
      background?.child.kill('SIGTERM')
      await background?.exited
      background = undefined
    }
  })

  test('the faults table lists every fault kind', () => {
    const rows = tableRows(page.split('## Faults')[1]!.split('\n## ')[0]!).slice(1)
    expect(rows.map(([kind]) => kind)).toEqual(FAULT_KINDS.map((kind) => `\`${kind}\``))
  })

  test('the sim commands table lists every subcommand of flotilla sim', () => {
    const program = buildProgram({ stdout: () => {}, stderr: () => {}, isTTY: false, cwd: ROOT }, () => {})
    const sim = program.commands.find((c) => c.name() === 'sim')!
    const rows = tableRows(page.split('### The sim commands')[1]!.split('\n## ')[0]!).slice(1)
    expect(rows.map(([command]) => /^`flotilla sim (\w+)/.exec(command!)?.[1])).toEqual(
      sim.commands.map((c) => c.name()),
    )
  })
})

describe('rollouts.md', () => {
  const page = read('rollouts.md')
  const program = buildProgram({ stdout: () => {}, stderr: () => {}, isTTY: false, cwd: ROOT }, () => {})

  test('the operations table lists every rollout subcommand but start, and stop and unstop', () => {
    const rows = tableRows(page.split('## Following and operating it')[1]!.split('\n## ')[0]!).slice(1)
    const shown = new Set(rows.map(([command]) => /^`flotilla (rollout \w+|\w+)/.exec(command!)?.[1]))
    const rollout = program.commands.find((c) => c.name() === 'rollout')!
    expect([...shown]).toEqual([
      ...rollout.commands.filter((c) => c.name() !== 'start').map((c) => `rollout ${c.name()}`),
      'stop',
      'unstop',
    ])
  })

  test('the options of rollout start are those of the command', () => {
    const rows = tableRows(page.split('## Starting one')[1]!.split('\n## ')[0]!).slice(1)
    const shown = rows.map(([option]) => /^`(--[\w-]+)/.exec(option!)?.[1]).sort()
    const start = program.commands
      .find((c) => c.name() === 'rollout')!
      .commands.find((c) => c.name() === 'start')!
    // A hidden option (`--now`, taken only to refuse it clearly) is no option to document.
    const real = start.options
      .filter((o) => !o.hidden)
      .map((o) => o.long!)
      .filter((o) => !['--repo', '--data'].includes(o))
    expect(shown).toEqual(real.sort())
  })

  test('the states table lists every rollout state, and the exit codes are those of --wait', () => {
    const rows = tableRows(page.split('## States')[1]!.split('\n## ')[0]!).slice(1)
    expect(rows.map(([state]) => state)).toEqual(ROLLOUT_STATES.map((s) => `\`${s}\``))
    expect(
      Object.fromEntries(ROLLOUT_STATES.filter((s) => s !== 'running').map((s) => [s, waitExitCode(s)])),
    ).toEqual({
      succeeded: 0,
      'waiting-approval': 5,
      halted: 3,
      'rolled-back': 3,
      aborted: 3,
      paused: 3,
      queued: 3,
    })
    expect(page).toContain(
      '`--wait` exits with `0` when the rollout succeeded, `5` when it waits for an approval, and `3`\nfor every other end: halted, rolled back, aborted — and also paused',
    )
  })

  test('the metrics table lists every metric the engine exports', () => {
    const rows = tableRows(page.split('## Metrics')[1]!.split('\n## ')[0]!).slice(1)
    const shown = rows.map(([name]) => /^`(\w+)/.exec(name!)?.[1])
    const metrics = new RolloutMetrics(undefined as never) // only the names are read
    expect(shown).toEqual(metrics.registry.getMetricsAsArray().map((m) => m.name))
  })

  test('the gates table names every gate type and its default timeout', () => {
    const rows = tableRows(page.split('## Gates')[1]!.split('\n## ')[0]!).slice(1)
    const seconds = (ms: number) =>
      ms > 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`
    expect(rows.map(([type, , timeout]) => [type, timeout])).toEqual(
      Object.entries(DEFAULT_GATE_TIMEOUT_MS).map(([type, ms]) => [`\`${type}\``, seconds(ms)]),
    )
  })
})

describe('server.md', () => {
  const page = read('server.md')
  const program = buildProgram({ stdout: () => {}, stderr: () => {}, isTTY: false, cwd: ROOT }, () => {})

  test('the endpoint table lists exactly the operations of the OpenAPI document', () => {
    const rows = tableRows(page.split('## The API')[1]!).slice(1)
    const shown = rows.map(([endpoint]) =>
      /^`(\w+) (\S+)`/.exec(endpoint!)!.slice(1, 3).join(' ').toLowerCase(),
    )
    const documented = Object.entries((openApiDocument() as { paths: Record<string, object> }).paths).flatMap(
      ([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`.toLowerCase()),
    )
    expect(shown.sort()).toEqual(documented.sort())
  })

  test('the options of serve are those of the command', () => {
    const rows = tableRows(page.split('## Running it')[1]!.split('\n## ')[0]!).slice(1)
    const shown = rows.map(([option]) => /^`(--[\w-]+)/.exec(option!)?.[1]).sort()
    const serve = program.commands.find((c) => c.name() === 'serve')!
    expect(shown).toEqual(serve.options.map((o) => o.long!).sort())
  })

  test('the roles table names every role', () => {
    const rows = tableRows(page.split('## Signing in, users and roles')[1]!.split('\n## ')[0]!).slice(1)
    expect(rows.map(([role]) => role)).toEqual(ROLES.map((r) => `\`${r}\``))
  })
})

describe('drill.md', () => {
  const page = read('drill.md')
  const section = (heading: string) => page.split(`## ${heading}`)[1]!.split('\n## ')[0]!
  const program = buildProgram({ stdout: () => {}, stderr: () => {}, isTTY: false, cwd: ROOT }, () => {})

  test('the options table lists exactly the options of flotilla drill', () => {
    const shown = tableRows(section('Running it'))
      .slice(1)
      .map(([option]) => /^`(--[\w-]+)/.exec(option!)?.[1])
    const drill = program.commands.find((c) => c.name() === 'drill')!
    expect(shown.sort()).toEqual(drill.options.map((o) => o.long!).sort())
  })

  test('the scenarios table lists every scenario, in the order a drill runs them', () => {
    const shown = tableRows(section('The scenarios'))
      .slice(1)
      .map(([name]) => name!.replaceAll('`', ''))
    expect(shown).toEqual([...SCENARIO_NAMES])
    const stoppedBy = [...section('The scenarios').matchAll(/^\d\. `(\w+)`/gm)].map((m) => m[1])
    expect(stoppedBy).toEqual(['validation', 'plan', 'policy', 'gate'])
  })

  test('a drill prints the report shown: its text lines, and the JSON document with the fields listed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flotilla-drill-doc-'))
    try {
      const argv = ['init', join(dir, 'fleet'), '--example', '--accounts', '24', '--clusters', '30']
      expect((await runCaptured(argv)).code).toBe(0)
      const drill = (...more: string[]) =>
        runCaptured([
          'drill',
          '--repo',
          join(dir, 'fleet'),
          '--now',
          '2026-11-10T10:00:00Z',
          '--scenario',
          'misspelt-metadata-key',
          ...more,
        ])
      const text = await drill()
      expect(text.code).toBe(0)
      // Every line of the first scenario shown, but for the revision and the seconds it took.
      const shown = codeBlocks(section('The report'), 'text')[0]!.body.split('\n…')[0]!
      const seconds = (line: string) => line.replace(/\(\d+\.\d s\)/, '(… s)').replace(/[0-9a-f]{12}/, '…')
      expect(text.stdout.split('\n').slice(0, shown.split('\n').length).map(seconds)).toEqual(
        shown.split('\n').map(seconds),
      )
      const json = await drill('--format', 'json')
      const report = JSON.parse(json.stdout) as Record<string, unknown> & { scenarios: object[] }
      const example = JSON.parse(codeBlocks(section('The report'), 'json')[0]!.body) as typeof report
      expect(Object.keys(report).sort()).toEqual(Object.keys(example).sort())
      expect(Object.keys(report.scenarios[0]!).sort()).toEqual(Object.keys(example.scenarios[0]!).sort())
      expect(report.scenarios[0]).toMatchObject({ ...example.scenarios[0], seconds: expect.any(Number) })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('kubernetes.md: cluster updates', () => {
  const page = read('kubernetes.md')
  const section = page.slice(page.indexOf('## Cluster updates'))
  const test_ = useTestStore('pglite')

  test('the nodeRotation example is valid, production forbidding forced evictions', () => {
    const block = codeBlocks(section, 'yaml').find((b) => b.body.includes('nodeRotation:'))!
    const settings = nodeRotationSchema.parse(
      (parseYaml(block.body) as { nodeRotation: unknown }).nodeRotation,
    )
    expect(rotationLimits(settings, 'production').forcedEviction.allowed).toBe(false)
    expect(rotationLimits(settings, 'staging')).toMatchObject({ maxSurge: 2, drainTimeoutMs: 20 * 60_000 })
  })

  test('the plan excerpt is what a version upgrade plans against the simulated cluster', async () => {
    const files = generateExampleFleet({ accounts: 20, clusters: 15, seed: '7' })
    const base = expectValid(loadFleet(memorySource(files)), false)
    const shown = codeBlocks(section, 'text')[0]!.body.trimEnd().split('\n')
    const id = /(aws:[0-9]+:[a-z0-9-]+:kube-[0-9]+)/.exec(shown.join('\n'))![1]!
    const cluster = base.targets.find((t) => t.id === id)!
    const from = base.clusters.get(id)!.kubernetesVersion
    const to = `1.${Number(from.split('.')[1]) + 1}`
    const path = [...files.keys()].find(
      (p) => p.startsWith('inventory/clusters') && files.get(p)!.includes(id),
    )!
    const text = files.get(path)!
    const line = `kubernetesVersion: "${from}"`
    const at = text.indexOf(line, text.indexOf(id))
    files.set(path, `${text.slice(0, at)}kubernetesVersion: "${to}"${text.slice(at + line.length)}`)
    const head = expectValid(loadFleet(memorySource(files)), false)
    const sim = new SimProvider({ db: test_.store.db })
    await sim.updateSettings({ latencyScale: 0 })
    await sim.seed(base.targets, base.clusters)
    await sim.apply({
      target: cluster,
      desired: base.desired.get(id)!,
      plan: undefined,
      approvedDestruction: new Set(),
      revision: 'r1',
    })
    const outcome = await planAgainstObserved(head, new ProviderRegistry([sim]), test_.store.db, {
      include: (t) => t.id === id,
      // A Tuesday before the example's Cyber Week freeze.
      now: new Date('2026-11-10T10:00:00Z'),
    })
    if (!outcome.outcome.ok) throw new Error('invalid')
    const lines = renderPlanText(outcome.outcome.plan, { color: false }).split('\n')
    expectExcerpt(lines, shown, 'kubernetes.md: the plan of a version upgrade')
  })
})
