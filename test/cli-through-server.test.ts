/**
 * The CLI and a running server side by side. While `flotilla serve` holds the embedded store, a
 * command of the store run in another process goes through the server — found through the record
 * in the store folder — with the output and exit code it has in its own process; a named server
 * (`--server`, `FLOTILLA_TOKEN`) decides by the caller's role what it may run; Ctrl-C reaches the
 * command in the server; and the record is gone once the server stops.
 */

import { existsSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Application } from '../src/app/application.ts'
import { LOCAL_LINK_FILE, readLocalLink } from '../src/app/local-link.ts'
import { openApplication } from '../src/app/open-application.ts'
import { serveApplication } from '../src/cli/commands/serve.ts'
import type { CliIo } from '../src/cli/io.ts'
import { buildProgram, runCli } from '../src/cli/main.ts'
import { cliActor } from '../src/cli/operator.ts'
import { fleetStop } from '../src/operations/fleet-stop.ts'
import { RELAYED_COMMANDS } from '../src/server/api/cli-relay.ts'
import { listAuditEntries } from '../src/store/audit.ts'
import { exampleRepo } from './support/rollout-fleet.ts'
import { type CliRun, runCaptured } from './support/run-cli.ts'
import { NOW, pollUntil, spawnCli, TEST_CLOCK, withEnvironment } from './support/sim-cli.ts'

let repo = ''
let dispose = () => {}
let app: Application
let url = ''
let adminToken = ''
const stop = new AbortController()
let served: Promise<number>
const serverOut: string[] = []

beforeAll(async () => {
  ;({ repo, dispose } = await exampleRepo({ accounts: 10, clusters: 4 }))
  // The embedded store, as `flotilla serve` opens it; policies see a fixed weekday.
  app = await openApplication({
    cwd: repo,
    env: { ...process.env, FLOTILLA_DATABASE_URL: '' },
    clock: TEST_CLOCK,
  })
  await app.simulator()!.updateSettings({ latencyScale: 0 })
  const io: CliIo = {
    stdout: (t) => serverOut.push(t),
    stderr: (t) => serverOut.push(t),
    isTTY: false,
    cwd: repo,
  }
  served = serveApplication(app, { repo, port: 0, now: NOW }, io, stop.signal, { runCommand: runCli })
  const text = await pollUntil(
    async () => serverOut.join(''),
    (t) => /Admin token: flt_/.test(t),
    60_000,
  )
  url = /on (http:\S+)/.exec(text)![1]!
  adminToken = /Admin token: (flt_\S+)/.exec(text)![1]!
}, 120_000)

afterAll(async () => {
  stop.abort()
  await served
  await app.close()
  dispose()
})

/** Runs the CLI in this process as a client: it finds the server as another process would. */
const cli = (...argv: string[]): Promise<CliRun> => runCaptured(argv, repo)

/** Runs the CLI with a named server and a token. */
const cliWith = (token: string, ...argv: string[]): Promise<CliRun> =>
  withEnvironment({ FLOTILLA_SERVER: url, FLOTILLA_TOKEN: token }, () => runCaptured(argv, '/'))

/** A user of a role with a token. */
async function tokenOf(name: string, role: 'viewer' | 'member'): Promise<string> {
  const by = { name: 'test', source: 'test' }
  await app.users.create(name, role, by)
  return (await app.users.mintToken(name, 'test', {}, undefined, by)).token
}

describe('the CLI while a server holds the embedded store', () => {
  test('the server records its URL and a credential for its OS user only', () => {
    const path = join(repo, '.flotilla', LOCAL_LINK_FILE)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(readLocalLink(join(repo, '.flotilla'))).toMatchObject({ url, pid: process.pid })
    expect(readLocalLink(join(repo, '.flotilla'))!.token).not.toBe(adminToken)
  })

  test('a command of the store in another process runs in the server: output and exit code as in its own process', async () => {
    const child = spawnCli(['sim', 'status', '--format', 'json', '--repo', repo], {
      FLOTILLA_DATABASE_URL: '',
    })
    const { code } = await child.waitForExit(60_000)
    expect(child.stderr()).toBe('')
    expect(code).toBe(0)
    const relayed = JSON.parse(child.stdout()) as { targets: { accounts: number }; settings: unknown }
    expect(relayed.targets.accounts).toBe(10)
    // The same command run by the server's own process, on its application.
    const direct: string[] = []
    const io: CliIo = {
      stdout: (t) => direct.push(t),
      stderr: (t) => direct.push(t),
      isTTY: false,
      cwd: repo,
      application: app,
    }
    expect(await runCli(['sim', 'status', '--format', 'json'], io)).toBe(0)
    expect(JSON.parse(direct.join(''))).toEqual({ ...relayed, seeded: 0 })
  }, 90_000)

  test('apply, plan and errors keep their exit codes; changes are audited as the OS user who ran them', async () => {
    const target = 'ops-monitoring'
    const applied = await cli('apply', '--target', target)
    expect(applied.code, applied.stderr).toBe(0)
    expect(applied.stdout).toMatch(/Applied \d+ operations to \d+ \(ops-monitoring\)/)
    const again = await cli('apply', '--target', target)
    expect(again.code, again.stderr).toBe(0)
    const audit = (await listAuditEntries(app.db)).find((e) => e.action === 'apply')
    expect(audit).toMatchObject({ actor: cliActor(), source: 'cli' })

    const plan = await cli('plan', '--format', 'json')
    expect(plan.code).toBe(2) // the other targets: changes, all allowed
    expect(JSON.parse(plan.stdout)).toMatchObject({ verdict: 'allowed' })

    const unknown = await cli('apply', '--target', 'no-such-target')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/^error: .*no-such-target/)
    const status = await cli('rollout', 'status', 'r-20260101-000000')
    expect(status.code).toBe(1)
    expect(status.stderr).toMatch(/no rollout r-20260101-000000/)
    // A bad option is the command's usage error, reported by the server's parse of it.
    const bad = await cli('sim', 'settings', '--latency-scale', 'fast')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/--latency-scale "fast" must be a number/)
  }, 120_000)

  test('a named server runs what the caller may run: reads for a viewer, changes for admins', async () => {
    const viewer = await tokenOf('vera', 'viewer')
    const member = await tokenOf('max', 'member')
    const read = await cliWith(viewer, 'sim', 'settings', '--format', 'json')
    expect(read.code).toBe(1) // settings may change them: an admin's
    expect(read.stderr).toMatch(
      /"flotilla sim settings" through the server takes an admin .*vera is a viewer/,
    )
    const status = await cliWith(viewer, 'rollout', 'status')
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toMatch(/No rollouts yet|Rollout r-/)
    const apply = await cliWith(member, 'apply', '--target', 'ops-monitoring')
    expect(apply.code).toBe(1)
    expect(apply.stderr).toMatch(
      /takes an admin \(or emergency access\); max is a member — the portal and the API/,
    )
    const users = await cliWith(member, 'users', 'list')
    expect(users.code).toBe(1)
    const admin = await cliWith(adminToken, 'sim', 'settings', '--format', 'json')
    expect(admin.code, admin.stderr).toBe(0)
    expect(JSON.parse(admin.stdout)).toMatchObject({ latencyScale: 0 })
    // The caller's name is the actor, not the OS user of the server.
    const stopped = await cliWith(viewer, 'stop', '--reason', 'drill of the brake')
    expect(stopped.code, stopped.stderr).toBe(0)
    expect(await fleetStop(app.db)).toMatchObject({ by: 'vera', reason: 'drill of the brake' })
    const unstop = await cliWith(viewer, 'unstop')
    expect(unstop.code).toBe(1)
    expect((await cliWith(adminToken, 'unstop')).code).toBe(0)

    // What only the server's own machine may name, and what is no command of the store.
    const file = join(repo, 'approvals.yaml')
    writeFileSync(file, '[]\n')
    const approvals = await cliWith(adminToken, 'apply', '--target', 'ops-monitoring', '--approvals', file)
    expect(approvals.code).toBe(1)
    expect(approvals.stderr).toMatch(
      /--approvals names a file, which the server cannot read from your machine/,
    )
    const wrong = await cliWith('flt_nobody', 'sim', 'status')
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/did not accept FLOTILLA_TOKEN: it is unknown, revoked or expired/)
    const raw = async (argv: string[], token = adminToken) =>
      fetch(`${url}/api/cli`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ argv }),
      })
    // No command outside the table, however it is named: another command, a word of no command,
    // a key every object has.
    for (const argv of [
      ['validate', '--repo', '/'],
      ['drill'],
      ['sim'],
      ['sim', 'serve-it'],
      ['constructor'],
      ['__proto__'],
      ['toString'],
      ['rollout', 'hasOwnProperty'],
      ['--repo', '/etc', 'sim', 'status'],
    ]) {
      const refused = await raw(argv)
      expect(refused.status, argv.join(' ')).toBe(400)
      expect(await refused.text()).toMatch(/does not run through a server/)
    }
    // Another repository or store, in either spelling; a file of the caller's machine, too.
    for (const argv of [
      ['sim', 'status', '--repo', '/etc'],
      ['sim', 'status', '--repo=/etc'],
      ['rollout', 'status', '--data', '/tmp'],
      ['snapshots', '--data=/tmp'],
      ['plan', '--server=http://127.0.0.1:9'],
      ['apply', '--target', 'ops-monitoring', `--approvals=${file}`],
    ]) {
      const refused = await raw(argv)
      expect(refused.status, argv.join(' ')).toBe(400)
      expect(await refused.text()).toMatch(/does not go through a server|names a file/)
    }
    // A viewer's token is not an admin's for a command that changes, however it is spelt.
    for (const argv of [
      ['sim', 'reset'],
      ['restore', 'snap-x'],
      ['users', 'token', 'admin'],
    ]) {
      const refused = await raw(argv, viewer)
      expect(refused.status, argv.join(' ')).toBe(403)
    }
    // The folder's credential runs CLI commands and nothing else: no route takes it as a sign-in.
    const local = readLocalLink(join(repo, '.flotilla'))!.token
    for (const path of ['/api/me', '/api/users', '/api/audit']) {
      const asLocal = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${local}` } })
      expect(asLocal.status, path).toBe(401)
    }
    const anonymous = await fetch(`${url}/api/cli`, {
      method: 'POST',
      body: JSON.stringify({ argv: ['sim', 'status'] }),
    })
    expect(anonymous.status).toBe(401)
  }, 120_000)

  test('Ctrl-C reaches the command in the server: following stops and says what becomes of the rollout (exit 130)', async () => {
    const started = await cli('rollout', 'start', '--format', 'json')
    expect(started.code, started.stderr).toBe(0)
    const { id } = JSON.parse(started.stdout) as { id: string }
    expect((await cli('rollout', 'pause', id)).code).toBe(0)
    const child = spawnCli(['rollout', 'status', id, '--follow', '--repo', repo], {
      FLOTILLA_DATABASE_URL: '',
    })
    await child.firstStdoutLine(60_000)
    child.child.kill('SIGINT')
    const { code } = await child.waitForExit(30_000)
    expect(child.stderr()).toMatch(
      new RegExp(`Stopped following rollout ${id}; the rollout itself is paused\\.`),
    )
    expect(code).toBe(130)

    // A caller that goes away without a word (a lost connection) interrupts the command just the
    // same; one user's long commands take at most 4 of the server's places.
    const gone = new AbortController()
    const follow = (signal: AbortSignal) =>
      fetch(`${url}/api/cli`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ argv: ['rollout', 'status', id, '--follow'] }),
        signal,
      })
    const runs: string[] = []
    for (let i = 0; i < 4; i++) {
      const reader = (await follow(gone.signal)).body!.getReader()
      const first = new TextDecoder().decode((await reader.read()).value)
      expect(first).toMatch(/^\{"run":"[\w-]+"\}\n/)
      runs.push((JSON.parse(first.split('\n')[0]!) as { run: string }).run)
    }
    // Another user cannot interrupt them, nor learn that they exist.
    const other = await tokenOf('walt', 'viewer')
    const foreign = await fetch(`${url}/api/cli/runs/${runs[0]}/interrupt`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other}` },
    })
    expect(foreign.status).toBe(404)
    const fifth = await follow(AbortSignal.timeout(10_000))
    expect(fifth.status).toBe(429)
    expect(await fifth.text()).toMatch(/admin runs 4 CLI commands through this server already/)
    gone.abort()
    // The callers are gone: their commands end, and their places are free again.
    const again = new AbortController()
    const status = await pollUntil(
      async () => {
        const response = await follow(again.signal)
        if (response.status !== 200) await response.text()
        return response.status
      },
      (code) => code === 200,
      10_000,
    )
    expect(status).toBe(200)
    again.abort()
    const after = await cli('sim', 'status', '--format', 'json')
    expect(after.code, after.stderr).toBe(0)
    expect(serverOut.join('')).not.toMatch(/Invalid state|internal error/)
    expect((await cli('rollout', 'abort', id)).code).toBe(0)
  }, 120_000)
})

describe('the commands of the store', () => {
  test('are those the server runs: every command with --server, and no other', () => {
    const program = buildProgram({ stdout: () => {}, stderr: () => {}, isTTY: false, cwd: repo }, () => {})
    const withServer: string[] = []
    const walk = (command: Command, words: string[]) => {
      if (command.options.some((o) => o.long === '--server')) withServer.push(words.join(' '))
      for (const sub of command.commands) walk(sub as Command, [...words, sub.name()])
    }
    walk(program as unknown as Command, [])
    expect(withServer.sort()).toEqual(Object.keys(RELAYED_COMMANDS).sort())
  })
})

describe('once the server stops', () => {
  test('its record is gone, and commands open the store themselves', async () => {
    stop.abort()
    expect(await served).toBe(0)
    expect(existsSync(join(repo, '.flotilla', LOCAL_LINK_FILE))).toBe(false)
  })
})
