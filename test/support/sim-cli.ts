/**
 * End-to-end helpers for the commands of the simulated fleet: an example fleet repository with a
 * store of its own (the embedded PGlite under the repository, or a fresh PostgreSQL schema), the
 * CLI run in-process or as a real `node bin/flotilla.js` process, DNS questions, bounded waits.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Resolver } from 'node:dns/promises'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadValidFleet } from '../../src/cli/repository.ts'
import type { Fleet, Target } from '../../src/core/model/fleet-model.ts'
import type { PolicyClock } from '../../src/core/policy/policy-time.ts'
import { writeExampleFleet } from '../../src/example/write-example.ts'
import { DATABASE_URL_VARIABLE } from '../../src/store/database.ts'
import { type TestBackend, withClient } from '../../src/store/test-store.ts'
import { type CliRun, runCaptured } from './run-cli.ts'

/** The installed entry point, as `npx flotilla` runs it. */
export const FLOTILLA_BIN = fileURLToPath(new URL('../../bin/flotilla.js', import.meta.url))

/** What policies see as now: a Tuesday, outside the example's Cyber Week freeze and weekend rule. */
export const NOW = '2026-11-10T10:00:00Z'

/**
 * The clock of the commands {@link SimFleet.cli} runs in this process: always {@link NOW}, so the
 * example's weekend and freeze rules do not pass or fail by the day the tests run. (`--now` is
 * refused by the commands that change the fleet; a real process sees the real clock.)
 */
export const TEST_CLOCK: PolicyClock = () => ({ at: new Date(NOW).toISOString(), source: 'clock' })

/** A real `flotilla` process and what it printed so far. */
export interface CliProcess {
  readonly child: ChildProcess
  readonly pid: number
  stdout(): string
  stderr(): string
  /** Resolves when the process ended (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** The first line the process printed on stdout. */
  firstStdoutLine(timeoutMs: number): Promise<string>
  /** Resolves once the process printed anything on stderr, or ended. */
  firstStderrOrExit(timeoutMs: number): Promise<void>
  /** Waits for the end of the process, at most `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** An example fleet repository with a store of its own, and ways to run the CLI on both. */
export interface SimFleet {
  readonly repo: string
  readonly fleet: Fleet
  readonly backend: TestBackend
  /** Environment of the CLI: `FLOTILLA_DATABASE_URL` on PostgreSQL, unset (`undefined`) on PGlite. */
  readonly env: Environment
  /** Runs the CLI in this process, with `--repo` of the fleet appended, at {@link TEST_CLOCK}. */
  cli(...argv: string[]): Promise<CliRun>
  /** Runs `use` in this process with the fleet's store environment (a command called directly). */
  inProcess<T>(use: () => Promise<T>): Promise<T>
  /** Starts `node bin/flotilla.js ARGV --repo REPO` as a process of its own. */
  spawn(...argv: string[]): CliProcess
  /** Kills what is still running, drops the PostgreSQL schema and removes the repository. */
  dispose(): Promise<void>
}

/**
 * Writes `flotilla init --example --accounts 20 --clusters 15 --seed 7` into a new temporary
 * directory and gives it a store: PGlite under `<repo>/.flotilla`, or on PostgreSQL
 * (`TEST_DATABASE_URL`) a fresh schema `flotilla_e2e_<random>` through `search_path`.
 */
export async function simFleet(backend: TestBackend): Promise<SimFleet> {
  const parent = mkdtempSync(join(tmpdir(), 'flotilla-sim-'))
  const repo = join(parent, 'fleet')
  await writeExampleFleet(repo, { accounts: 20, clusters: 15, seed: '7' })
  const { fleet } = await loadValidFleet({ repo }, process.cwd())
  // A FLOTILLA_DATABASE_URL of the shell running the tests must not turn PGlite into PostgreSQL.
  let env: Environment = { [DATABASE_URL_VARIABLE]: undefined }
  let dropSchema = async () => {}
  if (backend === 'postgres') {
    const url = process.env.TEST_DATABASE_URL
    if (!url) throw new Error('TEST_DATABASE_URL is not set')
    const schema = `flotilla_e2e_${randomBytes(6).toString('hex')}`
    await withClient(url, (client) => client.query(`create schema ${schema}`))
    dropSchema = () =>
      withClient(url, (client) => client.query(`drop schema ${schema} cascade`)).then(() => {})
    const scoped = new URL(url)
    scoped.searchParams.set('options', `-c search_path=${schema}`)
    env = { [DATABASE_URL_VARIABLE]: scoped.toString() }
  }
  const children = new Set<CliProcess>()
  return {
    repo,
    fleet,
    backend,
    env,
    cli: (...argv) =>
      withEnvironment(env, () => runCaptured([...argv, '--repo', repo], process.cwd(), TEST_CLOCK)),
    inProcess: (use) => withEnvironment(env, use),
    spawn(...argv) {
      const started = spawnCli([...argv, '--repo', repo], env)
      children.add(started)
      void started.exited.then(() => children.delete(started))
      return started
    },
    async dispose() {
      for (const child of children) child.child.kill('SIGKILL')
      await Promise.all([...children].map((child) => child.exited))
      await dropSchema()
      rmSync(parent, { recursive: true, force: true }) // an embedded store is some 40 MB
    },
  }
}

/** Variables to set, or with `undefined`, to unset. */
export type Environment = Readonly<Record<string, string | undefined>>

/** Runs `use` with `env` applied to `process.env` (in-process commands read it), then restores it. */
export async function withEnvironment<T>(env: Environment, use: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]))
  applyEnvironment(env)
  try {
    return await use()
  } finally {
    applyEnvironment(saved)
  }
}

function applyEnvironment(env: Environment): void {
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
}

/** Starts `node bin/flotilla.js ARGV` with this process's environment, changed by `env`. */
export function spawnCli(argv: readonly string[], env: Environment = {}): CliProcess {
  const environment: NodeJS.ProcessEnv = { ...process.env }
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete environment[key]
    else environment[key] = value
  }
  const child = spawn(process.execPath, [FLOTILLA_BIN, ...argv], {
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    out += text
  })
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    err += text
  })
  // 'close', not 'exit': by then everything the process printed has been read.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }))
  })
  const what = `flotilla ${argv.join(' ')}`
  const until = (ready: () => boolean, stream: NodeJS.ReadableStream, timeoutMs: number, waited: string) =>
    within(
      new Promise<void>((resolve) => {
        const check = () => {
          if (!ready()) return
          stream.off('data', check)
          resolve()
        }
        stream.on('data', check)
        void exited.then(() => {
          stream.off('data', check)
          resolve()
        })
        check()
      }),
      timeoutMs,
      `${waited} of ${what}`,
    )
  return {
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    exited,
    async firstStdoutLine(timeoutMs) {
      await until(() => out.includes('\n'), child.stdout, timeoutMs, 'the first stdout line')
      if (!out.includes('\n'))
        throw new Error(`${what} ended (${JSON.stringify(await exited)}) before a line:\n${out}\n${err}`)
      return out.slice(0, out.indexOf('\n'))
    },
    firstStderrOrExit: (timeoutMs) => until(() => err.length > 0, child.stderr, timeoutMs, 'stderr output'),
    waitForExit: (timeoutMs) => within(exited, timeoutMs, `the end of ${what}`),
  }
}

/** `promise`, or a rejection naming `what` when it takes longer than `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${what}`)), timeoutMs)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Asks the DNS server at `server` (`host:port`) for the A records of `name`: the addresses, or
 * the error code the resolver gave (`ENOTFOUND` for NXDOMAIN, `EREFUSED` for a name in no zone).
 */
export async function askA(server: string, name: string): Promise<string[] | string> {
  const resolver = new Resolver({ timeout: 1000, tries: 2 })
  resolver.setServers([server])
  try {
    return await resolver.resolve4(name)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error)
  }
}

/**
 * A production account of the example that runs the shop behind the ingress of its own cluster
 * (so the shop's name is a record external-dns writes into the account's zone), and that cluster.
 */
export function shopAccount(fleet: Fleet): { account: Target; cluster: Target; shopName: string } {
  for (const account of fleet.targets) {
    if (account.kind !== 'account' || account.environment !== 'production') continue
    if (account.group === 'ops' || account.lifecycle !== 'active') continue
    if (typeof account.config.dns_domain !== 'string') continue
    const cluster = fleet.targets.find(
      (t) =>
        t.kind === 'cluster' &&
        t.account === account.id &&
        String(t.config.ingress_domain ?? '').endsWith(`.${account.config.dns_domain}`),
    )
    if (cluster) return { account, cluster, shopName: `shop.${String(cluster.config.ingress_domain)}` }
  }
  throw new Error('the example fleet has no production account with a cluster under its zone')
}

/**
 * Removes the example's time rules (`policies/freeze.yaml`: the weekend and Cyber Week rules) from
 * the working tree of `repo`, for tests of real processes: they see the real clock, and their
 * production changes would need approvals on some days and not on others. Commit to use it at HEAD.
 */
export function withoutTimeRules(repo: string): void {
  rmSync(join(repo, 'policies', 'freeze.yaml'))
}

/** Replaces the one occurrence of `from` in a file of the repository. */
export function replaceOnce(repo: string, file: string, from: string, to: string): void {
  const path = join(repo, file)
  const text = readFileSync(path, 'utf8')
  const count = text.split(from).length - 1
  if (count !== 1) throw new Error(`${file} holds ${JSON.stringify(from)} ${count} times, not once`)
  writeFileSync(
    path,
    text.replace(from, () => to),
  )
}

/** `sim status --format json`, parsed. */
export async function simStatus(fleet: SimFleet): Promise<SimStatusJson> {
  const run = await fleet.cli('sim', 'status', '--format', 'json')
  if (run.code !== 0) throw new Error(`sim status exited ${run.code}: ${run.stderr}`)
  return JSON.parse(run.stdout) as SimStatusJson
}

/** The parts of `sim status --format json` the tests read. */
export interface SimStatusJson {
  readonly settings: { latencyScale: number }
  readonly stacks: Record<string, number>
  readonly objects: { total: number; ready: number }
  readonly zones: number
  readonly services: { total: number; healthy: number; down: string[] }
  readonly faults: { id: string; kind: string }[]
  readonly snapshots: number
}

/** Calls `probe` every 100 ms until `done` holds for its value or `timeoutMs` passed; returns the last value. */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (done(value) || Date.now() >= deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
