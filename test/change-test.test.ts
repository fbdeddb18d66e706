/**
 * `flotilla test` end to end, through the command line as CI runs it: changes made the way a
 * person makes them, on branches of a real example fleet, each tried as an upgrade and from empty
 * in an ephemeral simulated fleet. A harmless change passes; a change that breaks DNS only at run
 * time and one whose stack update fails only from the old state (it creates fine) both fail; the
 * user's repository and store are as they were.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { TestReport } from '../src/change-test/test-report.ts'
import { writeExampleFleet } from '../src/example/write-example.ts'
import { commitChanges } from '../src/example/write-repository.ts'
import { git, resolveCommit } from '../src/source/git.ts'
import { runCaptured } from './support/run-cli.ts'

/** An ordinary Tuesday: the example's freeze and weekend rules are not in force. */
const NOW = '2026-11-10T10:00:00Z'

let dir = ''
let repo = ''
let main = ''
const savedDatabaseUrl = process.env.FLOTILLA_DATABASE_URL

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-change-test-'))
  repo = join(dir, 'fleet')
  // Like the drill's test fleet: staging clusters behind public names in alpha, before production.
  await writeExampleFleet(repo, { accounts: 24, clusters: 30 })
  main = await resolveCommit(repo, 'HEAD')
  // The user's store must not be read: a URL that cannot be reached fails any attempt loudly.
  process.env.FLOTILLA_DATABASE_URL = 'postgres://nobody@127.0.0.1:9/not-to-be-read'
})

afterAll(() => {
  if (savedDatabaseUrl === undefined) delete process.env.FLOTILLA_DATABASE_URL
  else process.env.FLOTILLA_DATABASE_URL = savedDatabaseUrl
})

/** Commits `edit` on a new branch from main and goes back to main; returns the branch. */
async function branch(name: string, edit: () => void): Promise<string> {
  await git(repo, ['checkout', '--quiet', '-b', name, main])
  edit()
  await commitChanges(repo, name)
  await git(repo, ['checkout', '--quiet', 'main'])
  return name
}

function replaceIn(file: string, from: string | RegExp, to: string): void {
  const path = join(repo, file)
  const text = readFileSync(path, 'utf8')
  const next = text.replace(from, to)
  expect(next, `${file} has ${from}`).not.toBe(text)
  writeFileSync(path, next)
}

async function flotillaTest(head: string, format = 'json') {
  const run = await runCaptured([
    'test',
    '--repo',
    repo,
    '--base',
    'main',
    '--head',
    head,
    '--now',
    NOW,
    '--format',
    format,
  ])
  const report = format === 'json' && run.stdout ? (JSON.parse(run.stdout) as TestReport) : undefined
  return { ...run, report }
}

describe('flotilla test', () => {
  test('a harmless change to every account’s DNS stack passes, tried once per stage, and leaves the repository and the store alone', async () => {
    const head = await branch('zone-comment', () =>
      replaceIn('stacks/route53-hostedzones.yaml', 'managed by Flotilla"', 'managed by Flotilla, reviewed"'),
    )
    const refsBefore = (await git(repo, ['show-ref'])).toString()
    const { code, report, stderr } = await flotillaTest(head)
    expect(code, stderr).toBe(0)
    expect(report!.verdict).toBe('passed')
    expect(report!.phases.map((p) => [p.name, p.state])).toEqual([
      ['upgrade', 'passed'],
      ['fresh', 'passed'],
    ])
    // One change in many accounts: one account per stage that receives it, not every account.
    expect(report!.plan.targets).toBeGreaterThan(report!.targets.length)
    const stages = report!.targets.map((t) => t.stage)
    expect(new Set(stages).size).toBe(stages.length)
    expect(
      report!.targets.every((t) => t.changes.includes('update global/route53-hostedzones/HostedZone')),
    ).toBe(true)
    // The gates of the stages ran; those that watch the real fleet were left out and said so.
    const gates = report!.phases[0]!.stages.flatMap((s) => s.gates.map((g) => g.type))
    expect(gates).toEqual(expect.arrayContaining(['health', 'dns', 'command']))
    expect(report!.skippedGates.map((g) => g.type)).toEqual(['prometheus'])
    // Untouched: the working tree, every ref, no store of its own made in the repository.
    expect((await git(repo, ['status', '--porcelain'])).toString()).toBe('')
    expect((await git(repo, ['show-ref'])).toString()).toBe(refsBefore)
    expect(existsSync(join(repo, '.flotilla', 'data'))).toBe(false)
  })

  test('a change that breaks DNS only at run time fails the upgrade at the first stage whose gates resolve the name', async () => {
    const head = await branch('ingress-typo', () =>
      replaceIn(
        'inventory/clusters.yaml',
        /ingress_domain: ([a-z0-9.-]+)\.example\.org/g,
        'ingress_domain: $1.exmaple.org',
      ),
    )
    const { code, report, stdout } = await flotillaTest(head)
    expect(code, stdout).toBe(3)
    expect(report!.verdict).toBe('failed')
    const upgrade = report!.phases[0]!
    expect(upgrade.state).toBe('failed')
    const failed = upgrade.stages.find((s) => s.state === 'failed')!
    expect(failed.gates.find((g) => g.type === 'dns')).toMatchObject({ state: 'failed' })
    expect(failed.gates.find((g) => g.type === 'dns')!.detail).toMatch(/exmaple\.org/)
    // Nothing after the failing stage was touched.
    const after = upgrade.stages.slice(upgrade.stages.indexOf(failed) + 1)
    expect(after.every((s) => s.state === 'pending')).toBe(true)
    // The pull request comment says so.
    const markdown = await flotillaTest(head, 'markdown')
    expect(markdown.code).toBe(3)
    expect(markdown.stdout).toMatch(/❌ flotilla test: failed/)
    expect(markdown.stdout).toContain(`${failed.name}/dns ✗`)
  })

  test('a stack update that fails only from the old state (a custom-named role replaced) fails the upgrade, and passes from empty', async () => {
    const head = await branch('role-path', () =>
      replaceIn(
        'stacks/iam-roles.yaml',
        'RoleName: monitoring-readonly\n',
        'RoleName: monitoring-readonly\n      Path: /platform/\n',
      ),
    )
    const { code, report, stdout } = await flotillaTest(head)
    expect(code, stdout).toBe(3)
    const [upgrade, fresh] = report!.phases
    expect(upgrade!.state).toBe('failed')
    expect(fresh!.state).toBe('passed')
    // The replacement of a protected role needs approvals: given in the sandbox, and listed.
    expect(report!.approvalsGiven.length).toBeGreaterThan(0)
    expect(upgrade!.failures.map((e) => e.detail).join('\n')).toMatch(
      /custom-named resource requires replacing\. Rename MonitoringReadOnlyRole/,
    )
    const text = await flotillaTest(head, 'text')
    expect(text.stdout).toMatch(/FAILED in [\d.]+ s: upgrade \(see above\)/)
  })

  test("the repository's command gates reach the ephemeral fleet's endpoints, and none of the user's cloud credentials", async () => {
    const seen = join(dir, 'e2e-seen')
    const head = await branch('e2e-probe', () => {
      replaceIn('stacks/route53-hostedzones.yaml', 'managed by Flotilla"', 'managed by Flotilla, probed"')
      replaceIn('cluster/config-defaults.yaml', /coredns_replicas: (\d+)/, 'coredns_replicas: 5')
      writeFileSync(
        join(repo, 'e2e', 'run.sh'),
        [
          '#!/bin/sh',
          'set -eu',
          `echo "$1 $AWS_ENDPOINT_URL $FLOTILLA_DNS_SERVER $FLOTILLA_KUBERNETES_URL \${AWS_PROFILE:-none} \${AWS_SESSION_TOKEN:-none} $AWS_CONFIG_FILE $AWS_SHARED_CREDENTIALS_FILE" >> ${seen}`,
          'test -f "$KUBECONFIG"',
          // A cluster: its context is in the kubeconfig, and its API answers at the URL given.
          'case "$1" in *:*)',
          '  grep -q "name: \\"$1\\"" "$KUBECONFIG"',
          `  node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$FLOTILLA_KUBERNETES_URL/$1/api/v1/namespaces"`,
          `  echo "cluster $1" >> ${seen}-clusters ;;`,
          'esac',
          '',
        ].join('\n'),
      )
    })
    process.env.AWS_PROFILE = 'production-admin'
    process.env.AWS_SESSION_TOKEN = 'a-real-session'
    try {
      const { code, stdout } = await flotillaTest(head)
      expect(code, stdout).toBe(0)
    } finally {
      delete process.env.AWS_PROFILE
      delete process.env.AWS_SESSION_TOKEN
    }
    expect(readFileSync(`${seen}-clusters`, 'utf8')).toMatch(/^cluster \S+:\S+$/m)
    const lines = readFileSync(seen, 'utf8').trim().split('\n')
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) {
      const [, aws, dns, kubernetes, profile, token, config, credentials] = line.split(' ')
      expect(aws).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(dns).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(kubernetes).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/clusters$/)
      expect([profile, token]).toEqual(['none', 'none'])
      // Nor the user's profile files: a profile named on a command line is not found.
      expect([config, credentials]).toEqual(['/dev/null', '/dev/null'])
    }
  })

  test('an invalid head is refused with its errors, under the name it was given', async () => {
    const head = await branch('metadata-typo', () =>
      replaceIn('stacks/route53-hostedzones.yaml', /^Metadata:/m, 'Metadpata:'),
    )
    const { code, stdout, stderr } = await flotillaTest(head)
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toContain('stacks/route53-hostedzones.yaml:7:1: unknown key "Metadpata"')
    expect(stderr).toContain(
      `${head} is invalid, so it cannot be tested; run "flotilla validate --rev ${head}"`,
    )
  })

  test('a head that changes nothing has nothing to test', async () => {
    const { code, report } = await flotillaTest('main')
    expect(code).toBe(0)
    expect(report!.verdict).toBe('no-changes')
  })
})
