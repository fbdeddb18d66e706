/**
 * Failing clearly, never silently. A server that cannot start says why in one line, exits 1 and
 * leaves nothing behind — a port in use, a store another server holds, a damaged store, a
 * database it cannot reach — whether started as `flotilla serve` or as `npm start`
 * (`bin/start.js`, which takes its port from `PORT`); and following a rollout that nothing runs
 * says so instead of waiting in silence.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { openApplication } from '../src/app/open-application.ts'
import { followRollout, UNRUN_NOTE_MS } from '../src/cli/commands/rollout.ts'
import { serveCommand } from '../src/cli/commands/serve.ts'
import type { CliIo } from '../src/cli/io.ts'
import { abortRollout } from '../src/rollout/controls.ts'
import { cliAs, closedPort, exampleRepo } from './support/rollout-fleet.ts'
import { pollUntil, simFleet } from './support/sim-cli.ts'

const START = new URL('../bin/start.js', import.meta.url).pathname
const FLOTILLA = new URL('../bin/flotilla.js', import.meta.url).pathname

let repo = ''
let dispose = () => {}

beforeAll(async () => {
  ;({ repo, dispose } = await exampleRepo({ accounts: 10, clusters: 4 }))
})

afterAll(() => dispose())

/** A loopback port held by something else, and how to let it go. */
async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { port: address.port, server }
}

/** Runs a Node.js script to its end (or kills it after 90 s) and returns what it printed. */
function runScript(
  script: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: repo,
      env: { ...process.env, FLOTILLA_DATABASE_URL: '', ...env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Waits until what was printed to `lines` matches `pattern` (failing after a minute). */
async function printed(lines: readonly string[], pattern: RegExp): Promise<void> {
  const text = await pollUntil(
    async () => lines.join(''),
    (t) => pattern.test(t),
    60_000,
  )
  expect(text).toMatch(pattern)
}

/** `flotilla serve` in this process until `stop` aborts; its output so far in `out`. */
function serveHere(stop: AbortSignal, out: string[]) {
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => out.push(t), isTTY: false, cwd: repo }
  return serveCommand({ repo, port: 0 }, io, stop)
}

describe('a server that cannot start', () => {
  test('flotilla serve on a port in use: one line, exit 1; nothing was started, and the admin token of the first start is still to be shown', async () => {
    const { port, server } = await occupiedPort()
    const out: string[] = []
    try {
      const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => out.push(t), isTTY: false, cwd: repo }
      await expect(serveCommand({ repo, port }, io)).rejects.toThrow(
        `port ${port} on 127.0.0.1 is in use (by another Flotilla, or another program); choose another with --port`,
      )
    } finally {
      server.close()
    }
    expect(out.join('')).not.toMatch(/rollout worker|Admin token/)

    // The failed start minted no admin token nobody saw: the next start shows the first one.
    const stop = new AbortController()
    const next: string[] = []
    const serving = serveHere(stop.signal, next)
    try {
      await printed(next, /Admin token: flt_\S+/)
    } finally {
      stop.abort()
      await serving
    }
  })

  test('npm start on a port in use says to set PORT, exits 1 and leaves nothing running', async () => {
    const { port, server } = await occupiedPort()
    try {
      const run = await runScript(START, [], { PORT: String(port), FLOTILLA_EXAMPLE_DIR: repo })
      expect(run.code, run.stderr).toBe(1)
      expect(run.stderr).toBe(
        `error: port ${port} on 127.0.0.1 is in use (by another Flotilla, or another program); choose another with PORT, e.g. PORT=8081 npm start\n`,
      )
    } finally {
      server.close()
    }
  })

  test('a second server on a store in use — flotilla serve or npm start — names the process holding it, exit 1, no stack trace', async () => {
    const stop = new AbortController()
    const out: string[] = []
    const serving = serveHere(stop.signal, out)
    try {
      await printed(out, /on http:\S+/)
      const held = `error: the embedded store in ${repo}/.flotilla is in use by process ${process.pid}`
      const serve = await runScript(FLOTILLA, ['serve', '--port', '0'], {})
      expect(serve.code, serve.stderr).toBe(1)
      expect(serve.stderr.split('\n')[0]).toContain(held)
      expect(serve.stderr).not.toMatch(/\n\s+at /)
      const start = await runScript(START, [], { PORT: '0', FLOTILLA_EXAMPLE_DIR: repo })
      expect(start.code, start.stderr).toBe(1)
      expect(start.stderr.split('\n')[0]).toContain(held)
      expect(start.stderr).not.toMatch(/\n\s+at /)
    } finally {
      stop.abort()
      await serving
    }
  })

  test('a bad FLOTILLA_DATABASE_URL is a connection error naming the URL without its password: exit 1, no stack trace', async () => {
    const port = await closedPort()
    const url = `postgres://flotilla:s3cret@127.0.0.1:${port}/fleet`
    for (const [script, args] of [
      [FLOTILLA, ['sim', 'status']],
      [START, []],
    ] as const) {
      const run = await runScript(script, args, {
        FLOTILLA_DATABASE_URL: url,
        PORT: '0',
        FLOTILLA_EXAMPLE_DIR: repo,
      })
      expect(run.code, run.stderr).toBe(1)
      expect(run.stderr).toMatch(
        new RegExp(
          `^error: cannot connect to the PostgreSQL server of FLOTILLA_DATABASE_URL \\(postgres://flotilla:\\*\\*\\*@127\\.0\\.0\\.1:${port}/fleet\\): .*ECONNREFUSED.*; check the URL and that the server runs\\n$`,
        ),
      )
      expect(run.stderr).not.toContain('s3cret')
    }
    // The password written other ways: as a parameter, and in a URL without its scheme.
    for (const [written, shown] of [
      [
        `postgres://flotilla@127.0.0.1:${port}/fleet?password=s3cret`,
        `postgres://flotilla@127.0.0.1:${port}/fleet?password=***`,
      ],
      [
        `flotilla:s3cret@127.0.0.1:${port}/fleet`,
        'not a postgres:// URL; write it as postgres://user:password@host:5432/database',
      ],
    ] as const) {
      const run = await runScript(FLOTILLA, ['sim', 'status'], { FLOTILLA_DATABASE_URL: written })
      expect(run.code, run.stderr).toBe(1)
      expect(run.stderr).toContain(
        `error: cannot connect to the PostgreSQL server of FLOTILLA_DATABASE_URL (${shown}): `,
      )
      expect(run.stderr).not.toContain('s3cret')
    }
  })

  test('a damaged embedded store is refused, named and left as it is: no PG_VERSION, a truncated pg_control', async () => {
    const data = mkdtempSync(join(tmpdir(), 'flotilla-damaged-'))
    try {
      const made = await runScript(FLOTILLA, ['sim', 'status', '--data', data], {})
      expect(made.code, made.stderr).toBe(0)
      const pgdata = join(data, 'pgdata')

      rmSync(join(pgdata, 'PG_VERSION'))
      const files = readdirSync(pgdata).sort()
      const missing = await runScript(FLOTILLA, ['sim', 'status', '--data', data], {})
      expect(missing.code, missing.stderr).toBe(1)
      expect(missing.stderr).toBe(
        `error: the embedded store in ${pgdata} is damaged or not a Flotilla store: the folder holds files but no PG_VERSION; restore it from a backup, or move it aside to start a new, empty store\n`,
      )
      expect(readdirSync(pgdata).sort()).toEqual(files) // no new database made among its files

      writeFileSync(join(pgdata, 'PG_VERSION'), '17\n')
      truncateSync(join(pgdata, 'global', 'pg_control'), 100)
      const truncated = await runScript(FLOTILLA, ['sim', 'status', '--data', data], {})
      expect(truncated.code, truncated.stderr).toBe(1)
      expect(truncated.stderr).toMatch(
        new RegExp(
          `^error: the embedded store in ${pgdata.replaceAll('.', '\\.')} cannot be opened \\(.+\\): its files are damaged; restore the folder from a backup, or move it aside to start a new, empty store\\n$`,
        ),
      )
    } finally {
      rmSync(data, { recursive: true, force: true })
    }
  })

  test('rollout status --follow on a rollout that nothing runs says so within seconds, and how to run it; Ctrl-C stops the following, not the rollout (exit 130)', async () => {
    const sim = await simFleet('pglite')
    try {
      const started = await cliAs(sim, 'alice', 'rollout', 'start')
      expect(started.code, started.stderr).toBe(0)
      const status = await sim.cli('rollout', 'status', '--format', 'json')
      const { id, state } = JSON.parse(status.stdout) as { id: string; state: string }
      expect(state).toBe('running')
      const note = `Nothing runs rollout ${id}: no server has taken it up and no "flotilla rollout resume ${id} --wait" runs it, so it makes no progress. Run it here with: flotilla rollout resume ${id} --wait (or start a server: flotilla serve). Still following.\n`

      const app = await openApplication({ cwd: sim.repo })
      try {
        const said: string[] = []
        const io: CliIo = { stdout: () => {}, stderr: (t) => said.push(t), isTTY: false, cwd: sim.repo }
        const following = followRollout(app, id, io, true)
        const text = await pollUntil(
          async () => said.join(''),
          (t) => t.length > 0,
          UNRUN_NOTE_MS + 10_000,
        )
        expect(text).toBe(note)
        await abortRollout(app.db, id, { actor: 'alice', source: 'cli' })
        expect(await following).toBe(3)
        expect(said).toHaveLength(1) // said once
      } finally {
        await app.close()
      }

      // As a process, with a second rollout: Ctrl-C ends the following and says what becomes of it.
      expect((await cliAs(sim, 'alice', 'rollout', 'start')).code).toBe(0)
      const second = (
        JSON.parse((await sim.cli('rollout', 'status', '--format', 'json')).stdout) as { id: string }
      ).id
      const child = spawn(
        process.execPath,
        [FLOTILLA, 'rollout', 'status', second, '--follow', '--repo', sim.repo],
        {
          env: { ...process.env, FLOTILLA_DATABASE_URL: '' },
        },
      )
      let stderr = ''
      child.stderr.on('data', (chunk) => {
        stderr += chunk
      })
      const ended = new Promise<number | null>((resolve) => child.on('close', resolve))
      await pollUntil(
        async () => stderr,
        (t) => t.includes('Nothing runs'),
        30_000,
      )
      child.kill('SIGINT')
      expect(await ended).toBe(130)
      expect(stderr).toContain(
        `Stopped following rollout ${second}; the rollout itself is running and goes on when something runs it: nothing does now (flotilla rollout resume ${second} --wait, or a server).\n`,
      )
      const after = JSON.parse((await sim.cli('rollout', 'status', second, '--format', 'json')).stdout) as {
        state: string
      }
      expect(after.state).toBe('running')
    } finally {
      await sim.dispose()
    }
  })
})
