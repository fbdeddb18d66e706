import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { BASE_FILES, writeFixtureDir } from './support/fixture-fleet.ts'
import { commitFiles, gitFixture } from './support/git-fixture.ts'
import { runCaptured } from './support/run-cli.ts'

const cli = runCaptured

/** The fixture fleet's policies: a freeze window and a plan rule. */
const POLICIES = `- name: cyber-week-freeze
  description: No production changes during Cyber Week
  when: >-
    target.environment == 'production'
    && now >= timestamp('2026-11-23T00:00:00Z') && now < timestamp('2026-12-01T00:00:00Z')
  effect: require-approval
- name: ops-zones-stay
  when: target.group == 'ops' && change.type == 'AWS::Route53::HostedZone' && change.action == 'delete'
  effect: deny
- name: more-than-two-targets
  scope: plan
  when: plan.summary.targetsChanged > 2
  effect: warn
`

/** Passing tests of {@link POLICIES}. */
const PASSING = `- name: a production change during Cyber Week needs an approval
  now: 2026-11-25T10:00:00Z
  changes:
    - { target: teapot-prod, address: "111111111111/eu-central-1/app/Queue", action: update, type: AWS::SQS::Queue }
  expect:
    - { rule: cyber-week-freeze, effect: require-approval, addresses: ["111111111111/eu-central-1/app/Queue"] }
  verdict: requires-approval
- name: approved, it goes ahead
  now: 2026-11-25T10:00:00Z
  changes:
    - { target: "111111111111", address: "111111111111/eu-central-1/app/Queue", action: update, type: AWS::SQS::Queue }
  approvals: ["111111111111/eu-central-1/app/Queue"]
  expect:
    - { rule: cyber-week-freeze, effect: require-approval }
  verdict: allowed
- name: a week later it needs nothing
  now: 2026-12-02T10:00:00Z
  changes:
    - { target: teapot-prod, action: update, type: AWS::SQS::Queue }
  expect: []
  verdict: allowed
- name: an ops zone deletion is denied, and the built-in rule asks for its approval too
  now: 2026-12-02T10:00:00Z
  changes:
    - { target: ops-monitoring, action: delete, type: AWS::Route53::HostedZone }
  expect:
    - { rule: ops-zones-stay, effect: deny, addresses: ["333333333333/policy-test/HostedZone"] }
    - { rule: protected-destroy, effect: require-approval, count: 1 }
  verdict: denied
`

/** A fixture repository with the policies and the given test files. */
function repo(tests: Readonly<Record<string, string>>): string {
  return writeFixtureDir({ ...BASE_FILES, 'policies/freeze.yaml': POLICIES, ...tests })
}

describe('flotilla policy test', () => {
  test('passing tests: ok per test, the summary line, exit 0', async () => {
    const { code, stdout, stderr } = await cli([
      'policy',
      'test',
      '--repo',
      repo({ 'policies/tests/freeze.yaml': PASSING }),
    ])
    expect(stderr).toBe('')
    expect(stdout).toBe(
      [
        'ok   policies/tests/freeze.yaml: a production change during Cyber Week needs an approval',
        'ok   policies/tests/freeze.yaml: approved, it goes ahead',
        'ok   policies/tests/freeze.yaml: a week later it needs nothing',
        'ok   policies/tests/freeze.yaml: an ops zone deletion is denied, and the built-in rule asks for its approval too',
        '4 passed, 0 failed',
        '',
      ].join('\n'),
    )
    expect(code).toBe(0)
  })

  test('a failing test: FAIL with the expected and actual findings, the verdict, exit 1', async () => {
    const failing = `- name: expects a deny where the freeze asks for an approval
  now: 2026-11-26T10:00:00Z
  changes:
    - { target: teapot-prod, action: delete, type: AWS::S3::Bucket }
  expect:
    - { rule: cyber-week-freeze, effect: deny }
  verdict: denied
`
    const dir = repo({ 'policies/tests/a.yaml': PASSING, 'policies/tests/b.yaml': failing })
    const { code, stdout, stderr } = await cli(['policy', 'test', '--repo', dir])
    expect(stderr).toBe('')
    expect(code).toBe(1)
    expect(stdout).toContain('ok   policies/tests/a.yaml: approved, it goes ahead\n')
    expect(stdout).toContain(
      [
        'FAIL policies/tests/b.yaml: expects a deny where the freeze asks for an approval',
        '  expected:',
        '    cyber-week-freeze deny   (missing)',
        '  actual:',
        '    protected-destroy require-approval on 111111111111/policy-test/Bucket   (unexpected)',
        '      1 protected resource would be deleted or replaced (1 × AWS::S3::Bucket); each needs an approval of its exact address — or change the plan so they stay',
        '    cyber-week-freeze require-approval on 111111111111/policy-test/Bucket   (unexpected)',
        '      No production changes during Cyber Week (1 change; policies/freeze.yaml:1:3)',
        '  verdict: expected denied, got requires-approval',
        '',
      ].join('\n'),
    )
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('4 passed, 1 failed')
  })

  test('a finding nobody expected fails the test: the comparison is a set, both ways', async () => {
    const tests = `- name: expects nothing
  now: 2026-11-25T10:00:00Z
  changes: [{ target: teapot-prod, action: update, type: AWS::SQS::Queue }]
  expect: []
- name: expects too much
  now: 2026-12-02T10:00:00Z
  changes: [{ target: teapot-prod, action: update, type: AWS::SQS::Queue }]
  expect: [{ rule: cyber-week-freeze, effect: require-approval }]
`
    const { code, stdout } = await cli(['policy', 'test', '--repo', repo({ 'policies/tests/t.yaml': tests })])
    expect(code).toBe(1)
    expect(stdout).toContain('FAIL policies/tests/t.yaml: expects nothing\n  expected:\n    no findings\n')
    expect(stdout).toContain('FAIL policies/tests/t.yaml: expects too much\n')
    expect(stdout).toContain('  actual:\n    no findings\n')
    expect(stdout).toContain('0 passed, 2 failed\n')
  })

  test('select puts a change into every target it selects; plan rules see the summary', async () => {
    const tests = `- name: three targets trip the plan rule
  now: 2026-12-02T10:00:00Z
  changes:
    - { select: "target.kind == 'account'", action: update, type: AWS::SQS::Queue }
  expect:
    - { rule: more-than-two-targets, effect: warn, addresses: [plan/more-than-two-targets] }
- name: twelve deletions need the delete budget's pattern approval
  now: 2026-12-02T10:00:00Z
  changes:
${Array.from({ length: 12 }, (_, i) => `    - { target: teapot-test, address: "222222222222/eu-central-1/app/Topic${i}", action: delete, type: AWS::SNS::Topic }`).join('\n')}
  approvals: ["222222222222/eu-central-1/app/* (expected 12)"]
  expect:
    - { rule: delete-budget, effect: require-approval, count: 12 }
  verdict: allowed
- name: the pattern satisfies the budget, never the protected destructions it counts
  now: 2026-12-02T10:00:00Z
  changes:
${Array.from({ length: 12 }, (_, i) => `    - { target: teapot-test, address: "222222222222/eu-central-1/app/Queue${i}", action: delete, type: AWS::SQS::Queue }`).join('\n')}
  approvals: ["222222222222/eu-central-1/app/* (expected 12)"]
  expect:
    - { rule: protected-destroy, effect: require-approval, count: 12 }
    - { rule: delete-budget, effect: require-approval, count: 12 }
    - { rule: approval-not-exact, effect: warn, count: 12 }
  verdict: requires-approval
- name: eleven replacements are eleven deletions for the budget
  now: 2026-12-02T10:00:00Z
  changes:
${Array.from({ length: 11 }, (_, i) => `    - { target: teapot-test, address: "222222222222/eu-central-1/app/Topic${i}", action: replace, type: AWS::SNS::Topic }`).join('\n')}
  expect:
    - { rule: delete-budget, effect: require-approval, count: 11 }
  verdict: requires-approval
- name: a deleted stack is not protected itself, as in a plan (its resources are)
  now: 2026-12-02T10:00:00Z
  changes:
    - { target: teapot-test, action: delete, type: AWS::CloudFormation::Stack }
  expect: []
  verdict: allowed
- name: a pattern approval with the wrong count denies
  now: 2026-12-02T10:00:00Z
  changes:
    - { target: teapot-test, action: delete, type: AWS::S3::Bucket }
  approvals: ["222222222222/** (expected 2)"]
  expect:
    - { rule: protected-destroy, effect: require-approval }
    - { rule: approval-mismatch, effect: deny, count: 1 }
  verdict: denied
`
    const { code, stdout } = await cli(['policy', 'test', '--repo', repo({ 'policies/tests/t.yaml': tests })])
    expect(stdout).toContain('6 passed, 0 failed\n')
    expect(code).toBe(0)
  })

  test('--format json: one document with every test, its expected and actual findings', async () => {
    const dir = repo({ 'policies/tests/freeze.yaml': PASSING.replace('effect: deny,', 'effect: warn,') })
    const { code, stdout } = await cli(['policy', 'test', '--repo', dir, '--format', 'json'])
    expect(code).toBe(1)
    const report = JSON.parse(stdout)
    expect(report).toMatchObject({ passed: 3, failed: 1 })
    expect(report.tests).toHaveLength(4)
    expect(report.tests[0]).toEqual({
      file: 'policies/tests/freeze.yaml',
      line: 1,
      name: 'a production change during Cyber Week needs an approval',
      passed: true,
      expected: [
        {
          rule: 'cyber-week-freeze',
          effect: 'require-approval',
          addresses: ['111111111111/eu-central-1/app/Queue'],
        },
      ],
      actual: [
        {
          rule: 'cyber-week-freeze',
          effect: 'require-approval',
          addresses: ['111111111111/eu-central-1/app/Queue'],
          message: 'No production changes during Cyber Week (1 change; policies/freeze.yaml:1:3)',
        },
      ],
      expectedVerdict: 'requires-approval',
      verdict: 'requires-approval',
    })
    expect(report.tests[3]).toMatchObject({ passed: false, verdict: 'denied' })
    expect(report.tests[3].actual.map((f: { rule: string }) => f.rule)).toEqual([
      'protected-destroy',
      'ops-zones-stay',
    ])
  })

  test('an invalid test file: every problem as file:line:col, no test run, exit 1', async () => {
    const invalid = `- name: typos
  now: 2026-11-25
  changes:
    - { target: teapot-prod, action: updte, type: AWS::SQS::Queue, adress: x }
  expect: []
`
    const dir = repo({ 'policies/tests/a.yaml': PASSING, 'policies/tests/b.yaml': invalid })
    const { code, stdout, stderr } = await cli(['policy', 'test', '--repo', dir])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr.trimEnd().split('\n')).toEqual([
      'policies/tests/b.yaml:2:8: invalid "now" "2026-11-25": write the time in ISO 8601 with seconds and a zone, e.g. 2026-11-25T10:00:00Z',
      'policies/tests/b.yaml:4:38: invalid value "updte" for "action": expected one of create, update, replace, delete, move; did you mean "update"?',
      'policies/tests/b.yaml:4:68: unknown key "adress"; did you mean "address"?',
      '1 policy test file is invalid (3 errors); no test was run',
    ])
  })

  test('an unknown target or rule is an error with the closest one', async () => {
    const tests = `- name: typos in names
  now: 2026-11-25T10:00:00Z
  changes:
    - { target: teapot-prd, action: update, type: AWS::SQS::Queue }
  expect:
    - { rule: cyber-week-frezee, effect: require-approval }
`
    const dir = repo({ 'policies/tests/t.yaml': tests })
    const { code, stderr } = await cli(['policy', 'test', '--repo', dir])
    expect(code).toBe(1)
    expect(stderr).toContain(
      'policies/tests/t.yaml:4:17: no target "teapot-prd" in the fleet; did you mean "teapot-prod"? (give an account id or name, or a cluster id or alias)\n',
    )
    expect(stderr).toContain(
      'policies/tests/t.yaml:6:15: no rule "cyber-week-frezee"; did you mean "cyber-week-freeze"?',
    )
    const json = await cli(['policy', 'test', '--repo', dir, '--format', 'json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({
      tests: [],
      passed: 0,
      failed: 0,
      errors: [{ file: 'policies/tests/t.yaml', line: 4, col: 17, rule: 'broken-reference' }, { line: 6 }],
    })
  })

  test('mistakes only the fleet can show: select picking nothing, an address of another target, a repeated address', async () => {
    const tests = `- name: wrong
  now: 2026-11-25T10:00:00Z
  changes:
    - { select: "target.environment == 'staging'", action: update, type: AWS::SQS::Queue }
    - { target: teapot-prod, address: "222222222222/eu-central-1/app/Queue", action: update, type: AWS::SQS::Queue }
    - { target: teapot-prod, action: update, type: AWS::SQS::Queue }
    - { target: teapot-prod, action: delete, type: AWS::SQS::Queue }
  expect: []
`
    const { code, stderr } = await cli(['policy', 'test', '--repo', repo({ 'policies/tests/t.yaml': tests })])
    expect(code).toBe(1)
    expect(stderr.trimEnd().split('\n').slice(0, -1)).toEqual([
      `policies/tests/t.yaml:4:17: "target.environment == 'staging'" selects no target of the fleet`,
      'policies/tests/t.yaml:5:39: address "222222222222/eu-central-1/app/Queue" is not in target 111111111111 (teapot-prod): the addresses of its changes start with "111111111111/"',
      'policies/tests/t.yaml:7:7: address "111111111111/policy-test/Queue" is changed twice in this test (first at policies/tests/t.yaml:6:7); give each change its own "address"',
    ])
  })

  test('no test files: says so, exit 0', async () => {
    const { code, stdout } = await cli(['policy', 'test', '--repo', writeFixtureDir(BASE_FILES)])
    expect(stdout).toBe('no policy tests: write them in policies/tests/*.yaml\n')
    expect(code).toBe(0)
  })

  test('an invalid repository is not tested: its errors, exit 1', async () => {
    const dir = writeFixtureDir({
      ...BASE_FILES,
      'policies/freeze.yaml': POLICIES.replace('effect: deny', 'effect: dney'),
      'policies/tests/freeze.yaml': PASSING,
    })
    const { code, stdout, stderr } = await cli(['policy', 'test', '--repo', dir])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toContain('policies/freeze.yaml:9:11: invalid value "dney" for "effect"')
    expect(stderr).toMatch(/is invalid \(1 error\); run "flotilla validate" for details\n$/)
  })

  test('--rev tests the policies and tests of a revision, not the working tree', async () => {
    const dir = await gitFixture({
      ...BASE_FILES,
      'policies/freeze.yaml': POLICIES,
      'policies/tests/freeze.yaml': PASSING,
    })
    await commitFiles(
      dir,
      { 'policies/freeze.yaml': POLICIES.replace('effect: require-approval', 'effect: warn') },
      'weaker freeze',
    )
    writeFileSync(join(dir, 'policies/tests/freeze.yaml'), 'not: a list\n')
    expect((await cli(['policy', 'test', '--repo', dir])).code).toBe(1)
    const head = await cli(['policy', 'test', '--repo', dir, '--rev', 'HEAD'])
    expect(head.stdout).toContain('2 passed, 2 failed\n')
    expect(head.code).toBe(1)
    const before = await cli(['policy', 'test', '--repo', dir, '--rev', 'HEAD~1'])
    expect(before.stdout).toContain('4 passed, 0 failed\n')
    expect(before.code).toBe(0)
  })

  test('the example fleet: its policy tests pass', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'flotilla-policy-test-'))
    const init = await cli(
      ['init', 'fleet', '--example', '--accounts', '20', '--clusters', '15', '--seed', '3'],
      cwd,
    )
    expect(init.code).toBe(0)
    const { code, stdout, stderr } = await cli(['policy', 'test', '--repo', 'fleet'], cwd)
    expect(stderr).toBe('')
    expect(stdout).toContain(
      'ok   policies/tests/protection.yaml: the ops DNS zone is never deleted by a rollout\n',
    )
    expect(stdout).not.toContain('FAIL')
    expect(stdout).toMatch(/\n1[0-9] passed, 0 failed\n$/)
    expect(code).toBe(0)
  })

  test('help: "policy" lists "test", which documents its options', async () => {
    const policy = await cli(['policy', '--help'])
    expect(policy.code).toBe(0)
    expect(policy.stdout).toMatch(/test \[options\]\s+run the policy tests of policies\/tests\/\*\.yaml/)
    const help = await cli(['policy', 'test', '--help'])
    for (const option of ['--repo <dir>', '--rev <rev>', '--format <format>'])
      expect(help.stdout).toContain(option)
    expect((await cli(['policy', 'test', '--format', 'markdown'])).code).toBe(1)
  })
})
