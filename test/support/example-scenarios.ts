import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { expect } from 'vitest'
import type { Plan } from '../../src/core/model/plan.ts'
import { git } from '../../src/source/git.ts'
import { GIT_IDENTITY } from './git-fixture.ts'
import { type CliRun, runCaptured } from './run-cli.ts'

/**
 * Scenarios on an example fleet repository: each a commit of some edits on a branch of its own,
 * planned through the CLI as a pull-request check would (`flotilla plan --base … --head …`).
 */

/** A file's new text from its old one; a string for a new file's text; `null` to delete it. */
export type Edit = string | null | ((text: string) => string)

/** A Tuesday outside the example's Cyber Week freeze: scenarios are about the built-in rules. */
export const SCENARIO_NOW = '2026-11-10T10:00:00Z'

/** Commits `edits` on a new branch `name` from `from`, back on main afterwards; returns the branch. */
export async function commitScenario(
  repo: string,
  name: string,
  edits: Readonly<Record<string, Edit>>,
  from = 'main',
): Promise<string> {
  await git(repo, ['checkout', '-q', '-B', name, from])
  for (const [path, edit] of Object.entries(edits)) {
    const file = join(repo, path)
    if (edit === null) {
      rmSync(file, { recursive: true })
      continue
    }
    const before = existsSync(file) ? readFileSync(file, 'utf8') : ''
    const after = typeof edit === 'string' ? edit : edit(before)
    expect(after, `the edit of ${path} changed nothing`).not.toBe(before)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, after)
  }
  await git(repo, ['add', '-A'])
  await git(repo, ['commit', '-q', '-m', name], undefined, GIT_IDENTITY)
  await git(repo, ['checkout', '-q', 'main'])
  return name
}

/** `flotilla plan --base BASE --head HEAD` of `repo`; the plan parsed when the format is JSON. */
export async function planScenario(
  repo: string,
  head: string,
  base = 'main',
  format: 'json' | 'markdown' | 'text' = 'json',
): Promise<CliRun & { plan: Plan | undefined }> {
  const args = [
    'plan',
    '--repo',
    repo,
    '--base',
    base,
    '--head',
    head,
    '--format',
    format,
    '--now',
    SCENARIO_NOW,
  ]
  const run = await runCaptured(args)
  return { ...run, plan: format === 'json' && run.stdout ? (JSON.parse(run.stdout) as Plan) : undefined }
}
