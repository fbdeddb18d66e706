/**
 * docs/testing-changes.md says what `flotilla test` does: its options are the command's, the
 * environment it documents is the one command gates get, and the pull-request workflow runs a
 * test that passes on a harmless change and posts the comment shown.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { gateEnvironment } from '../src/change-test/test-sandbox.ts'
import { buildProgram } from '../src/cli/main.ts'
import { writeExampleFleet } from '../src/example/write-example.ts'
import { commitChanges } from '../src/example/write-repository.ts'
import { git } from '../src/source/git.ts'
import { codeBlocks, tableRows } from '../test/support/markdown.ts'
import { runCaptured } from '../test/support/run-cli.ts'

const page = readFileSync(fileURLToPath(new URL('testing-changes.md', import.meta.url)), 'utf8')
const section = (heading: string) => page.split(`## ${heading}`)[1]!.split('\n## ')[0]!

describe('testing-changes.md', () => {
  test('the options table lists exactly the options of flotilla test', () => {
    const program = buildProgram({ stdout: () => {}, stderr: () => {}, isTTY: false, cwd: '.' }, () => {})
    const shown = tableRows(section('Running it'))
      .slice(1)
      .map(([option]) => /^`(--[\w-]+)/.exec(option!)?.[1])
    const command = program.commands.find((c) => c.name() === 'test')!
    expect(shown.sort()).toEqual(command.options.map((o) => o.long!).sort())
  })

  test('the environment table lists what command gates get besides the caller’s own', () => {
    const shown = tableRows(section('What `e2e/run.sh` receives'))
      .slice(1)
      .flatMap(([names]) => [...names!.matchAll(/`(\w+)`/g)].map((m) => m[1]!))
    const endpoints = { dns: '127.0.0.1:53', aws: 'http://a', kubernetes: 'http://k', kubeconfig: '/k' }
    const added = Object.keys(gateEnvironment(endpoints)).filter(
      (key) => !(key in process.env) || /^AWS_|^KUBECONFIG$/.test(key),
    )
    expect(shown.sort()).toEqual(added.sort())
  })

  test('the pull-request workflow runs a test that passes a harmless change and posts its comment', async () => {
    const [block] = codeBlocks(section('On every pull request'), 'yaml')
    const workflow = parseYaml(block!.body) as {
      jobs: { test: { steps: { id?: string; name?: string; run?: string }[] } }
    }
    const steps = workflow.jobs.test.steps
    const line = steps
      .find((s) => s.id === 'test')!
      .run!.split('\n')
      .find((l) => l.includes('npx flotilla test'))!
    const words = line.split(' > ')[0]!.trim().replaceAll('"', '').split(/\s+/)
    expect(words.slice(0, 3)).toEqual(['npx', 'flotilla', 'test'])
    const argv = words.slice(2).map((w) => (w === 'origin/$BASE_REF' ? 'main' : w))

    const repo = join(mkdtempSync(join(tmpdir(), 'flotilla-test-doc-')), 'fleet')
    await writeExampleFleet(repo, { accounts: 12, clusters: 6 })
    await git(repo, ['checkout', '-q', '-b', 'pull-request'])
    const stack = join(repo, 'stacks', 'route53-hostedzones.yaml')
    writeFileSync(
      stack,
      readFileSync(stack, 'utf8').replace('managed by Flotilla"', 'managed by Flotilla, reviewed"'),
    )
    await commitChanges(repo, 'a comment of the zones')
    const { code, stdout, stderr } = await runCaptured([
      ...argv,
      '--repo',
      repo,
      '--now',
      '2026-11-10T10:00:00Z',
    ])
    expect(code, stderr).toBe(0)
    expect(stdout).toMatch(/^### ✅ flotilla test: passed\n/)
    expect(stdout).toContain('| upgrade (base, then the change) | ✅ passed |')

    const verdict = steps.find((s) => s.name === 'Verdict')!.run!
    expect(verdict).toMatch(/^\s+0\) echo /m)
    expect(verdict).toMatch(/^\s+3\) echo .*; exit 1 ;;$/m)
  })
})
