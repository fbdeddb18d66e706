/**
 * How fast a command starts (issue 21): `flotilla --version` as a real process, as installed
 * (bin/flotilla.js running the compiled build of scripts/build.ts), against Node's own start in
 * the same rounds, and the same CLI from its sources through tsx (how every start used to go).
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isFresh } from '../bin/dist-stamp.js'
import { buildCli } from '../scripts/build.ts'
import { interleavedMediansMs, ms, type Row } from './measure.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'bin', 'flotilla.js')

/** The start a user waits for: `flotilla --version`, compiled. */
const TARGET_MS = 300

/** Runs `node ARGS` to its end, as a command line would. */
function node(args: readonly string[], env: Readonly<Record<string, string>> = {}): void {
  execFileSync(process.execPath, args, {
    env: { ...process.env, FLOTILLA_FROM_SOURCE: '', ...env },
    stdio: 'ignore',
  })
}

/**
 * Medians of `runs` interleaved rounds of: `node -e 0` (the floor: Node starting and ending),
 * `flotilla --version` and `flotilla --help` compiled, and `flotilla --version` from the sources.
 * Builds dist/ first when it is not fresh (a source edited since `npm install`): otherwise bin
 * would run the sources, and the compiled figure would measure tsx.
 */
export async function cliStartupRows(runs = 7): Promise<Row[]> {
  const rebuilt = !isFresh(ROOT, join(ROOT, 'dist'))
  if (rebuilt) await buildCli()
  const t = await interleavedMediansMs(
    {
      node: () => node(['-e', '0']),
      version: () => node([BIN, '--version']),
      help: () => node([BIN, '--help']),
      sources: () => node([BIN, '--version'], { FLOTILLA_FROM_SOURCE: '1' }),
    },
    runs,
  )
  const of = `median of ${runs} processes`
  return [
    {
      name: `flotilla --version, compiled dist/${rebuilt ? ' (built for this run: it was stale)' : ''}, ${of}`,
      value: `${ms(t.version)} (${ms(t.version - t.node)} over Node)`,
      target: `< ${TARGET_MS} ms`,
      pass: t.version < TARGET_MS,
    },
    { name: '  baseline: node -e 0, same rounds', value: ms(t.node), target: '' },
    { name: '  flotilla --help, compiled', value: ms(t.help), target: '' },
    {
      name: '  flotilla --version from the sources through tsx (FLOTILLA_FROM_SOURCE=1)',
      value: `${ms(t.sources)} = ${(t.sources / t.version).toFixed(1)}× compiled`,
      target: '',
    },
  ]
}
