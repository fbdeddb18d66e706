import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { generateExampleFleet } from '../src/example/generate-example.ts'
import { git } from '../src/source/git.ts'
import { gitFixture } from './support/git-fixture.ts'
import { runCaptured } from './support/run-cli.ts'

/**
 * Input built to crash the CLI — YAML that is deep, self-referential or misleading, and
 * `plan --target` expressions that fail while they are evaluated — is a user error (exit 1)
 * with its position or the expression quoted, never an internal error (exit 4) or a stack trace.
 */
let dir: string

beforeAll(async () => {
  dir = await gitFixture(Object.fromEntries(generateExampleFleet({ accounts: 10, clusters: 5, seed: '2' })))
}, 60_000)

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

function expectUserError(run: { code: number; stderr: string }): void {
  expect(run.stderr).not.toMatch(/internal error|\n\s+at /)
  expect(run.code).toBe(1)
}

describe('plan --target: an expression that fails is a user error', () => {
  test.each([
    [
      'a config key not every target has',
      'target.config.nonexistent == 1',
      /No such key: nonexistent \(at column 15\), for target \S+; .*has\(target\.config/,
    ],
    [
      'a tag not every target has',
      'target.tags["zzz"] == "a"',
      /No such key: zzz.*, for target \S+; .*"key" in target\.tags/,
    ],
    [
      'a conversion that fails',
      'int(target.name) == 1',
      /int\(\) type error: cannot convert to int, for target \S+; it must give true or false for every target/,
    ],
    [
      'a division by zero',
      '1 / (size(target.regions) - size(target.regions)) == 1',
      /division by zero, for target \S+/,
    ],
  ])(
    '%s',
    async (_name, expression, message) => {
      const run = await runCaptured(['plan', '--repo', '.', '--base', 'HEAD', '--target', expression], dir)
      expectUserError(run)
      expect(run.stderr).toContain(`--target ${JSON.stringify(expression)}: CEL evaluation error: `)
      expect(run.stderr).toMatch(message)
    },
    60_000,
  )

  test.each([
    [
      'an invisible character',
      "target.channel == 'dev\u200b'",
      'at column 23: invisible character U+200B (zero-width space)',
    ],
    [
      'a look-alike letter',
      "target.channel == 'dеv'",
      'at column 21: "dеv" mixes Latin and Cyrillic: U+0435 is Cyrillic',
    ],
    ['a type error', 'target.channel == 1', 'CEL type error: no such overload'],
  ])(
    '%s is reported before anything is evaluated',
    async (_name, expression, message) => {
      const run = await runCaptured(['plan', '--repo', '.', '--base', 'HEAD', '--target', expression], dir)
      expectUserError(run)
      expect(run.stderr).toContain(message)
    },
    60_000,
  )

  test('an expression that works still selects', async () => {
    const run = await runCaptured(
      [
        'plan',
        '--repo',
        '.',
        '--base',
        'HEAD',
        '--target',
        "has(target.config.nonexistent) || target.channel == 'dev'",
      ],
      dir,
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
  }, 60_000)
})

describe('validate: YAML that could crash the loader is a located error', () => {
  let laughs = 'lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n'
  for (let i = 1; i < 10; i++)
    laughs += `lol${i}: &l${i} [${Array(10)
      .fill(`*l${i - 1}`)
      .join(', ')}]\n`
  test.each([
    [
      '10,000 nested [',
      'fleet.yaml',
      `${'['.repeat(10_000)}\n`,
      /^fleet\.yaml:1:101: lists and mappings are nested more than 100 levels deep/m,
    ],
    [
      '10,000 nested block lists',
      'stacks/deep.yaml',
      `${'- '.repeat(10_000)}x\n`,
      /^stacks\/deep\.yaml:1:201: lists and mappings are nested/m,
    ],
    [
      'a billion laughs',
      'cluster/manifests/coredns/laughs.yaml',
      laughs,
      /^cluster\/manifests\/coredns\/laughs\.yaml:5:\d+: aliases are expanded more than 10,000 times/m,
    ],
    [
      'a flow mapping with a missing colon',
      'rollout.yaml',
      'stages: { a: 1, b "2" }\n',
      /^rollout\.yaml:1:17: "b "2"" has no ":" after it/m,
    ],
    [
      'an undefined alias',
      'inventory/teams.yaml',
      '- *team\n',
      /^inventory\/teams\.yaml:1:3: alias \*team refers to no anchor/m,
    ],
  ])(
    '%s',
    async (_name, path, text, message) => {
      writeFileSync(join(dir, path), text)
      try {
        const run = await runCaptured(['validate', '--repo', '.'], dir)
        expectUserError(run)
        expect(run.stderr).toMatch(message)
      } finally {
        await git(dir, ['checkout', '-q', '--', '.'])
        await git(dir, ['clean', '-qfd'])
      }
    },
    60_000,
  )
})
