// `flotilla test` on the example fleet (300 accounts, 250 clusters): a change to every account's
// DNS stack, and a change to one cluster component, each tested in a fresh process (compiled as
// dist/ is) on branches of a scratch clone of the example.

import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { commitChanges } from '../src/example/write-repository.ts'
import { git } from '../src/source/git.ts'
import { bundledChild } from './bundled.ts'
import type { Row } from './measure.ts'

interface TestRun {
  readonly code: number
  readonly verdict: string
  readonly targets: number
  readonly ms: number
}

/** The changes measured: a file of the example, what is replaced in it and by what. */
const CHANGES = [
  {
    name: "a change to every account's DNS stack",
    file: 'stacks/route53-hostedzones.yaml',
    from: 'managed by Flotilla"',
    to: 'managed by Flotilla, reviewed"',
    target: 60_000,
  },
  {
    name: 'a change to one cluster component',
    file: 'cluster/manifests/metrics-server/metrics-server.yaml',
    from: /--metric-resolution=\d+s/,
    to: '--metric-resolution=20s',
    target: 20_000,
  },
] as const

/** The rows of `flotilla test` on the example repository `repo` (left as it is: the work is in a clone). */
export async function changeTestRows(repo: string): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-bench-test-'))
  try {
    const clone = join(dir, 'fleet')
    await git(dir, ['clone', '--quiet', repo, clone])
    const child = await bundledChild('change-test-child')
    const rows: Row[] = []
    for (const [index, change] of CHANGES.entries()) {
      const branch = `change-${index}`
      await git(clone, ['checkout', '--quiet', '-b', branch, 'main'])
      const path = join(clone, change.file)
      const text = readFileSync(path, 'utf8')
      const next = text.replace(change.from, change.to)
      if (next === text) throw new Error(`${change.file} has no ${change.from}: the example changed`)
      writeFileSync(path, next)
      await commitChanges(clone, change.name)
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [child, clone, 'main', branch, '2026-11-10T10:00:00Z'],
        { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 },
      )
      const run = JSON.parse(stdout.trim().split('\n').at(-1)!) as TestRun
      const ok = run.code === 0 && run.verdict === 'passed'
      rows.push({
        name: `flotilla test on the example (300/250): ${change.name} (${run.targets} targets tried${ok ? ', passed' : `, ${run.verdict.toUpperCase()} exit ${run.code}`})`,
        value: `${(run.ms / 1000).toFixed(1)} s`,
        target: `< ${change.target / 1000} s`,
        pass: ok && run.ms < change.target,
      })
    }
    return rows
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
