import { spawnSync } from 'node:child_process'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isFresh, STAMP_FILE, type StampedFile } from '../bin/dist-stamp.js'
import { buildCli } from '../scripts/build.ts'
import { BASE_FILES, writeFixtureDir } from './support/fixture-fleet.ts'

// Commands start at once (issue 21): `flotilla` runs the compiled build of scripts/build.ts when it
// is fresh, the sources through tsx otherwise, and either way a command loads only the modules it
// needs. Each check runs the CLI as a real process with a loader hook that records every module
// it loads (support/record-modules.mjs).

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RECORDER = fileURLToPath(new URL('./support/record-modules.mjs', import.meta.url))

/** What one run of the CLI printed, returned and loaded. */
interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** The URL of every module it loaded, in order. */
  readonly modules: readonly string[]
}

let scratch: string
let fixture: string

/** Runs `node BIN ARGS` with the module recorder. */
function run(bin: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): Run {
  const record = join(mkdtempSync(join(scratch, 'run-')), 'modules.txt')
  writeFileSync(record, '')
  const child = spawnSync(process.execPath, ['--import', RECORDER, bin, ...args], {
    cwd: scratch,
    encoding: 'utf8',
    env: { ...process.env, FLOTILLA_FROM_SOURCE: '', ...env, FLOTILLA_RECORD_MODULES: record },
  })
  const modules = readFileSync(record, 'utf8').split('\n').filter(Boolean)
  return { code: child.status, stdout: child.stdout, stderr: child.stderr, modules }
}

/** The npm packages among `modules` (`@aws-sdk/client-sts`, `yaml`, …). */
function packages(modules: readonly string[]): Set<string> {
  const names = new Set<string>()
  for (const url of modules) {
    const match = /.*\/node_modules\/(@[^/]+\/[^/]+|[^/]+)\//.exec(url)
    if (match) names.add(match[1]!)
  }
  return names
}

/** Packages only a command that reaches the store, a provider or the server needs. */
const STORE_PROVIDER_SERVER = [
  '@electric-sql/pglite',
  'kysely',
  'pg',
  '@kubernetes/client-node',
  'hono',
  '@hono/node-server',
  'prom-client',
  'fast-xml-parser',
  'dns-packet',
]

/** Whether a package belongs to the store, a provider or the server. */
const isStoreProviderServer = (name: string) =>
  STORE_PROVIDER_SERVER.includes(name) || name.startsWith('@aws-sdk/')

/** The commands' modules: `--version` and `--help` load none of them. */
const COMMANDS = /\/src\/cli\/commands\//

/** Directories of src/ that `validate` has no use for (the drill's, but for its scenarios' names for --help). */
const NOT_FOR_VALIDATE =
  /\/src\/(store|server|providers|app|rollout|operations|controller)\/|\/src\/drill\/(?!scenario-names\.ts)/

/**
 * A copy of the project's entry (bin/) beside a build of its own, with src/ and the build's
 * configuration linked: the layout of the project, where this test may break the build's stamp
 * without touching the project's dist/.
 */
function projectCopy(name: string): { root: string; bin: string; dist: string } {
  const root = join(scratch, name)
  mkdirSync(join(root, 'scripts'), { recursive: true })
  cpSync(join(ROOT, 'bin'), join(root, 'bin'), { recursive: true })
  symlinkSync(join(ROOT, 'src'), join(root, 'src'))
  symlinkSync(join(ROOT, 'scripts', 'build.ts'), join(root, 'scripts', 'build.ts'))
  symlinkSync(join(ROOT, 'tsconfig.json'), join(root, 'tsconfig.json'))
  return { root, bin: join(root, 'bin', 'flotilla.js'), dist: join(root, 'dist') }
}

let built: { root: string; bin: string; dist: string }

beforeAll(async () => {
  // Inside the project: the build imports its packages from the project's node_modules.
  mkdirSync(join(ROOT, '.scratch'), { recursive: true })
  scratch = mkdtempSync(join(ROOT, '.scratch', 'cli-startup-'))
  fixture = writeFixtureDir(BASE_FILES)
  built = projectCopy('built')
  await buildCli(built.dist)
})

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true })
  if (fixture) rmSync(fixture, { recursive: true, force: true })
})

describe('a command imports only what it needs', () => {
  const ways = [
    { way: 'compiled (a fresh build)', bin: () => built.bin, env: {} },
    {
      way: 'from the sources (tsx)',
      bin: () => join(ROOT, 'bin', 'flotilla.js'),
      env: { FLOTILLA_FROM_SOURCE: '1' },
    },
  ]

  for (const { way, bin, env } of ways) {
    // The CLI's own packages, and tsx (with its esbuild) when it runs the sources.
    const startup = new Set(['commander', '@commander-js/extra-typings', 'tsx', 'esbuild'])

    test(`--version and --help load no package but commander, ${way}`, () => {
      for (const args of [['--version'], ['--help']]) {
        const result = run(bin(), args, env)
        expect(result.stderr).toBe('')
        expect(result.code).toBe(0)
        expect(result.stdout).toMatch(args[0] === '--version' ? /^0\.1\.0\n$/ : /^Usage: flotilla /)
        expect([...packages(result.modules)].filter((name) => !startup.has(name))).toEqual([])
        expect(result.modules.filter((url) => COMMANDS.test(url) || NOT_FOR_VALIDATE.test(url))).toEqual([])
      }
    })

    test(`validate loads no store, provider or server, ${way}`, () => {
      const result = run(bin(), ['validate', '--repo', fixture], env)
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      // The fixture's DNS stack is checked against the AWS resource type index: found from here too.
      expect(result.stdout).toContain('valid — fleet test-fleet: 3 accounts')
      expect([...packages(result.modules)].filter(isStoreProviderServer)).toEqual([])
      expect(result.modules.filter((url) => NOT_FOR_VALIDATE.test(url))).toEqual([])
    })
  }

  test('the recorder sees what a command that opens the store loads', () => {
    // Otherwise the checks above could pass by seeing nothing. A PostgreSQL nobody listens on
    // fails at once, after the store's modules are loaded (and its error log lands in scratch).
    const result = run(built.bin, ['snapshots', '--repo', fixture], {
      FLOTILLA_DATABASE_URL: 'postgres://flotilla@127.0.0.1:1/none',
      TMPDIR: scratch,
    })
    expect(result.code).not.toBe(0)
    expect(packages(result.modules)).toContain('kysely')
    expect(packages(result.modules)).toContain('pg')
  })
})

describe('bin/flotilla.js runs the build only when it is of the sources as they are', () => {
  test('a fresh build runs compiled, without tsx', () => {
    expect(isFresh(built.root, built.dist)).toBe(true)
    const result = run(built.bin, ['--version'])
    expect(result.modules).toContain(pathToFileURL(join(built.dist, 'bin.js')).href)
    expect(packages(result.modules).has('tsx')).toBe(false)
  })

  test('a stale build is not run: the sources are, through tsx', () => {
    const stale = projectCopy('stale')
    cpSync(built.dist, stale.dist, { recursive: true })
    const stamp = JSON.parse(readFileSync(join(stale.dist, STAMP_FILE), 'utf8'))
    const main = stamp.inputs['src/cli/main.ts'] as StampedFile
    stamp.inputs['src/cli/main.ts'] = { ...main, mtimeMs: main.mtimeMs - 1000, sha256: '0'.repeat(64) }
    writeFileSync(join(stale.dist, STAMP_FILE), JSON.stringify(stamp))
    expect(isFresh(stale.root, stale.dist)).toBe(false)

    const result = run(stale.bin, ['--version'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('0.1.0\n')
    expect(result.modules.some((url) => url.startsWith(pathToFileURL(stale.dist).href))).toBe(false)
    expect(result.modules).toContain(pathToFileURL(join(ROOT, 'src', 'cli', 'main.ts')).href)
    expect(packages(result.modules).has('tsx')).toBe(true)
  })
})

describe('the build', () => {
  test('npm install and npm ci make it: prepare runs scripts/build.ts', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    expect(scripts.prepare).toMatch(/\bscripts\/build\.ts\b/)
    // npm packs by .npmignore when there is one: dist/ must not be left out of a packed Flotilla.
    const npmignore = readFileSync(join(ROOT, '.npmignore'), 'utf8').split('\n')
    expect(npmignore.filter((line) => /^\/?dist\/?$/.test(line.trim()))).toEqual([])
  })

  test('npm start runs the compiled server as well (bin/start.js), built and stamped with the CLI', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    expect(scripts.start).toBe('node bin/start.js')
    expect(readFileSync(join(ROOT, 'bin', 'start.js'), 'utf8')).toContain("runEntry('start')")
    const stamp = JSON.parse(readFileSync(join(built.dist, STAMP_FILE), 'utf8'))
    expect(Object.keys(stamp.inputs)).toEqual(expect.arrayContaining(['src/cli/start.ts']))
    expect(readdirSync(built.dist)).toEqual(expect.arrayContaining(['bin.js', 'start.js']))
  })
})

describe('the stamp of a build', () => {
  /** A build directory holding only a stamp (all `isFresh` reads), made from the real one by `change`. */
  function stampedDir(change: (inputs: Record<string, StampedFile>) => void, version = 1): string {
    const dir = mkdtempSync(join(scratch, 'stamp-'))
    const stamp = JSON.parse(readFileSync(join(built.dist, STAMP_FILE), 'utf8'))
    change(stamp.inputs)
    writeFileSync(join(dir, STAMP_FILE), JSON.stringify({ ...stamp, version }))
    return dir
  }
  const MAIN = 'src/cli/main.ts'

  test('records every source the build read, and the build configuration', () => {
    const stamp = JSON.parse(readFileSync(join(built.dist, STAMP_FILE), 'utf8'))
    const files = Object.keys(stamp.inputs)
    expect(files).toEqual(
      expect.arrayContaining([MAIN, 'src/cli/bin.ts', 'scripts/build.ts', 'tsconfig.json']),
    )
    // The lazily loaded commands are sources of the build too (their chunks).
    expect(files).toEqual(expect.arrayContaining(['src/cli/commands/serve.ts', 'src/store/database.ts']))
  })

  test('a changed, resized, missing or unreadable source makes it stale', () => {
    const changed = stampedDir((inputs) => {
      inputs[MAIN] = { ...inputs[MAIN]!, mtimeMs: 1, sha256: 'f'.repeat(64) }
    })
    const resized = stampedDir((inputs) => {
      inputs[MAIN] = { ...inputs[MAIN]!, size: inputs[MAIN]!.size + 1 }
    })
    const missing = stampedDir((inputs) => {
      inputs['src/cli/gone.ts'] = { size: 1, mtimeMs: 1, sha256: '0'.repeat(64) }
    })
    const otherVersion = stampedDir(() => {}, 2)
    const none = mkdtempSync(join(scratch, 'stamp-'))
    for (const dist of [changed, resized, missing, otherVersion, none])
      expect(isFresh(ROOT, dist)).toBe(false)
    expect(
      isFresh(
        ROOT,
        stampedDir(() => {}),
      ),
    ).toBe(true)
  })

  test('a touched but unchanged source keeps it fresh, and the stamp learns the new time', () => {
    const touched = stampedDir((inputs) => {
      inputs[MAIN] = { ...inputs[MAIN]!, mtimeMs: 1 }
    })
    expect(isFresh(ROOT, touched)).toBe(true)
    const rewritten = JSON.parse(readFileSync(join(touched, STAMP_FILE), 'utf8'))
    expect(rewritten.inputs[MAIN].mtimeMs).not.toBe(1)
  })
})
