import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ConflictError } from '../core/errors.ts'
import { git } from '../source/git.ts'

/** What {@link writeRepository} created. */
export interface WrittenRepository {
  /** The id of the one commit, on branch `main`. */
  readonly commit: string
  /** The id of its tree: the same for the same files on every machine. */
  readonly tree: string
  /** How many files the commit holds. */
  readonly files: number
}

/** How the first commit is made. */
export interface CommitOptions {
  readonly message: string
  /**
   * A fixed author and committer date (ISO 8601), so that the same files give the same commit
   * id and not only the same tree. @default the current time
   */
  readonly date?: string
}

/**
 * Settings that would make the commit differ from machine to machine (line endings rewritten on
 * Windows, a signing key asked for), overridden for these commands only.
 */
const GIT_OVERRIDES = ['-c', 'core.autocrlf=false', '-c', 'commit.gpgSign=false'] as const

/**
 * The identity of commits Flotilla makes itself, so that `git commit` works on a machine with no
 * git configuration. `GIT_DIR` and friends are cleared: when Flotilla runs inside a git hook they
 * point at the hook's repository, and the new repository must not be committed there.
 */
function gitEnvironment(date: string | undefined): NodeJS.ProcessEnv {
  return {
    GIT_AUTHOR_NAME: 'Flotilla',
    GIT_AUTHOR_EMAIL: 'flotilla@example.invalid',
    GIT_COMMITTER_NAME: 'Flotilla',
    GIT_COMMITTER_EMAIL: 'flotilla@example.invalid',
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
    GIT_DIR: undefined,
    GIT_WORK_TREE: undefined,
    GIT_INDEX_FILE: undefined,
  }
}

/**
 * Creates a git repository in `dir` (created when missing) holding `files` in one commit on
 * branch `main`. Scripts (`*.sh`) are committed executable.
 *
 * @throws {ConflictError} when `dir` exists and is not an empty directory: nothing is overwritten
 */
export async function writeRepository(
  dir: string,
  files: ReadonlyMap<string, string>,
  commit: CommitOptions,
): Promise<WrittenRepository> {
  await requireEmptyDirectory(dir)
  await mkdir(dir, { recursive: true })
  for (const [path, text] of files) {
    const file = join(dir, ...path.split('/'))
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, text, { mode: path.endsWith('.sh') ? 0o755 : 0o644 })
  }
  const env = gitEnvironment(commit.date)
  const run = (args: readonly string[]) => git(dir, [...GIT_OVERRIDES, ...args], undefined, env)
  await run(['init', '-q', '-b', 'main'])
  await run(['add', '-A'])
  await run(['commit', '-q', '--no-verify', '-m', commit.message])
  const id = (await run(['rev-parse', 'HEAD'])).toString().trim()
  const tree = (await run(['rev-parse', 'HEAD^{tree}'])).toString().trim()
  return { commit: id, tree, files: files.size }
}

/**
 * Commits everything changed in the working tree of `dir` as Flotilla (the identity of commits
 * Flotilla makes itself); returns the new commit id.
 */
export async function commitChanges(dir: string, message: string): Promise<string> {
  const env = gitEnvironment(undefined)
  const run = (args: readonly string[]) => git(dir, [...GIT_OVERRIDES, ...args], undefined, env)
  await run(['add', '-A'])
  await run(['commit', '-q', '--no-verify', '-m', message])
  return (await run(['rev-parse', 'HEAD'])).toString().trim()
}

async function requireEmptyDirectory(dir: string): Promise<void> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return
    if (code === 'ENOTDIR') throw new ConflictError(`${dir} is a file; choose a new directory`)
    throw error
  }
  if (entries.length > 0) {
    throw new ConflictError(
      `${dir} exists and is not empty (${entries.length} entries); choose a new or empty directory`,
    )
  }
}
