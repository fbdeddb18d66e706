// `flotilla drill` on the example fleet (300 accounts, 250 clusters): its wall time and peak
// memory, in a fresh process (bench/drill-child.ts, compiled as dist/ is) so that neither is the
// benchmark runner's.

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { bundledChild } from './bundled.ts'
import type { Row } from './measure.ts'

/** What one drill took, as its child process reported it. */
export interface DrillBench {
  /** The drill's exit code: 0 when every dangerous change was stopped before production. */
  readonly code: number
  readonly scenarios: number
  readonly ms: number
  readonly maxRssBytes: number
}

/** Runs `flotilla drill` on `repo` in a fresh process, policies at an ordinary weekday. */
export async function benchDrill(repo: string): Promise<DrillBench> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      await bundledChild('drill-child'),
      repo,
      // An ordinary weekday: the example's weekend and freeze rules would make the drill differ by day.
      '2026-11-10T10:00:00Z',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
  )
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as DrillBench
}

/** The drill's rows: wall time (< 40 s) and peak RSS (< 500 MB) on the example repository `repo`. */
export async function drillRows(repo: string): Promise<Row[]> {
  const r = await benchDrill(repo)
  const ok = r.code === 0
  const mb = r.maxRssBytes / 1e6
  return [
    {
      name: `flotilla drill on the example (300/250): wall time (${r.scenarios} scenarios${ok ? ', all stopped before production' : `, EXIT ${r.code}`})`,
      value: `${(r.ms / 1000).toFixed(1)} s`,
      target: '< 40 s',
      pass: ok && r.ms < 40_000,
    },
    {
      name: '  flotilla drill on the example (300/250): peak memory (RSS of a fresh process)',
      value: `${mb.toFixed(0)} MB`,
      target: '< 500 MB',
      pass: ok && mb < 500,
    },
  ]
}
