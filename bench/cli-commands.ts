// `flotilla validate` and `flotilla render --target` as people run them: whole processes, wall
// time, on the example fleet — with the parse cache of .flotilla/ empty (cold) and filled (warm).
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { PARSE_CACHE_FOLDER } from '../src/source/parse-store.ts'
import { interleavedMediansMs, ms, type Row } from './measure.ts'

const run = promisify(execFile)
const BIN = new URL('../bin/flotilla.js', import.meta.url).pathname

/** The id of the first account of the repository's inventory. */
function firstAccount(repo: string): string {
  const dir = join(repo, 'inventory', 'accounts')
  for (const name of readdirSync(dir).sort()) {
    const id = /- id: "?(\d{12})"?/.exec(readFileSync(join(dir, name), 'utf8'))?.[1]
    if (id) return id
  }
  throw new Error(`no account in ${dir}`)
}

/**
 * Wall time of `node bin/flotilla.js validate` (cold and warm parse cache) and `render --target`
 * of one account (warm), medians of `runs` interleaved runs; `--version` is the start-up alone.
 */
export async function cliCommandRows(repo: string, runs: number): Promise<Row[]> {
  const cache = join(repo, '.flotilla', PARSE_CACHE_FOLDER)
  const account = firstAccount(repo)
  const flotilla = (...args: string[]) => run(process.execPath, [BIN, ...args], { maxBuffer: 64 << 20 })
  const times = await interleavedMediansMs(
    {
      version: () => flotilla('--version'),
      validateCold: () => {
        rmSync(cache, { recursive: true, force: true })
        return flotilla('validate', '--repo', repo)
      },
      validateWarm: () => flotilla('validate', '--repo', repo),
      renderCold: () => {
        rmSync(cache, { recursive: true, force: true })
        return flotilla('render', '--repo', repo, '--target', account)
      },
      renderWarm: () => flotilla('render', '--repo', repo, '--target', account),
    },
    runs,
  )
  const row = (name: string, value: number, limit: number): Row => ({
    name,
    value: ms(value),
    target: `< ${limit / 1000} s`,
    pass: value < limit,
  })
  return [
    row('flotilla validate (300/250 example, a process; parse cache cold)', times.validateCold, 1500),
    row('flotilla validate, parse cache warm (nothing changed since the last run)', times.validateWarm, 1500),
    row(`flotilla render --target <one account>, parse cache cold`, times.renderCold, 1000),
    row(`flotilla render --target <one account>, parse cache warm`, times.renderWarm, 1000),
    { name: '  of each: the start-up alone (flotilla --version)', value: ms(times.version), target: '' },
  ]
}
