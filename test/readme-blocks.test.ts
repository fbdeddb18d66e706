/**
 * The README and the getting-started guide, run as a new user runs them: `npm start` on a fresh
 * checkout (the working tree's files, without `node_modules`' build, `dist/`, `example-fleet/` or
 * any store: only what git would check out), then every line of every `sh` block of both
 * documents, through a shell and `npx`, while the server runs — the commands of the store go
 * through it. Each line's exit code and output are checked against {@link EXPECTED}; a line the
 * table does not know fails the test, so a new line in the docs gets its expectation here.
 *
 * Two concessions, both said where they are made: the example fleet is created small before
 * `npm start` (which then uses it, as it does on every start after the first), so the test does not
 * wait for 539 targets; and placeholders (`<account or cluster>`, `<snapshot id>`) and what a
 * line presupposes (a branch to plan, a snapshot to restore) are filled in as a user would.
 * Blocks that need what this machine lacks (AWS) or that are this test itself (`npm install && npm
 * start`, `npm test`) are skipped by name.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { freshCheckout, userEnvironment } from './support/fresh-checkout.ts'
import { commitOnBranch } from './support/git-fixture.ts'
import { codeBlocks } from './support/markdown.ts'
import { commitAll } from './support/rollout-fleet.ts'
import { pollUntil } from './support/sim-cli.ts'

/** What a line must do: its exit code (or the codes it may have) and what it prints. */
interface Expected {
  readonly code: number | readonly number[]
  readonly stdout?: RegExp
  readonly stderr?: RegExp
}

/**
 * Every command line of the documents' `sh` blocks (comments removed), with what it must do. The
 * apply of the guide's production account may meet the example's weekend and Cyber Week rules on
 * the day the test runs: then it asks for approvals (exit 3) and says so.
 */
const EXPECTED: Readonly<Record<string, Expected>> = {
  // README: the CLI on the example
  'npx flotilla validate --repo example-fleet': { code: 0, stdout: /valid/ },
  'npx flotilla validate --repo example-fleet --rev HEAD --format json': { code: 0, stdout: /"valid": true/ },
  'npx flotilla render --repo example-fleet --target <account id, account name, cluster id or alias>': {
    code: 0,
    stdout: /Resources/,
  },
  'npx flotilla plan --repo example-fleet --base HEAD': { code: 0, stdout: /No changes/i },
  'npx flotilla plan --repo example-fleet --base main --head my-branch --format markdown': {
    code: 2,
    stdout: /ExpirationInDays/,
  },
  'npx flotilla policy test --repo example-fleet': { code: 0, stdout: /pass/i },
  // README: the simulated fleet, while npm start holds its store
  'npx flotilla sim settings --latency-scale 0': { code: 0, stdout: /^latency scale: 0$/m },
  'npx flotilla apply --target <account or cluster>': { code: 0, stdout: /is up to date|Applied/ },
  'npx flotilla plan': { code: 0, stdout: /No changes/i },
  'npx flotilla sim status': { code: 0, stdout: /Simulated fleet in .*\n\s+targets:/ },
  // Ended by Ctrl-C: 0 from the command, 130 where npm passes the signal on.
  'npx flotilla sim serve': { code: [0, 130], stdout: /^\{"dns":"127\.0\.0\.1:\d+"/ },
  'npx flotilla sim fault --kind throttling --rate 0.5 --for 300': { code: 0, stdout: /throttling/ },
  'npx flotilla snapshots': { code: 0, stdout: /snap-/ },
  'npx flotilla restore <snapshot id>': { code: 0, stdout: /Restored .* from snap-/ },
  'npx flotilla sim reset': { code: 0, stdout: /empty again/ },
  // docs/getting-started.md
  'npx flotilla init my-fleet --example --accounts 20 --clusters 15 --seed 7': {
    code: 0,
    stdout:
      /Created an example fleet \(20 accounts, 15 clusters, seed 7\) in .*my-fleet: 39 files, commit 1b3d7c5\./,
  },
  'npx flotilla validate --repo my-fleet --rev HEAD': { code: 0, stdout: /valid/ },
  'npx flotilla validate --repo my-fleet --rev HEAD~1': { code: 0, stdout: /valid/ },
  'npx flotilla validate --repo my-fleet --rev origin/main': { code: 0, stdout: /valid/ },
  'npx flotilla plan --repo my-fleet --base HEAD': { code: 0, stdout: /No changes/i },
  'npx flotilla plan --repo my-fleet --base main --head my-branch --format markdown': {
    code: 2,
    stdout: /ExpirationInDays/,
  },
  'npx flotilla apply --target shipping-prod': { code: [0, 3], stdout: /Applied|Approvals required/ },
  'npx flotilla apply --target shipping-prod-kube-1': { code: [0, 3], stdout: /Applied|Approvals required/ },
  'npx flotilla plan --target "target.account == \'907386514155\'"': { code: [0, 3] },
  'npx flotilla validate --repo . --rev HEAD': { code: 0, stdout: /valid/ },
  'npx flotilla plan --repo . --base origin/main --head HEAD --format markdown > plan.md': { code: 0 },
  'npx flotilla test --repo . --base origin/main --head HEAD --format markdown > test.md': { code: 0 },
}

/**
 * Blocks not run: what this test is itself, what needs a cloud account, and the installation
 * outside the checkout (`test/install.test.ts` packs and installs the CLI; `npm link` would
 * install into the suite's own `node_modules`).
 */
const SKIPPED_BLOCKS = [/^npm install && npm start$/m, /^npm test$/m, /AWS_PROFILE/, /^npm link/m]

/** The `sh` blocks of a markdown file, as lines without their comments. */
function shBlocks(file: string): string[][] {
  const blocks: string[][] = []
  for (const { body: text } of codeBlocks(readFileSync(file, 'utf8'), 'sh')) {
    if (SKIPPED_BLOCKS.some((skip) => skip.test(text))) continue
    blocks.push(
      text
        .split('\n')
        .map((line) => line.replace(/\s+#\s.*$/, '').trim())
        .filter((line) => line !== ''),
    )
  }
  return blocks
}

/** What a line printed and returned. */
interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a line in a shell, as typed in a terminal (its own process group, like a terminal's job). */
function shell(
  line: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; done: Promise<Ran>; out: () => string } {
  const child = spawn('bash', ['-c', line], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (t: string) => {
    stdout += t
  })
  child.stderr!.setEncoding('utf8').on('data', (t: string) => {
    stderr += t
  })
  const done = new Promise<Ran>((resolveRun) => {
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 180_000)
    // A job ended by Ctrl-C reports 130, as a terminal's shell does (128 + SIGINT).
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolveRun({ code: code ?? (signal === 'SIGINT' ? 130 : null), stdout, stderr })
    })
  })
  return { child, done, out: () => stdout }
}

/** Ctrl-C in the terminal: SIGINT to the job's process group. */
const ctrlC = (child: ChildProcess) => process.kill(-child.pid!, 'SIGINT')

let checkout = ''
let server: ReturnType<typeof shell> | undefined
const env = userEnvironment()

beforeAll(async () => {
  checkout = freshCheckout()
  // What `npm install` does after fetching the packages (the `prepare` script).
  execFileSync('npm', ['run', 'prepare'], { cwd: checkout, env, stdio: 'ignore' })
  // Concession: the example created small, so that npm start applies it in seconds.
  execFileSync(
    process.execPath,
    ['bin/flotilla.js', 'init', 'example-fleet', '--example', '--accounts', '12', '--clusters', '4'],
    { cwd: checkout, env, stdio: 'ignore' },
  )
  const example = join(checkout, 'example-fleet')
  await commitOnBranch(example, 'my-branch', (dir) => retainLogsLonger(dir))
  server = shell('npm start', checkout, userEnvironment({ PORT: '0' }))
  await pollUntil(
    async () => server!.out(),
    (text) => /Applied the example: \d+ of \d+ targets/.test(text) || /error/i.test(text),
    180_000,
  )
  expect(server.out()).toMatch(/Flotilla is serving .*example-fleet \(HEAD\) on http:\/\/127\.0\.0\.1:\d+/)
  expect(server.out()).toMatch(/Admin token: flt_/)
  expect(server.out()).toMatch(/Applied the example: (\d+) of \1 targets/)
}, 300_000)

afterAll(async () => {
  if (server) {
    ctrlC(server.child)
    const stopped = await server.done
    expect([0, 130]).toContain(stopped.code)
    expect(stopped.stderr).not.toMatch(/\n\s+at .*:\d+:\d+\)?\n/)
    expect(existsSync(join(checkout, 'example-fleet', '.flotilla', 'server.json'))).toBe(false)
  }
  if (checkout) rmSync(dirname(checkout), { recursive: true, force: true })
}, 60_000)

/** A change to review: non-production logs kept 60 days instead of 30. */
function retainLogsLonger(repo: string): void {
  const file = join(repo, 'stacks', 'logging.yaml')
  const text = readFileSync(file, 'utf8')
  if (!text.includes(': 30 }}')) throw new Error('the example changed: no 30-day retention to change')
  writeFileSync(file, text.replace(': 30 }}', ': 60 }}'))
}

/**
 * Runs the lines of `blocks` from `start` — `cd` changes the directory for the lines after it —
 * with `fill` for placeholders and `before`/`after` for what a line presupposes or leaves.
 */
async function runBlocks(
  blocks: string[][],
  start: string,
  hooks: {
    fill?: (line: string, cwd: string) => Promise<string> | string
    before?: Readonly<Record<string, (cwd: string) => Promise<void>>>
    after?: Readonly<Record<string, (cwd: string, ran: Ran) => Promise<void>>>
  } = {},
): Promise<string[]> {
  const problems: string[] = []
  let cwd = start
  for (const block of blocks) {
    for (const line of block) {
      const cd = /^cd (\S+)$/.exec(line)
      if (cd) {
        cwd = resolve(cwd, cd[1]!)
        continue
      }
      const expected = EXPECTED[line]
      if (!expected) {
        problems.push(`a line the test does not know (add it to EXPECTED): ${line}`)
        continue
      }
      await hooks.before?.[line]?.(cwd)
      const command = (await hooks.fill?.(line, cwd)) ?? line
      const ran = command.endsWith('sim serve')
        ? await serveAndStop(command, cwd)
        : await shell(command, cwd, env).done
      const codes = typeof expected.code === 'number' ? [expected.code] : expected.code
      const what = `${command} (in ${cwd.slice(checkout.length) || '.'}): exit ${ran.code}\n${ran.stdout.slice(0, 1500)}\n${ran.stderr.slice(0, 1500)}`
      if (!codes.includes(ran.code ?? -1)) problems.push(`exit code not ${codes.join(' or ')}: ${what}`)
      else if (expected.stdout && !expected.stdout.test(ran.stdout))
        problems.push(`stdout not ${expected.stdout}: ${what}`)
      else if (/\n\s+at .*:\d+:\d+\)?\n/.test(ran.stderr)) problems.push(`a stack trace: ${what}`)
      await hooks.after?.[line]?.(cwd, ran)
    }
  }
  return problems
}

/** `sim serve` runs until Ctrl-C: its endpoints first, then Ctrl-C, as a user would. */
async function serveAndStop(command: string, cwd: string): Promise<Ran> {
  const serving = shell(command, cwd, env)
  await pollUntil(
    async () => serving.out(),
    (text) => text.includes('\n'),
    60_000,
  ).catch(() => undefined)
  ctrlC(serving.child)
  return serving.done
}

/** The first account of an inventory file: its name and domain. */
function accountIn(repo: string, file: string): { name: string; domain: string } {
  const text = readFileSync(join(repo, 'inventory', 'accounts', file), 'utf8')
  const name = /^\s*-?\s*name: (\S+)/m.exec(text)?.[1]
  const domain = /dns_domain: ([\w.-]+)/.exec(text)?.[1]
  if (!name || !domain) throw new Error(`no account with a domain in ${file}`)
  return { name, domain }
}

describe('the README, while npm start runs', () => {
  test('every command line of its blocks: exit codes and output', async () => {
    const example = join(checkout, 'example-fleet')
    const account = accountIn(example, 'production.yaml').name
    let snapshot = ''
    const npx = (line: string, cwd: string) => shell(line, cwd, env).done
    const problems = await runBlocks(shBlocks(join(checkout, 'README.md')), checkout, {
      fill: (line) =>
        line
          .replace('<account id, account name, cluster id or alias>', account)
          .replace('<account or cluster>', account)
          .replace('<snapshot id>', snapshot),
      before: {
        // A snapshot to restore: a zone replaced (a new domain), with the approvals it needs.
        'npx flotilla snapshots': async (cwd) => {
          const file = readdirSync(join(cwd, 'inventory', 'accounts')).find((f) => f.startsWith('staging'))!
          const { name, domain } = accountIn(cwd, file)
          const path = join(cwd, 'inventory', 'accounts', file)
          writeFileSync(
            path,
            readFileSync(path, 'utf8').replace(`dns_domain: ${domain}`, `dns_domain: new-${domain}`),
          )
          const asked = await npx(`npx flotilla apply --target ${name}`, cwd)
          expect(asked.code, asked.stdout + asked.stderr).toBe(3)
          const addresses = /Approvals required \(\d+\):\n((?: {2}\S+\n)+)/
            .exec(asked.stdout)![1]!
            .trim()
            .split(/\s+/)
          const approved = await npx(
            `npx flotilla apply --target ${name} ${addresses.map((a) => `--approve ${a}`).join(' ')}`,
            cwd,
          )
          expect(approved.code, approved.stdout + approved.stderr).toBe(0)
          snapshot = /^Snapshot (snap-[\w-]+) taken/m.exec(approved.stdout)![1]!
          execFileSync('git', ['checkout', '--', 'inventory'], { cwd })
        },
      },
      after: {
        // The README's "--clear to stop", before what comes next meets the throttling.
        'npx flotilla sim fault --kind throttling --rate 0.5 --for 300': async (cwd) => {
          const cleared = await npx('npx flotilla sim fault --clear', cwd)
          expect(cleared.code, cleared.stderr).toBe(0)
        },
      },
    })
    expect(problems).toEqual([])
  }, 600_000)
})

describe('docs/getting-started.md, beside the running server', () => {
  test('every command line of its blocks: exit codes and output', async () => {
    const problems = await runBlocks(shBlocks(join(checkout, 'docs', 'getting-started.md')), checkout, {
      after: {
        // What the guide's reader did between its blocks: a commit of their own, a branch to
        // review, and (in CI) the branch a pull request merges into.
        'npx flotilla init my-fleet --example --accounts 20 --clusters 15 --seed 7': async (cwd) => {
          const repo = join(cwd, 'my-fleet')
          execFileSync('git', ['update-ref', 'refs/remotes/origin/main', 'HEAD'], { cwd: repo })
          writeFileSync(
            join(repo, 'fleet.yaml'),
            `${readFileSync(join(repo, 'fleet.yaml'), 'utf8')}# reviewed\n`,
          )
          await commitAll(repo, 'A comment')
          await commitOnBranch(repo, 'my-branch', (dir) => retainLogsLonger(dir))
        },
      },
    })
    expect(problems).toEqual([])
    expect(readFileSync(join(checkout, 'my-fleet', 'plan.md'), 'utf8')).toMatch(/no changes/i)
    expect(readFileSync(join(checkout, 'my-fleet', 'test.md'), 'utf8')).toMatch(/nothing to test/)
  }, 600_000)
})
