import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import type { Change, Plan } from '../src/core/model/plan.ts'
import { writeExampleFleet } from '../src/example/write-example.ts'
import { git } from '../src/source/git.ts'
import { commitScenario, planScenario } from './support/example-scenarios.ts'
import { GIT_IDENTITY } from './support/git-fixture.ts'
import { runCaptured } from './support/run-cli.ts'

/**
 * Ordinary edits that destroy without looking like it — a flipped CloudFormation condition, a
 * mapping value, a MovedFrom that moves nothing — each a commit on a small example fleet
 * (`flotilla init --example --accounts 24 --clusters 4`), planned through the CLI as a pull
 * request check would. Several variants of each class: the same mistake written another way.
 */
let repo = ''
const DNS = 'stacks/route53-hostedzones.yaml'
const LOGGING = 'stacks/logging.yaml'

/** The example's zone stack with its zone and certificate behind a condition that holds everywhere. */
function guardedZones(text: string): string {
  return text
    .replace(
      'Parameters:\n  DomainName:',
      'Parameters:\n  ManageZone:\n    Type: String\n    Default: "true"\n    AllowedValues: ["true", "false"]\n  DomainName:',
    )
    .replace(
      'Resources:\n  HostedZone:\n    Type: AWS::Route53::HostedZone\n',
      'Conditions:\n  ManageZone: !Equals [!Ref ManageZone, "true"]\nMappings:\n  Zones:\n    global: { suffix: "" }\nResources:\n  HostedZone:\n    Type: AWS::Route53::HostedZone\n    Condition: ManageZone\n',
    )
    .replace(
      'Name: !Sub "${DomainName}."',
      'Name: !Sub ["${DomainName}${Suffix}.", { Suffix: !FindInMap [Zones, global, suffix] }]',
    )
    .replace(
      '  Certificate:\n    Type: AWS::CertificateManager::Certificate\n',
      '  Certificate:\n    Type: AWS::CertificateManager::Certificate\n    Condition: ManageZone\n',
    )
    .replace('Outputs:\n  HostedZoneId:\n', 'Outputs:\n  HostedZoneId:\n    Condition: ManageZone\n')
    .replace('  NameServers:\n', '  NameServers:\n    Condition: ManageZone\n')
    .replace('  CertificateArn:\n', '  CertificateArn:\n    Condition: ManageZone\n')
}

beforeAll(async () => {
  repo = join(mkdtempSync(join(tmpdir(), 'flotilla-blind-')), 'fleet')
  await writeExampleFleet(repo, { accounts: 24, clusters: 4 })
  edit(DNS, guardedZones)
  await git(repo, ['commit', '-q', '-am', 'Zones behind a condition'], undefined, GIT_IDENTITY)
})

function edit(path: string, change: (text: string) => string): void {
  const file = join(repo, path)
  const before = readFileSync(file, 'utf8')
  const after = change(before)
  expect(after, `the edit of ${path} changed nothing`).not.toBe(before)
  writeFileSync(file, after)
}

const scenario = (name: string, edits: Record<string, (text: string) => string>) =>
  commitScenario(repo, name, edits)
const plan = (head: string, base = 'main') => planScenario(repo, head, base)

const changes = (p: Plan): Change[] => p.targets.flatMap((t) => t.changes)
const zones = (p: Plan, action: string) =>
  changes(p).filter((c) => c.type === 'AWS::Route53::HostedZone' && c.action === action)

test('the guarded example plans nothing against itself: the condition holds everywhere', async () => {
  const { code, plan: p } = await plan('main', 'main~1')
  // Adding a condition that holds changes the template, not a single resource.
  expect(p!.summary.actions).toMatchObject({ create: 0, delete: 0, replace: 0 })
  expect(code).toBe(2)
})

describe('a condition that turns false deletes what it guards', () => {
  test.each([
    [
      'the condition flipped',
      (t: string) => t.replace('!Equals [!Ref ManageZone, "true"]', '!Equals [!Ref ManageZone, "false"]'),
    ],
    [
      'the condition negated',
      (t: string) =>
        t.replace('!Equals [!Ref ManageZone, "true"]', '!Not [!Equals [!Ref ManageZone, "true"]]'),
    ],
    ['the parameter default changed', (t: string) => t.replace('Default: "true"', 'Default: "false"')],
    [
      'a pseudo parameter in the condition',
      (t: string) =>
        t.replace('!Equals [!Ref ManageZone, "true"]', '!Equals [!Ref "AWS::Region", us-east-1]'),
    ],
    [
      'the condition combined with Fn::And',
      (t: string) =>
        t.replace(
          '!Equals [!Ref ManageZone, "true"]',
          '!And [!Equals [!Ref ManageZone, "true"], !Equals [!Ref "AWS::Partition", aws-cn]]',
        ),
    ],
    [
      'the condition taken from another by a YAML alias',
      (t: string) =>
        t.replace(
          '  ManageZone: !Equals [!Ref ManageZone, "true"]',
          '  Never: &never !Equals [!Ref "AWS::Region", nowhere-1]\n  ManageZone: *never',
        ),
    ],
    [
      'the condition through a Condition reference',
      (t: string) =>
        t.replace(
          '  ManageZone: !Equals [!Ref ManageZone, "true"]',
          '  IsChina: !Equals [!Ref "AWS::Partition", aws-cn]\n  ManageZone: !Condition IsChina',
        ),
    ],
  ])('%s: every zone is a protected delete, never allowed', async (name, change) => {
    const branch = await scenario(`condition-${name.replace(/\W+/g, '-')}`, { [DNS]: change })
    const { code, plan: p } = await plan(branch)
    expect(p!.verdict).not.toBe('allowed')
    expect(code).toBe(3)
    const deleted = zones(p!, 'delete')
    expect(deleted.length).toBeGreaterThan(10)
    expect(deleted[0]!.condition).toEqual({ name: 'ManageZone', value: false })
    const protectedDestroy = p!.findings.find((f) => f.rule === 'protected-destroy')!
    expect(protectedDestroy.addresses).toEqual(expect.arrayContaining(deleted.map((z) => z.address)))
    expect(p!.findings.map((f) => f.rule)).toContain('delete-budget')
  })

  test('a per-account parameter value turns it false only in production', async () => {
    const branch = await scenario('condition-by-parameter', {
      [DNS]: (t) =>
        t.replace(
          '    DomainName: "{{ config.dns_domain }}"',
          `    DomainName: "{{ config.dns_domain }}"\n    ManageZone: "{{ account.environment == 'production' ? 'false' : 'true' }}"`,
        ),
    })
    const { plan: p } = await plan(branch)
    const deleted = zones(p!, 'delete')
    expect(deleted.length).toBeGreaterThan(0)
    const production = new Set(p!.targets.filter((t) => t.environment === 'production').map((t) => t.id))
    expect(deleted.every((z) => production.has(z.address.split('/')[0]!))).toBe(true)
    expect(p!.verdict).not.toBe('allowed')
  })

  test('a condition that turns true again is a create', async () => {
    const off = await scenario('zones-off', {
      [DNS]: (t) => t.replace('Default: "true"', 'Default: "false"'),
    })
    const { plan: p } = await plan('main', off)
    const created = zones(p!, 'create')
    expect(created.length).toBeGreaterThan(10)
    expect(created[0]!.condition).toEqual({ name: 'ManageZone', value: true })
  })

  test('a look-alike letter in the value a condition compares is a located error, not a false condition', async () => {
    // "true" with a Cyrillic е: it would compare unequal everywhere and delete every zone.
    const branch = await scenario('condition-lookalike', {
      [DNS]: (t) => t.replace('!Equals [!Ref ManageZone, "true"]', '!Equals [!Ref ManageZone, "tru\u0435"]'),
    })
    const { code, stderr } = await plan(branch)
    expect(code).toBe(1)
    expect(stderr).toMatch(/stacks\/route53-hostedzones\.yaml:\d+:\d+: .*U\+0435/)
  })

  test('a misspelt condition name is a located validation error, not a resource left out', async () => {
    const branch = await scenario('condition-typo', {
      [DNS]: (t) =>
        t.replace(
          '    Condition: ManageZone\n    Properties:\n      Name',
          '    Condition: ManageZones\n    Properties:\n      Name',
        ),
    })
    const { code, stderr } = await plan(branch)
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /stacks\/route53-hostedzones\.yaml:\d+:\d+: condition "ManageZones" is not defined in the Conditions section/,
    )
  })
})

describe('mappings and intrinsic functions feed replacement-causing properties', () => {
  test('a changed mapping value that feeds a zone name replaces every zone', async () => {
    const branch = await scenario('mapping-suffix', {
      [DNS]: (t) => t.replace('global: { suffix: "" }', 'global: { suffix: "-new" }'),
    })
    const { code, plan: p } = await plan(branch)
    expect(code).toBe(3)
    const replaced = zones(p!, 'replace')
    expect(replaced.length).toBeGreaterThan(10)
    expect(replaced[0]!.properties).toEqual([
      expect.objectContaining({
        path: 'Name',
        forcesReplacement: true,
        after: expect.stringMatching(/-new\.$/),
      }),
    ])
    // The certificate validates through the zone: it reads the replaced zone's id.
    const certificate = changes(p!).find((c) => c.type === 'AWS::CertificateManager::Certificate')!
    expect(certificate.properties.some((prop) => prop.dependsOn?.includes('HostedZone'))).toBe(true)
    expect(p!.verdict).not.toBe('allowed')
  })

  test('a bucket name built with Fn::Join from a mapping is replaced when the mapping changes', async () => {
    const joined = (prefix: string) => (t: string) =>
      t
        .replace(/^Resources:\n/m, `Mappings:\n  Names:\n    prefix: { value: ${prefix} }\nResources:\n`)
        .replace(
          /BucketName: .*/,
          'BucketName: !Join ["-", [!FindInMap [Names, prefix, value], !Ref "AWS::AccountId", !Ref "AWS::Region"]]',
        )
    const base = await scenario('bucket-join-base', { [LOGGING]: joined('logs') })
    const head = await scenario('bucket-join-head', { [LOGGING]: joined('archive') })
    const { plan: p } = await plan(head, base)
    const buckets = changes(p!).filter((c) => c.type === 'AWS::S3::Bucket')
    expect(buckets.length).toBeGreaterThan(10)
    expect(buckets.every((b) => b.action === 'replace' && b.protected)).toBe(true)
    expect(buckets[0]!.properties[0]).toMatchObject({
      path: 'BucketName',
      before: expect.stringMatching(/^logs-\d{12}-/),
      after: expect.stringMatching(/^archive-\d{12}-/),
    })
    expect(p!.verdict).not.toBe('allowed')
    // The same template on both sides plans nothing: the evaluated names are equal.
    expect((await plan(base, base)).plan!.verdict).toBe('no-changes')
  })

  test('a zone name that now reads a value known only at deploy time may replace it: not allowed', async () => {
    const branch = await scenario('zone-import', {
      [DNS]: (t) => t.replace(/Name: !Sub \[.*\]/, 'Name: !ImportValue shared-zone-name'),
    })
    const { plan: p } = await plan(branch)
    const zoneChanges = changes(p!).filter((c) => c.type === 'AWS::Route53::HostedZone')
    expect(zoneChanges.length).toBeGreaterThan(10)
    expect(zoneChanges.every((c) => c.mayReplace === true && c.properties[0]!.unknown === true)).toBe(true)
    expect(p!.findings.find((f) => f.rule === 'protected-destroy')).toBeDefined()
    expect(p!.verdict).not.toBe('allowed')
  })
})

describe('MovedFrom only moves', () => {
  test('a real rename with MovedFrom is a move, allowed', async () => {
    const branch = await scenario('moved-real', {
      [DNS]: (t) =>
        t.replace('StackName: route53-hostedzones', 'StackName: dns-zones\n  MovedFrom: route53-hostedzones'),
    })
    const { plan: p } = await plan(branch)
    expect(p!.verdict).toBe('allowed')
    expect(p!.summary.actions).toMatchObject({ create: 0, delete: 0, replace: 0 })
  })

  test('a MovedFrom naming a stack that exists nowhere is a validation error at its line', async () => {
    const branch = await scenario('moved-nothing', {
      [DNS]: (t) =>
        t.replace('StackName: route53-hostedzones', 'StackName: dns-zones\n  MovedFrom: route53-zones'),
    })
    const { code, stderr } = await plan(branch)
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /stacks\/route53-hostedzones\.yaml:\d+:\d+: MovedFrom: route53-zones moves nothing/,
    )
  })

  test('a MovedFrom onto a stack that already exists does not hide the old stack’s deletion', async () => {
    // The logging stack claims to have moved from the zones stack, which another file deletes.
    const branch = await scenario('moved-onto-existing', {
      [LOGGING]: (t) => t.replace(/StackName: (\S+)/, 'StackName: $1\n  MovedFrom: route53-hostedzones'),
      [DNS]: (t) => t.replace('StackName: route53-hostedzones', 'StackName: route53-gone'),
    })
    const { code, stderr } = await plan(branch)
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /MovedFrom: route53-hostedzones was added to stack "logging", which already exists/,
    )
  })

  test('a MovedFrom whose new stack shares no resource with the old one is not a move', async () => {
    const branch = await scenario('moved-empty', {
      [DNS]: (t) =>
        t
          .replace('StackName: route53-hostedzones', 'StackName: dns-zones\n  MovedFrom: route53-hostedzones')
          .replace(
            '\n  HostedZone:\n    Type: AWS::Route53::HostedZone',
            '\n  Zone:\n    Type: AWS::Route53::HostedZone',
          )
          .replaceAll('!Ref HostedZone', '!Ref Zone')
          .replace('!GetAtt HostedZone.NameServers', '!GetAtt Zone.NameServers')
          .replace('\n  Certificate:\n    Type', '\n  Cert:\n    Type')
          .replaceAll('!Ref Certificate', '!Ref Cert'),
    })
    const { code, stderr } = await plan(branch)
    expect(code).toBe(1)
    expect(stderr).toMatch(/MovedFrom: route53-hostedzones moves none of "route53-hostedzones"'s resources/)
  })

  test('a MovedFrom left in place after its move is inert: the next change plans normally', async () => {
    const moved = await scenario('moved-done', {
      [DNS]: (t) =>
        t.replace('StackName: route53-hostedzones', 'StackName: dns-zones\n  MovedFrom: route53-hostedzones'),
    })
    await git(repo, ['checkout', '-q', '-B', 'moved-done-next', moved])
    edit(DNS, (t) => t.replace('managed by Flotilla', 'managed by Flotilla (moved)'))
    await git(repo, ['commit', '-q', '-am', 'next'], undefined, GIT_IDENTITY)
    await git(repo, ['checkout', '-q', 'main'])
    const { plan: p } = await plan('moved-done-next', moved)
    expect(p!.findings.filter((f) => f.effect !== 'warn')).toEqual([])
    expect(p!.verdict).toBe('allowed')
    expect(p!.summary.actions).toMatchObject({
      create: 0,
      delete: 0,
      replace: 0,
      move: 0,
      update: expect.any(Number),
    })
  })
})

test('render --evaluated shows the zone stack as CloudFormation will create it for the account', async () => {
  const branch = await scenario('render-evaluated', {
    [DNS]: (t) =>
      t.replace(
        '    DomainName: "{{ config.dns_domain }}"',
        `    DomainName: "{{ config.dns_domain }}"\n    ManageZone: "{{ account.environment == 'production' ? 'false' : 'true' }}"`,
      ),
  })
  const accounts = readFileSync(join(repo, 'inventory/accounts/production.yaml'), 'utf8')
  const id = /- id: "(\d{12})"/.exec(accounts)![1]!
  const args = ['render', '--repo', repo, '--rev', branch, '--target', id, '--evaluated', '--format', 'json']
  const { code, stdout } = await runCaptured(args)
  expect(code).toBe(0)
  const stacks = (JSON.parse(stdout) as { stacks: Record<string, unknown>[] }).stacks
  const zonesStack = stacks.find((s) => s.stackName === 'route53-hostedzones')!
  expect(zonesStack.conditions).toEqual({ ManageZone: false })
  expect(zonesStack.excluded).toEqual({ HostedZone: 'ManageZone', Certificate: 'ManageZone' })
  expect(zonesStack.resources).toEqual({})
  const logging = stacks.find((s) => s.stackName === 'logging')!
  const bucket = (logging.resources as Record<string, { Properties: { BucketName: string } }>).LogBucket
  expect(bucket?.Properties.BucketName ?? '').toMatch(new RegExp(`^logs-${id}-`))
})

test('a Corefile edited in the example shows as a diff by line in the text and the pull-request comment', async () => {
  const branch = await scenario('corefile', {
    'cluster/manifests/coredns/coredns.yaml': (t) =>
      t.replace('        cache 30\n', '        cache 60\n        log\n'),
  })
  const text = await planScenario(repo, branch, 'main', 'text')
  expect(text.stdout).toMatch(/data\.Corefile: \(\+2 -1 lines\)/)
  expect(text.stdout).toMatch(/^ +@@ -\d+,\d+ \+\d+,\d+ @@$/m)
  expect(text.stdout).toMatch(/^ +- {4}cache 30$/m)
  expect(text.stdout).toMatch(/^ +\+ {4}cache 60$/m)
  expect(text.stdout).toMatch(/^ +\+ {4}log$/m)
  const markdown = await planScenario(repo, branch, 'main', 'markdown')
  expect(markdown.stdout).toContain('-    cache 30\n+    cache 60\n+    log\n')
  // Every cluster has the same Corefile edit: one group, one diff.
  expect(markdown.stdout.match(/\+ {4}cache 60/g)).toHaveLength(1)
})
