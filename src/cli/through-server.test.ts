import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { LOCAL_LINK_FILE, readLocalLink, recordLocalLink } from '../app/local-link.ts'
import type { CliIo } from './io.ts'
import { relayedArgv, serverFor } from './through-server.ts'

describe('relayedArgv', () => {
  test('drops the options of another repository, store or server, in both spellings', () => {
    expect(
      relayedArgv(
        [
          'apply',
          '--repo',
          'fleet',
          '--target',
          'shop',
          '--data=/x',
          '--server',
          'http://h:1',
          '--format',
          'json',
        ],
        '/home/me',
      ),
    ).toEqual(['apply', '--target', 'shop', '--format', 'json'])
    expect(relayedArgv(['plan', '--repo=.', '--server=http://h:1'], '/w')).toEqual(['plan'])
  })

  test('makes a file path absolute against the directory the command was run in', () => {
    expect(relayedArgv(['apply', '--approvals', 'a.yaml'], '/home/me/fleet')).toEqual([
      'apply',
      '--approvals',
      '/home/me/fleet/a.yaml',
    ])
    expect(relayedArgv(['apply', '--approvals=/etc/a.yaml'], '/w')).toEqual([
      'apply',
      '--approvals',
      '/etc/a.yaml',
    ])
  })
})

describe('serverFor', () => {
  let dir = ''
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-link-'))
    mkdirSync(join(dir, '.flotilla'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))
  const io = (): CliIo => ({ stdout: () => {}, stderr: () => {}, isTTY: false, cwd: dir })
  const none = {} as NodeJS.ProcessEnv

  test('finds the server that holds the embedded store through its record, readable by the user only, and forgets it when it stops', () => {
    expect(serverFor({}, io(), none)).toBeUndefined()
    const remove = recordLocalLink(join(dir, '.flotilla'), {
      url: 'http://127.0.0.1:8080',
      pid: process.pid,
      token: 't',
    })
    expect(statSync(join(dir, '.flotilla', LOCAL_LINK_FILE)).mode & 0o777).toBe(0o600)
    expect(serverFor({}, io(), none)).toMatchObject({ url: 'http://127.0.0.1:8080', token: 't', local: true })
    // --data names the folder; --repo the repository whose .flotilla it is.
    expect(serverFor({ data: join(dir, 'elsewhere') }, io(), none)).toBeUndefined()
    expect(serverFor({ repo: '..' }, { ...io(), cwd: join(dir, '.flotilla') }, none)).toBeDefined()
    // With PostgreSQL, several processes share the store: a command opens it itself.
    expect(
      serverFor({}, io(), { FLOTILLA_DATABASE_URL: 'postgres://h/db' } as NodeJS.ProcessEnv),
    ).toBeUndefined()
    remove()
    expect(serverFor({}, io(), none)).toBeUndefined()
  })

  test('a record left by a killed server, or a damaged one, is no server', () => {
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString()
    const path = join(dir, '.flotilla', LOCAL_LINK_FILE)
    writeFileSync(path, JSON.stringify({ url: 'http://127.0.0.1:1', pid: Number(dead), token: 't' }))
    expect(readLocalLink(join(dir, '.flotilla'))).toBeUndefined()
    for (const text of [
      '{',
      '[]',
      '{"url":1,"pid":1,"token":"t"}',
      JSON.stringify({ url: 'u', token: 't' }),
    ]) {
      writeFileSync(path, text)
      expect(serverFor({}, io(), none)).toBeUndefined()
    }
  })

  test('a named server needs a token, unless it is the one that holds the store here; a bad URL is an input error', () => {
    expect(
      serverFor({ server: 'http://127.0.0.1:9/x' }, io(), { FLOTILLA_TOKEN: 'flt_x' } as NodeJS.ProcessEnv),
    ).toMatchObject({
      url: 'http://127.0.0.1:9',
      token: 'flt_x',
      local: false,
    })
    expect(
      serverFor({}, io(), {
        FLOTILLA_SERVER: 'https://f.example.com',
        FLOTILLA_TOKEN: 't',
      } as NodeJS.ProcessEnv)?.url,
    ).toBe('https://f.example.com')
    expect(() => serverFor({ server: 'http://127.0.0.1:9' }, io(), none)).toThrow(
      /needs a token: set FLOTILLA_TOKEN/,
    )
    recordLocalLink(join(dir, '.flotilla'), { url: 'http://127.0.0.1:9', pid: process.pid, token: 'local' })
    expect(serverFor({ server: 'http://127.0.0.1:9' }, io(), none)).toMatchObject({
      token: 'local',
      local: true,
    })
    for (const bad of ['nope', 'ftp://h', '127.0.0.1:8080'])
      expect(() => serverFor({ server: bad }, io(), none)).toThrow(
        /is not a server's URL; write it as http:\/\/HOST:PORT/,
      )
  })

  test('the record is written whole and removed only while it is still this server’s', () => {
    const folder = join(dir, '.flotilla')
    const first = recordLocalLink(folder, { url: 'http://127.0.0.1:1', pid: process.pid, token: 'a' })
    recordLocalLink(folder, { url: 'http://127.0.0.1:2', pid: process.pid, token: 'b' })
    first() // the first server stops after a second took over the record: the second's stays
    expect(readLocalLink(folder)).toMatchObject({ token: 'b' })
  })
})
