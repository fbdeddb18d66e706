import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import type { Plan } from '../src/core/plan/plan-model.ts'
import { git } from '../src/core/source/git.ts'
import { writeExampleFleet } from '../src/example/write-example.ts'
import { GIT_IDENTITY } from './support/git-fixture.ts'
import { runCaptured } from './support/run-cli.ts'

/**
 * The incident scenarios of the plan issue, each a commit on top of the default example fleet
 * (300 accounts, 250 clusters, as `flotilla init --example` makes it), planned through the CLI
 * exactly as a pull request check would: `flotilla plan --base main --head <branch>`.
 */
let repo = ''
const DNS = 'stacks/route53-hostedzones.yaml'

beforeAll(async () => {
  repo = join(mkdtempSync(join(tmpdir(), 'flotilla-plan-')), 'fleet')
  await writeExampleFleet(repo)
})

/** Commits an edit of the example on a new branch from main; returns the branch name. */
async function scenario(name: string, edits: Record<string, (text: string) => string>): Promise<string> {
  await git(repo, ['checkout', '-q', '-B', name, 'main'])
  for (const [path, edit] of Object.entries(edits)) {
    const file = join(repo, path)
    const before = readFileSync(file, 'utf8')
    const after = edit(before)
    expect(after, `the edit of ${path} changed nothing`).not.toBe(before)
    writeFileSync(file, after)
  }
  await git(repo, ['commit', '-q', '-am', name], undefined, GIT_IDENTITY)
  await git(repo, ['checkout', '-q', 'main'])
  return name
}

async function plan(head: string, format: 'json' | 'markdown' = 'json') {
  // A Tuesday outside the example's Cyber Week freeze: these scenarios are about the built-in rules.
  const now = '2026-11-10T10:00:00Z'
  const run = await runCaptured([
    'plan',
    '--repo',
    repo,
    '--base',
    'main',
    '--head',
    head,
    '--format',
    format,
    '--now',
    now,
  ])
  return { ...run, plan: format === 'json' && run.stdout ? (JSON.parse(run.stdout) as Plan) : undefined }
}

function changes(plan: Plan) {
  return plan.targets.flatMap((t) => t.changes)
}

describe('plan scenarios on the example fleet', () => {
  test('no change: no-changes, exit 0', async () => {
    const { code, plan: p } = await plan('main')
    expect(code).toBe(0)
    expect(p?.verdict).toBe('no-changes')
    expect(p?.targets).toEqual([])
  })

  test('a StackName edit in the DNS stack is denied as a stack rename, every hosted zone listed', async () => {
    const branch = await scenario('rename', {
      [DNS]: (t) => t.replace('StackName: route53-hostedzones', 'StackName: dns-zones'),
    })
    const { code, plan: p } = await plan(branch)
    expect(code).toBe(3)
    expect(p!.verdict).toBe('denied')
    const rename = p!.findings.find((f) => f.rule === 'stack-rename')!
    expect(rename.effect).toBe('deny')
    expect(rename.message).toContain('stack "route53-hostedzones" disappears and stack "dns-zones" appears')
    expect(rename.message).toContain('MovedFrom: route53-hostedzones')
    const zones = changes(p!).filter((c) => c.type === 'AWS::Route53::HostedZone' && c.action === 'delete')
    expect(zones.length).toBeGreaterThan(100)
    expect(rename.addresses).toEqual(expect.arrayContaining(zones.map((z) => z.address)))
    expect(p!.summary.protectedDestroyed).toBeGreaterThanOrEqual(zones.length)
  })

  test('the same rename with MovedFrom is a move: nothing destroyed, allowed', async () => {
    const branch = await scenario('move', {
      [DNS]: (t) =>
        t.replace('StackName: route53-hostedzones', 'StackName: dns-zones\n  MovedFrom: route53-hostedzones'),
    })
    const { code, plan: p } = await plan(branch)
    expect(p!.findings.filter((f) => f.effect !== 'warn')).toEqual([])
    expect(p!.verdict).toBe('allowed')
    expect(code).toBe(2)
    expect(p!.summary.actions).toMatchObject({ create: 0, delete: 0, replace: 0 })
    expect(p!.summary.actions.move).toBeGreaterThan(100)
    expect(p!.summary.protectedDestroyed).toBe(0)
    const moved = changes(p!).find((c) => c.type === 'AWS::Route53::HostedZone')!
    expect(moved.action).toBe('move')
    expect(moved.movedFrom).toMatch(/\/global\/route53-hostedzones\/HostedZone$/)
    expect(moved.address).toMatch(/\/global\/dns-zones\/HostedZone$/)
  })

  test('a Select that now matches nothing is denied by selection-shrink, never a silent mass deletion', async () => {
    const branch = await scenario('select-nothing', {
      [DNS]: (t) =>
        t.replace("Select: account.environment != 'test'", "Select: account.environment == 'prodution'"),
    })
    const { code, plan: p } = await plan(branch)
    expect(code).toBe(3)
    expect(p!.verdict).toBe('denied')
    const shrink = p!.findings.find((f) => f.rule === 'selection-shrink' && f.effect === 'deny')!
    expect(shrink.message).toMatch(
      /stack "route53-hostedzones" would no longer reach (\d+) of its \1 targets \(100%/,
    )
    expect(p!.findings.map((f) => f.rule)).toContain('protected-destroy')
  })

  test('a misspelt field in a Select is a validation error, not a false selector', async () => {
    const branch = await scenario('select-typo', {
      [DNS]: (t) =>
        t.replace("Select: account.environment != 'test'", "Select: account.enviroment != 'test'"),
    })
    const { code, stderr } = await plan(branch)
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /stacks\/route53-hostedzones\.yaml:\d+:\d+: CEL type error: No such key: enviroment; did you mean "environment"\?/,
    )
  })

  test('an account deleted from the inventory without decommission-requested is invalid', async () => {
    // An active account without clusters: removing one with clusters is caught earlier, as a broken reference.
    const clusters = readFileSync(join(repo, 'inventory/clusters.yaml'), 'utf8')
    const files = ['production', 'staging', 'test'].map((env) => `inventory/accounts/${env}.yaml`)
    const candidates = files.flatMap((file) =>
      readFileSync(join(repo, file), 'utf8')
        .split(/^(?=- id:)/m)
        .map((entry) => ({ file, entry, id: /^- id: "(\d{12})"/.exec(entry)?.[1] }))
        .filter((c) => c.id !== undefined && !clusters.includes(c.id) && !/lifecycle:/.test(c.entry)),
    )
    const victim = candidates[0]!
    const branch = await scenario('drop-account', { [victim.file]: (t) => t.replace(victim.entry, '') })
    const { code, stderr } = await plan(branch)
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /inventory\/accounts\/\w+\.yaml:\d+:\d+: account "\d{12}" \(.+\) was removed from the inventory without going through lifecycle: decommission-requested/,
    )
  })

  test('a tag change in every account is allowed, shown once in markdown, exit 2', async () => {
    const branch = await scenario('tag', {
      'stacks/logging.yaml': (t) =>
        t.replace(
          '- { Key: owner, Value: "{{ account.team }}" }',
          '- { Key: team, Value: "{{ account.team }}" }',
        ),
    })
    const json = await plan(branch)
    expect(json.code).toBe(2)
    expect(json.plan!.verdict).toBe('allowed')
    expect(json.plan!.findings.map((f) => [f.rule, f.effect])).toEqual([['many-targets-at-once', 'warn']])
    const updates = changes(json.plan!).filter((c) => c.type === 'AWS::S3::Bucket')
    expect(updates.length).toBeGreaterThan(200)
    expect(new Set(updates.map((u) => u.action))).toEqual(new Set(['update']))
    expect(updates[0]!.properties).toEqual([
      { path: 'Tags[0].Key', before: 'owner', after: 'team', forcesReplacement: false },
    ])
    const md = await plan(branch, 'markdown')
    expect(md.code).toBe(2)
    expect(md.stdout.length).toBeLessThan(65_536)
    expect(md.stdout).toMatch(/same change in \d{3} accounts/)
    // Once per address within the account: one group per region of the logging stack.
    expect(md.stdout.match(/Tags\[0\]\.Key/g)?.length).toBeLessThanOrEqual(2)
  })

  test('changing a certificate’s DomainName replaces it and needs a protected-destroy approval', async () => {
    const branch = await scenario('certificate', {
      [DNS]: (t) =>
        t.replace(
          /(Type: AWS::CertificateManager::Certificate\n\s+Properties:\n\s+DomainName:) [^\n]+/,
          '$1 !Sub "*.${DomainName}"',
        ),
    })
    const { code, plan: p } = await plan(branch)
    expect(code).toBe(3)
    const certificates = changes(p!).filter((c) => c.type === 'AWS::CertificateManager::Certificate')
    expect(certificates.length).toBeGreaterThan(100)
    expect(new Set(certificates.map((c) => c.action))).toEqual(new Set(['replace']))
    expect(certificates[0]!.properties[0]).toMatchObject({ path: 'DomainName', forcesReplacement: true })
    const finding = p!.findings.find((f) => f.rule === 'protected-destroy')!
    expect(finding.effect).toBe('require-approval')
    expect(p!.verdict).toBe('requires-approval')
    expect(p!.approvalsRequired).toEqual(expect.arrayContaining(certificates.map((c) => c.address)))
  })
})
