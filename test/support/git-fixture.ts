import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { git } from '../../src/source/git.ts'
import { writeFixtureDir } from './fixture-fleet.ts'

/** Environment for git commits that works on a machine without any git configuration. */
export const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Flotilla Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Flotilla Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
}

/** Creates a git repository holding `files` in a first commit; returns its directory. */
export async function gitFixture(files: Readonly<Record<string, string>>): Promise<string> {
  const dir = writeFixtureDir(files, 'flotilla-git-')
  await git(dir, ['init', '-q', '-b', 'main'])
  await commitAll(dir, 'first')
  return dir
}

/** Writes files into the repository and commits them. */
export async function commitFiles(
  dir: string,
  files: Readonly<Record<string, string>>,
  message: string,
): Promise<void> {
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text)
  await commitAll(dir, message)
}

async function commitAll(dir: string, message: string): Promise<void> {
  await git(dir, ['add', '-A'])
  await git(dir, ['commit', '-q', '-m', message], undefined, GIT_IDENTITY)
}

/**
 * Commits `edit` on a new branch off main of `repo` in a worktree of its own, without touching the
 * checkout (a server serving it sees only the new branch); returns the commit.
 */
export async function commitOnBranch(
  repo: string,
  branch: string,
  edit: (dir: string) => void,
): Promise<string> {
  const parent = mkdtempSync(join(tmpdir(), 'flotilla-branch-'))
  const dir = join(parent, 'tree')
  try {
    await git(repo, ['worktree', 'add', '-q', '-b', branch, dir, 'main'])
    edit(dir)
    await commitAll(dir, `On ${branch}`)
    return (await git(dir, ['rev-parse', 'HEAD'])).toString().trim()
  } finally {
    await git(repo, ['worktree', 'remove', '--force', dir])
    rmSync(parent, { recursive: true, force: true })
  }
}
