import { spawn } from 'node:child_process'
import { InputError } from '../core/errors.ts'

/** One object of the object database, as `git cat-file --batch` gives it. */
export interface GitObject {
  readonly oid: string
  readonly type: string
  readonly content: Buffer
}

interface Waiting {
  readonly name: string
  readonly resolve: (object: GitObject | undefined) => void
  readonly reject: (error: Error) => void
}

/**
 * One `git cat-file --batch` process answering requests in turn: a revision's commit, its trees
 * and its blobs are all read through it, so reading a revision starts one git process, not one
 * per step (starting a process from a large one costs tens of milliseconds each). Requests may be
 * made without waiting for earlier answers; answers come back in order.
 */
export class CatFile {
  private readonly child
  private readonly waiting: Waiting[] = []
  private buffered: Buffer = Buffer.alloc(0)
  private stderr = ''
  private failed: Error | undefined

  constructor(repoDir: string) {
    this.child = spawn('git', ['cat-file', '--batch'], { cwd: repoDir })
    this.child.stdout.on('data', (chunk: Buffer) => this.receive(chunk))
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString()
    })
    this.child.stdin.on('error', () => undefined) // a process that exited early is reported on close
    this.child.on('error', (error) =>
      this.fail(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? new InputError('git is not installed; install git to read revisions')
          : error,
      ),
    )
    this.child.on('close', (code) => {
      this.fail(new CatFileError(code, this.stderr))
    })
  }

  /**
   * The object `name` names (an object id, or a revision expression such as `main^{commit}`), or
   * undefined when there is none.
   */
  get(name: string): Promise<GitObject | undefined> {
    if (/[\n\r]/.test(name)) return Promise.resolve(undefined)
    if (this.failed) return Promise.reject(this.failed)
    return new Promise((resolve, reject) => {
      this.waiting.push({ name, resolve, reject })
      this.child.stdin.write(`${name}\n`)
    })
  }

  /** Ends the process (after the requests made so far are answered). */
  close(): void {
    this.child.stdin.end()
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
    for (;;) {
      const next = this.waiting[0]
      if (!next) return
      const headerEnd = this.buffered.indexOf(10)
      if (headerEnd < 0) return
      const header = this.buffered.toString('utf8', 0, headerEnd)
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        this.buffered = this.buffered.subarray(headerEnd + 1)
        this.waiting.shift()
        next.resolve(undefined)
        continue
      }
      const [oid, type, sizeText] = header.split(' ')
      const size = Number(sizeText)
      if (!oid || !type || !Number.isInteger(size)) {
        this.fail(new Error(`git cat-file answered "${header}" for ${next.name}`))
        return
      }
      if (this.buffered.length < headerEnd + 1 + size + 1) return
      const content = Buffer.from(this.buffered.subarray(headerEnd + 1, headerEnd + 1 + size))
      this.buffered = this.buffered.subarray(headerEnd + 1 + size + 1)
      this.waiting.shift()
      next.resolve({ oid, type, content })
    }
  }

  private fail(error: Error): void {
    this.failed ??= error
    for (const waiting of this.waiting.splice(0)) waiting.reject(this.failed)
  }
}

/** `git cat-file` ended before answering: not a repository, or git failed. */
export class CatFileError extends Error {
  readonly code: number | null
  readonly stderr: string
  constructor(code: number | null, stderr: string) {
    super(`git cat-file --batch ended (${code}): ${stderr.trim()}`)
    this.name = 'CatFileError'
    this.code = code
    this.stderr = stderr
  }
}

/** One entry of a tree object. */
export interface TreeEntry {
  readonly mode: string
  readonly name: string
  readonly oid: string
}

/** Reads a tree object's entries (`<mode> <name>\0<binary id>` each), in the tree's order. */
export function treeEntries(content: Buffer, oidBytes: number): TreeEntry[] {
  const entries: TreeEntry[] = []
  let offset = 0
  while (offset < content.length) {
    const space = content.indexOf(32, offset)
    const nul = content.indexOf(0, space + 1)
    if (space < 0 || nul < 0 || nul + 1 + oidBytes > content.length)
      throw new Error('malformed git tree object')
    entries.push({
      mode: content.toString('latin1', offset, space),
      name: content.toString('utf8', space + 1, nul),
      oid: content.toString('hex', nul + 1, nul + 1 + oidBytes),
    })
    offset = nul + 1 + oidBytes
  }
  return entries
}
