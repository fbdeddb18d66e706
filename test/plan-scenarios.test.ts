import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import type { Plan } from '../src/core/model/plan.ts'
import { writeExampleFleet } from '../src/example/write-example.ts'
import { commitScenario, planScenario } from './support/example-scenarios.ts'

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

const scenario = (name: string, edits: Record<string, (text: string) => string>) =>
  commitScenario(repo, name, edits)
const plan = (head: string, format: 'json' | 'markdown' | 'text' = 'json') =>
  planScenario(repo, head, 'main', format)

function changes(plan: Plan) {
  return plan.targets.flatMap((t) => t.changes)
}

/** The entries of an inventory file of the example: the text of each `- id:` item, with its id. */
function entries(path: string): { entry: string; id: string }[] {
  return readFileSync(join(repo, path), 'utf8')
    .split(/^(?=- id:)/m)
    .flatMap((entry) => {
      const id = /^- id: "?([^"\n]+)"?/.exec(entry)?.[1]
      return id === undefined ? [] : [{ entry, id }]
    })
}

/** Replaces `from` (which must occur once) in one inventory entry of `path`. */
function editEntry(entry: string, from: string, to: string): (text: string) => string {
  expect(entry.split(from).length - 1, `${JSON.stringify(from)} in ${entry}`).toBe(1)
  return (text) => text.replace(entry, entry.replace(from, to))
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

  describe('stage moves', () => {
    const PRODUCTION = 'inventory/accounts/production.yaml'

    test('a production account moved from stable to dev by its channel is shown and needs an approval', async () => {
      const account = entries(PRODUCTION).find((e) => e.entry.includes('channel: stable'))!
      const branch = await scenario('stage-channel', {
        [PRODUCTION]: editEntry(account.entry, 'channel: stable', 'channel: dev'),
      })
      const { code, plan: p } = await plan(branch)
      expect(code).toBe(3)
      expect(p!.verdict).toBe('requires-approval')
      const target = p!.targets.find((t) => t.id === account.id)!
      // The account renders the same on any channel: it is in the plan for its move alone.
      expect(target).toMatchObject({ stage: 'dev', stageMove: { from: 'stable', to: 'dev' }, changes: [] })
      expect(p!.summary.stageMoves).toBe(1)
      const finding = p!.findings.find((f) => f.rule === 'stage-move')!
      expect(finding).toMatchObject({ effect: 'require-approval', addresses: [`${account.id}/_stage`] })
      expect(finding.message).toContain('"dev" comes before "stable" in the base revision\'s rollout order')
      expect(p!.approvalsRequired).toEqual([`${account.id}/_stage`])
      const text = await plan(branch, 'text')
      expect(text.stdout).toContain(`${account.id} `)
      expect(text.stdout).toContain('stage dev)\n  ~ stage: stable → dev  (only the stage changes)\n')
      expect(text.stdout).toContain('Stage moves: 1.')
    })

    test('a production account whose group becomes ops moves to the ops stage with its clusters', async () => {
      const clusters = entries('inventory/clusters.yaml')
      const account = entries(PRODUCTION).find(
        (e) =>
          e.entry.includes('channel: stable') &&
          !e.entry.includes('group:') &&
          clusters.some((c) => c.entry.includes(`account: "${e.id}"`)),
      )!
      const own = clusters.filter((c) => c.entry.includes(`account: "${account.id}"`)).map((c) => c.id)
      const team = /\n {2}team: [^\n]+\n/.exec(account.entry)![0]
      const branch = await scenario('stage-group', {
        [PRODUCTION]: editEntry(account.entry, team, `${team}  group: ops\n`),
      })
      const { code, plan: p } = await plan(branch)
      expect(code).toBe(3)
      const moved = p!.targets.filter((t) => t.stageMove)
      expect(moved.map((t) => t.id).sort()).toEqual([account.id, ...own].sort())
      expect(new Set(moved.map((t) => t.stageMove!.to))).toEqual(new Set(['ops']))
      expect(p!.approvalsRequired).toEqual(
        expect.arrayContaining([account.id, ...own].map((id) => `${id}/_stage`)),
      )
      const md = await plan(branch, 'markdown')
      expect(md.stdout).toContain(`| Stage moves | **${moved.length}** |`)
      expect(md.stdout).toMatch(/#### Stage moves \(\d+\)\n\n- <code>stable<\/code> → <code>ops<\/code>/)
    })

    test('a staging account moved to an earlier stage is shown and allowed', async () => {
      const STAGING = 'inventory/accounts/staging.yaml'
      const account = entries(STAGING).find((e) => e.entry.includes('channel: beta'))!
      const branch = await scenario('stage-staging', {
        [STAGING]: editEntry(account.entry, 'channel: beta', 'channel: dev'),
      })
      const { code, plan: p } = await plan(branch)
      expect(p!.targets.find((t) => t.id === account.id)!.stageMove).toEqual({ from: 'beta', to: 'dev' })
      expect(p!.findings.filter((f) => f.rule === 'stage-move')).toEqual([])
      expect(p!.verdict).toBe('allowed')
      expect(code).toBe(2)
    })

    test('removing approval: required from the stable stage needs an approval of the stage', async () => {
      const branch = await scenario('stage-approval', {
        'rollout.yaml': (t) => t.replace('    approval: required\n', ''),
      })
      const { code, plan: p } = await plan(branch)
      expect(code).toBe(3)
      expect(p!.targets).toEqual([])
      const finding = p!.findings.find((f) => f.rule === 'stage-move')!
      expect(finding).toMatchObject({
        effect: 'require-approval',
        addresses: ['rollout.yaml/stable/approval'],
      })
      expect(finding.message).toMatch(
        /^stage "stable" no longer needs a person's approval .* \d+ production targets stay in it/,
      )
    })
  })
})
