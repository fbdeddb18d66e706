/**
 * `flotilla drill` end to end: the dangerous changes committed into a scratch copy of a real
 * example fleet, each taken through the safeguards (or, with --unsafe, around them) on a
 * simulated fleet built for the drill — through the command line, as a user runs it.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { parse, stringify } from 'yaml'
import type { DrillReport } from '../src/drill/drill-report.ts'
import { writeExampleFleet } from '../src/example/write-example.ts'
import { loadCommit } from '../src/rollout/runner.ts'
import { git, resolveCommit } from '../src/source/git.ts'
import { GIT_IDENTITY } from './support/git-fixture.ts'
import { runCaptured } from './support/run-cli.ts'

/** An ordinary Tuesday: the example's freeze and weekend rule are not in force. */
const NOW = '2026-11-10T10:00:00Z'

let repo = ''
let head = ''
/** The accounts with a hosted zone: what the 2022 incident deleted, and each deletion's snapshot. */
let zoneAccounts = 0

beforeAll(async () => {
  repo = join(mkdtempSync(join(tmpdir(), 'flotilla-drill-test-')), 'fleet')
  // The smallest fleet init makes. Its alpha stage, like the default example's, has a staging
  // cluster behind public names (the example's stage coverage sees to it at every size): the
  // first place a change can break DNS before ops tooling and production.
  await writeExampleFleet(repo, { accounts: 10, clusters: 5 })
  head = await resolveCommit(repo, 'HEAD')
  const fleet = await loadCommit(repo, head)
  const alpha = fleet.targets.filter((t) => fleet.stageOf.get(t.id) === 'alpha')
  expect(alpha.filter((t) => t.kind === 'cluster' && t.environment === 'staging').length).toBeGreaterThan(0)
  const declaresZone = (template: unknown) =>
    Object.values((template as { Resources?: Record<string, { Type?: unknown }> }).Resources ?? {}).some(
      (r) => r.Type === 'AWS::Route53::HostedZone',
    )
  zoneAccounts = [...fleet.desired.values()].filter((d) =>
    d.stacks.some((s) => declaresZone(s.template)),
  ).length
})

async function drill(...args: string[]) {
  const run = await runCaptured(['drill', '--repo', repo, '--now', NOW, ...args])
  const report = args.includes('json') && run.stdout ? (JSON.parse(run.stdout) as DrillReport) : undefined
  return { ...run, report }
}

describe('flotilla drill', () => {
  test('every dangerous change is stopped before production, by the safeguard meant for it; the repository is untouched', async () => {
    const { code, report, stderr } = await drill('--format', 'json')
    expect(code, stderr).toBe(0)
    const scenarios = report!.scenarios
    // The contract's fields, in every scenario.
    for (const s of scenarios)
      expect(Object.keys(s)).toEqual(
        expect.arrayContaining(['name', 'stoppedBy', 'stage', 'reachedProduction', 'detail']),
      )
    expect(scenarios.map((s) => [s.name, s.stoppedBy, s.stage, s.reachedProduction])).toEqual([
      ['misspelt-metadata-key', 'validation', null, false],
      ['stack-rename', 'plan', null, false],
      ['selection-matches-nothing', 'plan', null, false],
      ['condition-flipped', 'policy', null, false],
      ['account-dropped', 'validation', null, false],
      ['dns-broken-at-runtime', 'gate', 'alpha', false],
      ['freeze-deleted', 'plan', null, false],
      ['approval-removed', 'plan', null, false],
    ])
    const detail = Object.fromEntries(scenarios.map((s) => [s.name, s.detail]))
    expect(detail['misspelt-metadata-key']).toMatch(
      /^stacks\/route53-hostedzones\.yaml:\d+:1: unknown key "Metadpata"; did you mean "Metadata"\?/,
    )
    expect(detail['stack-rename']).toContain('stack-rename: stack "route53-hostedzones" disappears')
    expect(detail['selection-matches-nothing']).toContain('selection-shrink: stack "route53-hostedzones"')
    // One Conditions line deletes every zone: the example's policy on the ops zones denies it, the
    // first safeguard that stops it (protected-destroy and delete-budget would hold the rest).
    expect(detail['condition-flipped']).toMatch(
      /is denied: ops-dns-zones-stay: .*\(\d+ changes; policies\/protection\.yaml:\d+:\d+\)/,
    )
    expect(detail['account-dropped']).toMatch(
      /inventory\/accounts\/\w+\.yaml:\d+:\d+: account "\d{12}" \(.+\) was removed from the inventory without going through lifecycle: decommission-requested/,
    )
    // The staging clusters stepped at once took the change, failed their health gate (external-dns
    // cannot publish their names) and were rolled back; ops tooling, after alpha, was never touched.
    expect(detail['dns-broken-at-runtime']).toMatch(
      /rolled-back in stage alpha: \d+ targets? failed in stage alpha \(tolerance 0\): aws:\d{12}:[\w-]+:kube-\d+: health gate "healthy" failed/,
    )
    expect(detail['dns-broken-at-runtime']).toMatch(
      /name \*\.kube-\d+\.[\w.-]+: does not resolve \(REFUSED\)/,
    )
    // A change that deletes its own guard is judged by the guard of the drilled revision all the
    // same, and the deletion is a governance change that an owner of the rules must approve.
    expect(detail['freeze-deleted']).toMatch(
      /requires-approval: governance-change: .*policy cyber-week-freeze removed \(policies\/freeze\.yaml\)/,
    )
    expect(detail['approval-removed']).toMatch(
      /requires-approval: stage-move: stage "stable" no longer needs a person's approval .* \(and 1 more findings\)$/,
    )
    expect(scenarios.every((s) => s.productionTargets.length === 0)).toBe(true)

    // The drill worked on a copy: the repository, its branch and its working tree are as before,
    // and no store was created in it.
    expect(await resolveCommit(repo, 'HEAD')).toBe(head)
    expect((await git(repo, ['status', '--porcelain'])).toString()).toBe('')
    expect((await git(repo, ['branch', '--list'])).toString().trim()).toBe('* main')
    expect(existsSync(join(repo, '.flotilla'))).toBe(false)
  }, 180_000)

  test('--unsafe applies the mistakes as unguarded automation would: the outage, then a timed restore from snapshots', async () => {
    const { code, report, stderr } = await drill(
      '--unsafe',
      '--scenario',
      'misspelt-metadata-key',
      '--scenario',
      'dns-broken-at-runtime',
      '--format',
      'json',
    )
    expect(code, stderr).toBe(0)
    const [metadata, dns] = report!.scenarios
    expect(report!.unsafe).toBe(true)
    // The 2022 incident: every zone deleted, the shop and the ops tooling down together.
    expect(metadata).toMatchObject({
      name: 'misspelt-metadata-key',
      stoppedBy: null,
      reachedProduction: true,
    })
    expect(zoneAccounts).toBeGreaterThan(4)
    expect(metadata!.outage!.snapshots).toBeGreaterThanOrEqual(zoneAccounts)
    expect(metadata!.outage!.production.down).toBe(metadata!.outage!.production.total)
    expect(metadata!.outage!.production.total).toBeGreaterThan(0)
    expect(metadata!.outage!.ops.down).toBe(metadata!.outage!.ops.total)
    expect(metadata!.outage!.ops.total).toBeGreaterThan(0)
    expect(metadata!.restore).toMatchObject({ how: 'snapshots', recovered: true, stillDown: [] })
    expect(metadata!.restore!.opsSeconds).not.toBeNull()
    expect(metadata!.restore!.opsSeconds!).toBeLessThanOrEqual(metadata!.restore!.seconds)
    // Nothing destroyed: the last good revision, applied again, brings the names back.
    expect(dns!.outage!.production.down).toBeGreaterThan(0)
    expect(dns!.outage!.snapshots).toBe(0)
    expect(dns!.restore).toMatchObject({ how: 'revert', recovered: true })
  })

  test('the text report names the outage and the time to restore', async () => {
    const { code, stdout } = await drill('--unsafe', '--scenario', 'selection-matches-nothing')
    expect(code).toBe(0)
    expect(stdout).toMatch(/SAFEGUARDS OFF/)
    expect(stdout).toMatch(/ {2}outage: \d+\/\d+ production and \d+\/\d+ ops services down, e\.g\. /)
    expect(stdout).toMatch(/ {2}time to restore: \d+\.\d s \(ops tooling after \d+\.\d s\)/)
    expect(stdout).toContain('1 of 1 outages fully restored.')
  })

  test('stages without health or DNS gates let the runtime break through to production: reported, exit 3', async () => {
    await git(repo, ['checkout', '-q', '-b', 'weak-gates'])
    const path = join(repo, 'rollout.yaml')
    const rollout = parse(readFileSync(path, 'utf8')) as { stages: { name: string; gates?: string[] }[] }
    for (const stage of rollout.stages) if (stage.name !== 'stable') stage.gates = []
    writeFileSync(path, stringify(rollout))
    await git(repo, ['commit', '-q', '-am', 'No gates before stable'], undefined, GIT_IDENTITY)
    await git(repo, ['checkout', '-q', 'main'])

    const run = await runCaptured([
      'drill',
      '--repo',
      repo,
      '--rev',
      'weak-gates',
      '--now',
      NOW,
      '--scenario',
      'dns-broken-at-runtime',
    ])
    expect(run.code, run.stderr).toBe(3)
    expect(run.stdout).toMatch(/reached production: YES \(.+\)/)
    expect(run.stdout).toContain('Not stopped before production: dns-broken-at-runtime.')
  })

  test('an unknown scenario is a user error that lists the scenarios', async () => {
    const run = await drill('--scenario', 'typo')
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      'error: --scenario typo is not a drill scenario (scenarios: misspelt-metadata-key, stack-rename, selection-matches-nothing, condition-flipped, account-dropped, dns-broken-at-runtime, freeze-deleted, approval-removed)',
    )
  })
})
