import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InputError, NotFoundError } from '../errors.ts'
import { FLEET_ROOTS, type FleetSource } from './source.ts'

/**
 * Reads a fleet repository at a git revision (commit, branch, tag, `HEAD~1`, …) straight from the
 * object database, without touching the working tree: one `ls-tree` and one `cat-file --batch`.
 */
export async function readRevisionSource(repoDir: string, rev: string): Promise<FleetSource> {
  if (rev.startsWith('-')) throw new InputError(`invalid revision "${rev}": a revision cannot start with "-"`)
  const commit = await resolveCommit(repoDir, rev)
  const listing = await git(repoDir, ['ls-tree', '-r', '-z', '--full-tree', commit, '--', ...FLEET_ROOTS])
  const blobs: { path: string; oid: string }[] = []
  for (const entry of listing.toString('utf8').split('\0')) {
    if (entry === '') continue
    const tab = entry.indexOf('\t')
    const [mode, type, oid] = entry.slice(0, tab).split(' ')
    // Symbolic links (120000) and submodules are not part of a fleet's contents.
    if (type === 'blob' && mode !== '120000' && oid) blobs.push({ path: entry.slice(tab + 1), oid })
  }
  if (blobs.length === 0) {
    throw new NotFoundError(
      `revision ${rev} (${commit.slice(0, 7)}) holds no fleet repository (no fleet.yaml, inventory/ or stacks/)`,
    )
  }
  const contents = await readBlobs(
    repoDir,
    blobs.map((b) => b.oid),
  )
  const topLevel = (await git(repoDir, ['ls-tree', '-z', commit]))
    .toString('utf8')
    .split('\0')
    .filter((entry) => entry !== '')
    .map((entry) => {
      const tab = entry.indexOf('\t')
      const name = entry.slice(tab + 1)
      return entry.slice(0, tab).split(' ')[1] === 'tree' ? `${name}/` : name
    })
    .sort()
  const files = new Map<string, string>()
  blobs.forEach((blob, i) => {
    files.set(blob.path, contents[i]!)
  })
  return { ref: { kind: 'revision', ref: rev, commit }, files, topLevel }
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

async function readBlobs(repoDir: string, oids: string[]): Promise<string[]> {
  const out = await git(repoDir, ['cat-file', '--batch'], `${oids.join('\n')}\n`)
  const contents: string[] = []
  let offset = 0
  for (const oid of oids) {
    const headerEnd = out.indexOf(10, offset)
    const header = out.toString('utf8', offset, headerEnd)
    const [gotOid, type, sizeText] = header.split(' ')
    if (gotOid !== oid || type !== 'blob') throw new Error(`git cat-file returned "${header}" for ${oid}`)
    const size = Number(sizeText)
    contents.push(out.toString('utf8', headerEnd + 1, headerEnd + 1 + size))
    offset = headerEnd + 1 + size + 1
  }
  return contents
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
