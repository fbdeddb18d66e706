/**
 * `flotilla users`: the way back in when the admin token is lost — the API mints tokens only for
 * someone signed in. With direct access to the store, a token is minted for admin, the server
 * accepts it, and the audit log says the command did it; disabling keeps its rules.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { serveCommand } from '../src/cli/commands/serve.ts'
import type { CliIo } from '../src/cli/io.ts'
import { cliActor } from '../src/cli/operator.ts'
import { exampleRepo } from './support/rollout-fleet.ts'
import { runCaptured } from './support/run-cli.ts'
import { pollUntil } from './support/sim-cli.ts'

let repo = ''
let dispose = () => {}

beforeAll(async () => {
  ;({ repo, dispose } = await exampleRepo({ accounts: 10, clusters: 4 }))
})

afterAll(() => dispose())

/** Serves the repository until `use` is done; gives it the URL and the first start's admin token, if shown. */
async function serving<T>(use: (url: string, firstToken: string | undefined) => Promise<T>): Promise<T> {
  const out: string[] = []
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => out.push(t), isTTY: false, cwd: repo }
  const stop = new AbortController()
  const served = serveCommand({ repo, port: 0 }, io, stop.signal)
  try {
    const text = await pollUntil(
      async () => out.join(''),
      (t) => /Admin token: /.test(t),
      60_000,
    )
    const url = /on (http:\S+)/.exec(text)?.[1]
    if (!url) throw new Error(`the server did not start: ${text}`)
    return await use(url, /Admin token: (flt_\S+)/.exec(text)?.[1])
  } finally {
    stop.abort()
    await served
  }
}

const users = (...argv: string[]) => runCaptured(['users', ...argv, '--repo', repo])

describe('flotilla users', () => {
  test('a lost admin token: "users token admin" mints one the server accepts, audited as the command', async () => {
    // The first start shows admin's token once; say it was lost.
    const first = await serving(async (_url, token) => token)
    expect(first).toMatch(/^flt_/)

    const minted = await users('token', 'admin', '--format', 'json')
    expect(minted.code, minted.stderr).toBe(0)
    const { token, id, expiresAt } = JSON.parse(minted.stdout) as {
      token: string
      id: string
      expiresAt: null
    }
    expect(token).toMatch(/^flt_/)
    expect(token).not.toBe(first)
    expect(expiresAt).toBeNull()

    const listed = await users('list', '--format', 'json')
    expect(listed.code, listed.stderr).toBe(0)
    expect(JSON.parse(listed.stdout)).toMatchObject({
      users: [{ name: 'admin', role: 'admin', disabledAt: null }],
    })
    expect((await users('list')).stdout).toMatch(/^admin {2}admin {5}enabled\n$/)

    await serving(async (url, shown) => {
      expect(shown).toBeUndefined() // not a first start: no token shown, the hint says how to mint one
      const auth = { authorization: `Bearer ${token}` }
      const me = await fetch(`${url}/api/me`, { headers: auth })
      expect(me.status).toBe(200)
      expect(await me.json()).toMatchObject({ name: 'admin', role: 'admin' })
      const audit = await fetch(`${url}/api/audit?action=token-create`, { headers: auth })
      const { entries } = (await audit.json()) as { entries: { actor: string; source: string }[] }
      expect(entries).toContainEqual(expect.objectContaining({ actor: cliActor(), source: 'cli' }))
      expect(JSON.stringify(entries)).toContain(id)
    })
  })

  test('disable and enable keep their rules: never the last admin, never a user that does not exist', async () => {
    const last = await users('disable', 'admin')
    expect(last.code).toBe(1)
    expect(last.stderr).toBe(
      'error: admin is the last enabled admin and cannot be disabled: make another user an admin first\n',
    )
    const nobody = await users('token', 'nobody')
    expect(nobody.code).toBe(1)
    expect(nobody.stderr).toBe('error: no user nobody\n')
    const enabled = await users('enable', 'admin')
    expect(enabled.code).toBe(1)
    expect(enabled.stderr).toBe('error: user admin is enabled already\n')
  })
})
