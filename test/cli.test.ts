import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { BASE_FILES, writeFixtureDir } from './support/fixture-fleet.ts'
import { commitFiles, gitFixture } from './support/git-fixture.ts'
import { runCaptured } from './support/run-cli.ts'

const cli = runCaptured

describe('flotilla validate', () => {
  test('a valid repository exits 0 with a summary', async () => {
    const dir = writeFixtureDir(BASE_FILES)
    const { code, stdout, stderr } = await cli(['validate', '--repo', dir])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toMatch(
      /valid — fleet test-fleet: 3 accounts, 1 cluster, 1 stack template \(2 stacks rendered\)/,
    )
  })

  test('every problem is printed as file:line:col: message, exit 1', async () => {
    const dir = writeFixtureDir({
      ...BASE_FILES,
      'stacks/dns.yaml': BASE_FILES['stacks/dns.yaml']!.replace('Metadata:', 'Metadpata:'),
      'inventory/teams.yaml': `${BASE_FILES['inventory/teams.yaml']}- id: teapot\n  name: Again\n`,
    })
    const { code, stderr, stdout } = await cli(['validate', '--repo', dir])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toContain('stacks/dns.yaml:2:1: unknown key "Metadpata"; did you mean "Metadata"?')
    expect(stderr).toContain(
      'inventory/teams.yaml:8:3: duplicate team id "teapot" (first defined at inventory/teams.yaml:1:3)',
    )
    expect(stderr).toMatch(/invalid — \d+ errors/)
    expect(stderr).not.toMatch(/\n\s+at /) // no stack trace for a user error
  })

  test('--rev reads a revision, and --format json reports it', async () => {
    const dir = await gitFixture(BASE_FILES)
    await commitFiles(
      dir,
      { 'fleet.yaml': BASE_FILES['fleet.yaml']!.replace('flotilla/v1', 'flotilla/v2') },
      'break it',
    )
    const head = await cli(['validate', '--repo', dir, '--rev', 'HEAD', '--format', 'json'])
    expect(head.code).toBe(1)
    const report = JSON.parse(head.stdout)
    expect(report.valid).toBe(false)
    expect(report.errors[0]).toMatchObject({ file: 'fleet.yaml', line: 1, col: 13, rule: 'invalid-value' })
    const previous = await cli(['validate', '--repo', dir, '--rev', 'HEAD~1', '--format', 'json'])
    expect(previous.code).toBe(0)
    expect(JSON.parse(previous.stdout)).toMatchObject({
      valid: true,
      source: { kind: 'revision', ref: 'HEAD~1' },
      summary: { accounts: 3, clusters: 1 },
    })
  })

  test('bad arguments are user errors', async () => {
    expect((await cli(['validate', '--format', 'xml'])).code).toBe(1)
    expect((await cli(['nonsense'])).code).toBe(1)
    expect((await cli(['validate', '--repo', writeFixtureDir({}), '--rev', 'HEAD'])).code).toBe(1)
  })
})

describe('flotilla render', () => {
  test('prints an account’s stacks as YAML with short tags kept', async () => {
    const dir = writeFixtureDir(BASE_FILES)
    const { code, stdout } = await cli(['render', '--repo', dir, '--target', 'teapot-prod'])
    expect(code).toBe(0)
    expect(stdout).toContain('address: 111111111111/global/route53-hostedzones')
    expect(stdout).toContain('Name: !Sub ${DomainName}.')
    expect(stdout).toContain('DomainName: "*.teapot.example.org"')
  })

  test('prints a cluster’s manifests; JSON uses the long form of intrinsic functions', async () => {
    const dir = writeFixtureDir(BASE_FILES)
    const cluster = await cli(['render', '--repo', dir, '--target', 'teapot-kube-1', '--format', 'json'])
    expect(cluster.code).toBe(0)
    const doc = JSON.parse(cluster.stdout)
    expect(doc.target).toMatchObject({
      kind: 'cluster',
      stage: 'stable',
      config: { replicas: 3, log_level: 'info' },
    })
    expect(doc.manifests[0].object.spec.replicas).toBe(3)
    const account = JSON.parse(
      (await cli(['render', '--repo', dir, '--target', '111111111111', '--format', 'json'])).stdout,
    )
    expect(account.stacks[0].template.Resources.HostedZone.Properties.Name).toEqual({
      'Fn::Sub': '${DomainName}.',
    })
  })

  test('an unknown target is a user error with a suggestion', async () => {
    const dir = writeFixtureDir(BASE_FILES)
    const { code, stderr } = await cli(['render', '--repo', dir, '--target', 'teapot-prd'])
    expect(code).toBe(1)
    expect(stderr).toContain('no target "teapot-prd" in the fleet; did you mean "teapot-prod"?')
  })

  test('an invalid repository is not rendered', async () => {
    const dir = writeFixtureDir({
      ...BASE_FILES,
      'fleet.yaml': 'apiVersion: flotilla/v1\nname: x\nprovder: sim\n',
    })
    const { code, stderr, stdout } = await cli(['render', '--repo', dir, '--target', 'teapot-prod'])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toContain('fleet.yaml:3:1: unknown key "provder"; did you mean "provider"?')
  })
})

describe('flotilla init', () => {
  test('a new skeleton repository validates cleanly', async () => {
    const parent = writeFixtureDir({})
    const created = await cli(['init', 'my-fleet'], parent)
    expect(created.code).toBe(0)
    expect(created.stdout).toMatch(/Created a fleet repository in .*my-fleet: 7 files, commit [0-9a-f]{7}/)
    const validated = await cli(['validate', '--repo', 'my-fleet', '--rev', 'HEAD'], parent)
    expect(validated.stderr).toBe('')
    expect(validated.code).toBe(0)
  })

  test('--example with the same seed gives the same commit tree; another seed another', async () => {
    const parent = writeFixtureDir({})
    const run = async (dir: string, seed: string) =>
      JSON.parse(
        (
          await cli(
            [
              'init',
              dir,
              '--example',
              '--accounts',
              '20',
              '--clusters',
              '15',
              '--seed',
              seed,
              '--format',
              'json',
            ],
            parent,
          )
        ).stdout,
      )
    const [a, b, c] = [await run('a', '7'), await run('b', '7'), await run('c', '8')]
    expect(a.tree).toMatch(/^[0-9a-f]{40}$/)
    expect(b.tree).toBe(a.tree)
    expect(c.tree).not.toBe(a.tree)
    const validated = await cli(['validate', '--repo', 'a', '--format', 'json'], parent)
    expect(JSON.parse(validated.stdout)).toMatchObject({
      valid: true,
      summary: { accounts: 20, clusters: 15 },
      warnings: [],
    })
  })

  test('refuses a directory that is not empty, and sizes without --example', async () => {
    const parent = writeFixtureDir({ 'taken/file.txt': 'x' })
    const taken = await cli(['init', 'taken', '--example'], parent)
    expect(taken.code).toBe(1)
    expect(taken.stderr).toMatch(/taken exists and is not empty/)
    const sizes = await cli(['init', 'new', '--accounts', '5'], parent)
    expect(sizes.code).toBe(1)
    expect(sizes.stderr).toContain('--accounts, --clusters and --seed only apply with --example')
  })
})

describe('flotilla plan', () => {
  test('without --base it plans against the observed (simulated) fleet, in the embedded store', async () => {
    const dir = writeFixtureDir(BASE_FILES)
    const { code, stdout } = await cli(['plan', '--repo', dir, '--format', 'json'])
    expect(code).toBe(2)
    const plan = JSON.parse(stdout)
    expect(plan.base).toEqual({ kind: 'observed' })
    expect(plan.summary.actions.delete).toBe(0)
    expect(plan.summary.actions.create).toBeGreaterThan(0)
    expect(existsSync(join(dir, '.flotilla', 'pgdata'))).toBe(true)
    expect(existsSync(join(dir, '.flotilla', 'lock'))).toBe(false)
  })

  test('plans the working tree against a revision; --target narrows; exit codes follow the verdict', async () => {
    const dir = await gitFixture(BASE_FILES)
    const same = await cli(['plan', '--repo', dir, '--base', 'HEAD', '--format', 'json'])
    expect(same.code).toBe(0)
    expect(JSON.parse(same.stdout)).toMatchObject({
      verdict: 'no-changes',
      base: { kind: 'revision', ref: 'HEAD' },
      head: { kind: 'directory' },
    })

    writeFileSync(
      join(dir, 'stacks/dns.yaml'),
      BASE_FILES['stacks/dns.yaml']!.replace(
        'ValidationMethod: DNS',
        'ValidationMethod: DNS\n      Tags: [{ Key: owner, Value: x }]',
      ),
    )
    const changed = await cli(['plan', '--repo', dir, '--base', 'HEAD', '--format', 'json'])
    expect(changed.code).toBe(2)
    const plan = JSON.parse(changed.stdout)
    expect(plan.verdict).toBe('allowed')
    expect(plan.targets.map((t: { id: string }) => t.id)).toEqual(['111111111111', '333333333333'])
    expect(plan.targets[0].changes).toEqual([
      {
        address: '111111111111/global/route53-hostedzones/Certificate',
        action: 'update',
        type: 'AWS::CertificateManager::Certificate',
        protected: true,
        properties: [
          { path: 'Tags', before: null, after: [{ Key: 'owner', Value: 'x' }], forcesReplacement: false },
        ],
      },
    ])

    const narrowed = await cli([
      'plan',
      '--repo',
      dir,
      '--base',
      'HEAD',
      '--target',
      "target.group == 'ops'",
      '--format',
      'json',
    ])
    expect(JSON.parse(narrowed.stdout).targets.map((t: { id: string }) => t.id)).toEqual(['333333333333'])
    const text = await cli(['plan', '--repo', dir, '--base', 'HEAD'])
    expect(text.code).toBe(2)
    expect(text.stdout).toContain('111111111111/global/route53-hostedzones/Certificate')
    const badTarget = await cli(['plan', '--repo', dir, '--base', 'HEAD', '--target', 'target.grup == 1'])
    expect(badTarget.code).toBe(1)
    expect(badTarget.stderr).toContain('did you mean "group"?')
  })

  test('an invalid head is a user error naming it', async () => {
    const dir = await gitFixture(BASE_FILES)
    writeFileSync(join(dir, 'fleet.yaml'), 'apiVersion: flotilla/v1\nname: x\nlimits: { maxDelete: 3 }\n')
    const { code, stderr } = await cli(['plan', '--repo', dir, '--base', 'HEAD'])
    expect(code).toBe(1)
    expect(stderr).toContain('fleet.yaml:3:11: unknown key "maxDelete"; did you mean "maxDeletes"?')
    expect(stderr).toMatch(/the head \(.*\) is invalid \(1 error\)/)
    const json = await cli(['plan', '--repo', dir, '--base', 'HEAD', '--format', 'json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({
      verdict: 'invalid',
      errors: [{ file: 'fleet.yaml', line: 3, col: 11, rule: 'unknown-key' }],
    })
  })
})

describe('flotilla plan with policies and approvals', () => {
  test('--now puts a change inside or outside a freeze; --approve and --approvals satisfy it', async () => {
    const freeze =
      "- name: freeze\n  when: target.environment == 'production' && now >= timestamp('2026-11-23T00:00:00Z') && now < timestamp('2026-12-01T00:00:00Z')\n  effect: require-approval\n"
    const dir = await gitFixture({ ...BASE_FILES, 'policies/freeze.yaml': freeze })
    writeFileSync(
      join(dir, 'stacks/dns.yaml'),
      BASE_FILES['stacks/dns.yaml']!.replace(
        'ValidationMethod: DNS',
        'ValidationMethod: DNS\n      Tags: [{ Key: a, Value: b }]',
      ),
    )
    const args = ['plan', '--repo', dir, '--base', 'HEAD', '--format', 'json']
    const outside = await cli([...args, '--now', '2026-11-10T10:00:00Z'])
    expect(outside.code).toBe(2)
    const inside = await cli([...args, '--now', '2026-11-25T10:00:00Z'])
    expect(inside.code).toBe(3)
    const required = JSON.parse(inside.stdout).approvalsRequired as string[]
    expect(required).toEqual([
      '111111111111/global/route53-hostedzones/Certificate',
      '333333333333/global/route53-hostedzones/Certificate',
    ])
    const approved = await cli([
      ...args,
      '--now',
      '2026-11-25T10:00:00Z',
      '--approve',
      required[0]!,
      '--approve',
      required[1]!,
    ])
    expect(approved.code).toBe(2)
    // An update of a protected resource that cannot replace it is an ordinary change: a pattern may
    // approve it (only a protected destruction needs its exact address).
    writeFileSync(join(dir, 'approvals.yaml'), '- "*/global/route53-hostedzones/Certificate (expected 2)"\n')
    const byFile = await cli([
      ...args,
      '--now',
      '2026-11-25T10:00:00Z',
      '--approvals',
      join(dir, 'approvals.yaml'),
    ])
    expect(JSON.parse(byFile.stdout)).toMatchObject({ verdict: 'allowed', approvals: { unmet: [] } })
    const badNow = await cli([...args, '--now', 'monday'])
    expect(badNow.code).toBe(1)
    expect(badNow.stderr).toContain('--now "monday" is not a time')
  })
})
