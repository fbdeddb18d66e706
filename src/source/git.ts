import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InputError, NotFoundError } from '../core/errors.ts'
import { FLEET_ROOTS, type FleetSource } from '../core/model/source.ts'
import { CatFile, CatFileError, type TreeEntry, treeEntries } from './cat-file.ts'

/**
 * Reads a fleet repository at a git revision (commit, branch, tag, `HEAD~1`, …) straight from the
 * object database, without touching the working tree: the commit, the trees under the paths
 * Flotilla reads and their blobs, all through one `git cat-file --batch` process.
 */
export async function readRevisionSource(repoDir: string, rev: string): Promise<FleetSource> {
  if (rev.startsWith('-')) throw new InputError(`invalid revision "${rev}": a revision cannot start with "-"`)
  const reader = new CatFile(repoDir)
  try {
    const commitObject = await reader.get(`${rev}^{commit}`).catch((error: unknown) => {
      if (error instanceof CatFileError && /not a git repository/i.test(error.stderr)) {
        throw new NotFoundError(
          `${repoDir} is not a git repository; --rev needs one (or leave --rev out to read the directory)`,
        )
      }
      throw error
    })
    if (commitObject?.type !== 'commit') {
      throw new NotFoundError(
        `unknown revision "${rev}" in ${repoDir}; check the name with "git log --oneline"`,
      )
    }
    const commit = commitObject.oid
    const tree = /^tree ([0-9a-f]+)$/m.exec(commitObject.content.toString('utf8'))?.[1]
    if (!tree) throw new Error(`git commit ${commit} names no tree`)
    const oidBytes = tree.length / 2
    const readTree = async (oid: string): Promise<TreeEntry[]> => {
      const object = await reader.get(oid)
      if (object?.type !== 'tree') throw new Error(`git tree ${oid} is missing`)
      return treeEntries(object.content, oidBytes)
    }
    /** The blobs under a tree entry, in tree order (the order `ls-tree -r` lists them in). */
    const blobsUnder = async (entry: TreeEntry, path: string): Promise<{ path: string; oid: string }[]> => {
      if (entry.mode === '40000') {
        const children = await readTree(entry.oid)
        const nested = await Promise.all(children.map((child) => blobsUnder(child, `${path}/${child.name}`)))
        return nested.flat()
      }
      // Only regular files: symbolic links (120000) and submodules (160000) are not a fleet's contents.
      return entry.mode === '100644' || entry.mode === '100755' ? [{ path, oid: entry.oid }] : []
    }
    const root = await readTree(tree)
    const roots = new Set<string>(FLEET_ROOTS)
    const blobs = (
      await Promise.all(root.filter((e) => roots.has(e.name)).map((e) => blobsUnder(e, e.name)))
    ).flat()
    if (blobs.length === 0) {
      throw new NotFoundError(
        `revision ${rev} (${commit.slice(0, 7)}) holds no fleet repository (no fleet.yaml, inventory/ or stacks/)`,
      )
    }
    const contents = await Promise.all(
      blobs.map(async (blob) => {
        const object = await reader.get(blob.oid)
        if (object?.type !== 'blob') throw new Error(`git blob ${blob.oid} (${blob.path}) is missing`)
        return object.content.toString('utf8')
      }),
    )
    const topLevel = root.map((e) => (e.mode === '40000' ? `${e.name}/` : e.name)).sort()
    const files = new Map<string, string>()
    blobs.forEach((blob, i) => {
      files.set(blob.path, contents[i]!)
    })
    return { ref: { kind: 'revision', ref: rev, commit }, files, topLevel }
  } finally {
    reader.close()
  }
}

/** Resolves a revision to its full commit id, with a clear error for an unknown revision. */
export async function resolveCommit(repoDir: string, rev: string): Promise<string> {
  try {
    return (await git(repoDir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]))
      .toString()
      .trim()
  } catch (error) {
    if (error instanceof GitError && error.code === 128 && /not a git repository/i.test(error.stderr)) {
      throw new NotFoundError(
        `${repoDir} is not a git repository; --rev needs one (or leave --rev out to read the directory)`,
      )
    }
    throw new NotFoundError(
      `unknown revision "${rev}" in ${repoDir}; check the name with "git log --oneline"`,
      {
        cause: error,
      },
    )
  }
}

/** A git command that failed, with its exit code and what it printed. */
export class GitError extends Error {
  readonly code: number | null
  readonly stderr: string
  constructor(args: readonly string[], code: number | null, stderr: string) {
    super(`git ${args.join(' ')} failed (${code}): ${stderr.trim()}`)
    this.name = 'GitError'
    this.code = code
    this.stderr = stderr
  }
}

/** Runs git in `cwd` and returns its standard output. */
export function git(
  cwd: string,
  args: readonly string[],
  input?: string,
  env?: NodeJS.ProcessEnv,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: env ? { ...process.env, ...env } : process.env })
    const chunks: Buffer[] = []
    const errors: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => chunks.push(c))
    child.stderr.on('data', (c: Buffer) => errors.push(c))
    child.on('error', (error) =>
      reject(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? new InputError('git is not installed; install git to read revisions')
          : error,
      ),
    )
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(chunks))
      else reject(new GitError(args, code, Buffer.concat(errors).toString()))
    })
    if (input !== undefined) child.stdin.end(input)
    else child.stdin.end()
  })
}

/**
 * The files of a commit in a directory of their own — what a `command` gate runs in, so that it
 * runs the scripts of the revision being rolled out (not whatever the working tree holds, and
 * also when the repository is a bare mirror). Commits never change, so each is written once,
 * under a temporary name that is renamed into place: concurrent processes never see half of one.
 */
export async function checkoutRevision(repoDir: string, commit: string): Promise<string> {
  const root = join(tmpdir(), 'flotilla-checkouts')
  const dir = join(root, commit)
  if (existsSync(dir)) return dir
  mkdirSync(root, { recursive: true })
  const partial = mkdtempSync(join(root, `${commit.slice(0, 12)}-`))
  const tar = await git(repoDir, ['archive', '--format=tar', commit])
  await new Promise<void>((resolve, reject) => {
    const child = spawn('tar', ['-x', '-C', partial])
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar -x exited with ${code}`))))
    child.stdin.end(tar)
  })
  try {
    renameSync(partial, dir)
  } catch {
    rmSync(partial, { recursive: true, force: true }) // another process got there first
  }
  return dir
}

/**
 * The subject line of each of `commits` (one `git log` for all of them), for lists that show what
 * a revision was; a commit the repository does not have (any more) is left out.
 */
export async function commitSubjects(
  repoDir: string,
  commits: readonly string[],
): Promise<Map<string, string>> {
  const subjects = new Map<string, string>()
  const wanted = [...new Set(commits)].filter((c) => /^[0-9a-f]{40}$/.test(c))
  if (wanted.length === 0) return subjects
  try {
    const out = await git(repoDir, ['log', '--no-walk=unsorted', '--format=%H %s', ...wanted])
    for (const line of out.toString('utf8').split('\n')) {
      const space = line.indexOf(' ')
      if (space === 40) subjects.set(line.slice(0, 40), line.slice(41))
    }
  } catch {
    // One of them is gone (a rewritten branch): ask one at a time, keeping what is there.
    for (const commit of wanted) {
      const one = await git(repoDir, ['log', '-1', '--format=%s', commit]).catch(() => undefined)
      if (one) subjects.set(commit, one.toString('utf8').trim())
    }
  }
  return subjects
}
