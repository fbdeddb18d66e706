/**
 * The revision of the repository the server shows: the head of a branch (or `HEAD`), loaded once
 * per commit and looked up again at most every few seconds, so that requests never wait for git
 * and a new commit is seen promptly.
 */
import { readFile, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { Fleet } from '../core/model/fleet-model.ts'
import { loadCommit } from '../rollout/runner.ts'
import { resolveCommit } from '../source/git.ts'
import { findTrustedRevision, type TrustedRevision } from '../source/trust.ts'
import { type AccountRow, accountRows, type ClusterRow, clusterRows } from './inventory-view.ts'

/** A loaded revision and its inventory rows. */
export interface FleetSnapshot {
  readonly commit: string
  readonly fleet: Fleet
  readonly accounts: readonly AccountRow[]
  readonly clusters: readonly ClusterRow[]
}

/** How long a looked-up commit is trusted before the repository's refs are looked at again. */
const RECHECK_MS = 3000
/** How long git is not asked when the ref files did not change (a safety net for odd layouts). */
const GIT_AT_LEAST_MS = 60_000

/** The server's view of the repository. */
export class FleetView {
  private current: Promise<FleetSnapshot> | undefined
  private checkedAt = 0
  private checking: Promise<void> | undefined
  /** The ref files' state when git was last asked, and when that was. */
  private refsSeen: { signature: string; at: number } | undefined
  /** Commits `resolve` looked up while the ref files had `signature`. */
  private resolved: { signature: string; commits: Map<string, string> } | undefined
  private gitDirs: Promise<{ gitDir: string; commonDir: string } | undefined> | undefined
  /** The trusted branch's tip as last looked up, with the ref files' state then. */
  private trusted:
    | { branch: string; signature: string; at: number; revision: Promise<TrustedRevision | undefined> }
    | undefined

  readonly repoDir: string
  readonly ref: string
  private readonly loadRevision: (commit: string) => Promise<Fleet>

  /**
   * @param loadRevision how a commit is loaded: the server passes its engine's, so the revision
   *   shown and the one its plans and rollouts use are one copy in memory, not two (a loaded
   *   example fleet is tens of megabytes). @default a fresh `loadCommit` each time
   */
  constructor(repoDir: string, ref = 'HEAD', loadRevision?: (commit: string) => Promise<Fleet>) {
    this.repoDir = repoDir
    this.ref = ref
    this.loadRevision = loadRevision ?? ((commit) => loadCommit(repoDir, commit))
  }

  /** The revision to show: loaded on first use, refreshed in the background when the ref moved. */
  async snapshot(): Promise<FleetSnapshot> {
    if (!this.current) {
      this.current = this.load()
      this.current.catch(() => {
        this.current = undefined // a failed first load is tried again by the next request
      })
    } else if (Date.now() - this.checkedAt > RECHECK_MS && !this.checking) {
      this.checking = this.refresh().finally(() => {
        this.checking = undefined
      })
    }
    return this.current
  }

  /**
   * The commit `rev` names now, exactly as git would say, but without asking git again while the
   * ref files are unchanged: for the view's ref and commit ids (a plan page asks on every load).
   * Other names are asked of git each time.
   */
  async resolve(rev: string): Promise<string> {
    const memoable = rev === this.ref || /^[0-9a-f]{40}$/.test(rev)
    if (!memoable) return resolveCommit(this.repoDir, rev)
    const signature = await this.refsSignature()
    if (signature === '') return resolveCommit(this.repoDir, rev)
    if (this.resolved?.signature !== signature || this.resolved.commits.size > 100)
      this.resolved = { signature, commits: new Map() }
    const memo = this.resolved.commits
    let commit = memo.get(rev)
    if (commit === undefined) {
      commit = await resolveCommit(this.repoDir, rev)
      memo.set(rev, commit)
    }
    return commit
  }

  private async load(): Promise<FleetSnapshot> {
    this.checkedAt = Date.now()
    this.refsSeen = await this.refsSignature().then((signature) => ({ signature, at: Date.now() }))
    const commit = await resolveCommit(this.repoDir, this.ref)
    return snapshotOf(commit, await this.loadRevision(commit))
  }

  /** Loads the ref's commit when it moved; an invalid new commit keeps the last good one shown. */
  private async refresh(): Promise<void> {
    this.checkedAt = Date.now()
    const shown = await this.current
    // Asking git is a child process (tens of ms of the loop's time to start): only when a ref
    // file changed, which moving a branch or HEAD always does.
    const signature = await this.refsSignature()
    if (
      signature !== '' &&
      signature === this.refsSeen?.signature &&
      Date.now() - this.refsSeen.at < GIT_AT_LEAST_MS
    )
      return
    this.refsSeen = { signature, at: Date.now() }
    const commit = await resolveCommit(this.repoDir, this.ref).catch(() => shown?.commit)
    if (!commit || commit === shown?.commit) return
    try {
      const fleet = await this.loadRevision(commit)
      this.current = Promise.resolve(snapshotOf(commit, fleet))
    } catch {
      // An invalid revision is never shown; validation reports it where it is pushed.
    }
  }

  /**
   * The tip of the trusted branch (`findTrustedRevision`), asked of git again only when its ref
   * files (or the packed refs) changed, or a minute passed: the server's plans are judged by it
   * on every load of a plan page.
   */
  async trustedRevision(branch: string): Promise<TrustedRevision | undefined> {
    const refs = [`refs/heads/${branch}`, `refs/remotes/origin/${branch}`]
    const signature = await this.refsSignature(refs)
    const known = this.trusted
    if (
      signature !== '' &&
      known?.branch === branch &&
      known.signature === signature &&
      Date.now() - known.at < GIT_AT_LEAST_MS
    )
      return known.revision
    const revision = findTrustedRevision(this.repoDir, branch)
    this.trusted = { branch, signature, at: Date.now(), revision }
    // A failed lookup is not remembered: the next caller asks git again.
    revision.catch(() => {
      if (this.trusted?.revision === revision) this.trusted = undefined
    })
    return revision
  }

  /**
   * What the ref of the view (and `extraRefs`) depend on, cheaply: `HEAD` (its text and time),
   * `packed-refs` and each loose ref file with its folder (git replaces a ref by renaming a lock
   * file over it). Empty when the layout is not understood: then git is asked every time.
   */
  private async refsSignature(extraRefs: readonly string[] = []): Promise<string> {
    this.gitDirs ??= gitDirectories(this.repoDir)
    const dirs = await this.gitDirs
    if (!dirs) return ''
    const stamp = async (path: string) => {
      const info = await stat(path).catch(() => undefined)
      return info ? `${info.mtimeMs}:${info.size}:${info.ino}` : '-'
    }
    const head = await readFile(join(dirs.gitDir, 'HEAD'), 'utf8').catch(() => '')
    const symbolic = /^ref: (\S+)/.exec(head)?.[1]
    const ref =
      this.ref === 'HEAD' ? symbolic : this.ref.startsWith('refs/') ? this.ref : `refs/heads/${this.ref}`
    const parts = [
      head.trim(),
      await stamp(join(dirs.gitDir, 'HEAD')),
      await stamp(join(dirs.commonDir, 'packed-refs')),
    ]
    for (const each of ref ? [ref, ...extraRefs] : extraRefs)
      parts.push(await stamp(join(dirs.commonDir, each)), await stamp(dirname(join(dirs.commonDir, each))))
    return parts.join(' ')
  }
}

/** The repository's git directory and common directory (they differ in a linked worktree). */
async function gitDirectories(repoDir: string): Promise<{ gitDir: string; commonDir: string } | undefined> {
  const dotGit = join(repoDir, '.git')
  const info = await stat(dotGit).catch(() => undefined)
  if (!info) {
    // A bare repository (the follower's mirror): the directory is the git directory.
    const bare = await stat(join(repoDir, 'objects')).catch(() => undefined)
    return bare?.isDirectory() ? { gitDir: repoDir, commonDir: repoDir } : undefined
  }
  if (info.isDirectory()) return { gitDir: dotGit, commonDir: dotGit }
  // A linked worktree: `.git` is a file naming the git directory, whose `commondir` names the common one.
  const pointer = /^gitdir: (.+)$/m.exec(await readFile(dotGit, 'utf8').catch(() => ''))?.[1]?.trim()
  if (!pointer) return undefined
  const gitDir = resolve(repoDir, pointer)
  const common = (await readFile(join(gitDir, 'commondir'), 'utf8').catch(() => '')).trim()
  return { gitDir, commonDir: common ? resolve(gitDir, common) : gitDir }
}

function snapshotOf(commit: string, fleet: Fleet): FleetSnapshot {
  return { commit, fleet, accounts: accountRows(fleet), clusters: clusterRows(fleet) }
}
