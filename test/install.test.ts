/**
 * The CLI installed as a user installs it outside the checkout: `npm pack` of a fresh checkout
 * gives a package with the compiled CLI and without the tests, and `npm install -g` of it into an
 * empty prefix puts a `flotilla` on that prefix's PATH that starts at once (the compiled CLI, not
 * the sources through tsx) and works from any directory — its store included. The packages come
 * from npm's cache, which `npm ci` filled; what the cache lacks (package metadata) from the
 * registry, as for any `npm install`.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { freshCheckout, userEnvironment } from './support/fresh-checkout.ts'

let checkout = ''
let work = ''
let prefix = ''
let files: string[] = []
const env = userEnvironment()

beforeAll(() => {
  checkout = freshCheckout()
  work = mkdtempSync(join(tmpdir(), 'flotilla-install-'))
  prefix = join(work, 'prefix')
  mkdirSync(prefix)
  // `npm pack` runs the prepare script (the build) first, as publishing would.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: checkout,
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .replace(/^[^[]*/, ''),
  ) as { filename: string; files: { path: string }[] }[]
  files = packed[0]!.files.map((f) => f.path)
  execFileSync(
    'npm',
    [
      'install',
      '--global',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--prefix',
      prefix,
      join(work, packed[0]!.filename),
    ],
    { cwd: work, env, stdio: 'ignore' },
  )
}, 300_000)

afterAll(() => {
  if (checkout) rmSync(dirname(checkout), { recursive: true, force: true })
  if (work) rmSync(work, { recursive: true, force: true })
})

/** Runs the installed `flotilla` from the work folder, with the prefix's bin first on PATH. */
function flotilla(...argv: string[]): string {
  return execFileSync('flotilla', argv, {
    cwd: work,
    env: { ...env, PATH: `${join(prefix, 'bin')}:${env.PATH}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).toString()
}

describe('the packed CLI, installed into an empty prefix', () => {
  test('the package holds the compiled CLI and its sources, not the tests or the build of a fleet', () => {
    expect(files).toEqual(
      expect.arrayContaining(['bin/flotilla.js', 'dist/bin.js', 'dist/stamp.json', 'package.json']),
    )
    expect(files.filter((f) => /\.test\.ts$|^test\/|^example-fleet\/|\.flotilla\//.test(f))).toEqual([])
    expect(readdirSync(join(prefix, 'bin'))).toContain('flotilla')
  })

  test('runs from any directory: version, init, validate, and a store of its own', () => {
    expect(flotilla('--version').trim()).toBe('0.1.0')
    expect(flotilla('--help')).toMatch(/rollout/)
    expect(flotilla('init', 'fleet', '--example', '--accounts', '10', '--clusters', '4')).toMatch(
      /Created an example fleet \(10 accounts, 4 clusters, seed 1\)/,
    )
    expect(flotilla('validate', '--repo', 'fleet')).toMatch(/fleet: valid/)
    expect(flotilla('sim', 'status', '--repo', 'fleet', '--format', 'json')).toMatch(/"accounts": 10/)
  }, 120_000)

  test('starts the compiled CLI, not the sources through tsx', async () => {
    // Without a build of its own sources, bin/entry.js would run them through tsx: slower, heavier.
    const installed = join(prefix, 'lib', 'node_modules', 'flotilla')
    const { isFresh } = (await import(join(installed, 'bin', 'dist-stamp.js'))) as {
      isFresh: (root: string, dist: string) => boolean
    }
    expect(isFresh(installed, `${join(installed, 'dist')}/`)).toBe(true)
  })
})
