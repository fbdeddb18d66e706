/**
 * The revision of the repository the server shows: the head of a branch (or `HEAD`), loaded once
 * per commit and looked up again at most every few seconds, so that requests never wait for git
 * and a new commit is seen promptly.
 */
import type { Fleet } from '../core/model/fleet-model.ts'
import { resolveCommit } from '../core/source/git.ts'
import { loadCommit } from '../rollout/runner.ts'
import { type AccountRow, accountRows, type ClusterRow, clusterRows } from './inventory-view.ts'

/** A loaded revision and its inventory rows. */
export interface FleetSnapshot {
  readonly commit: string
  readonly fleet: Fleet
  readonly accounts: readonly AccountRow[]
  readonly clusters: readonly ClusterRow[]
}

/** How long a looked-up commit is trusted before git is asked again. */
const RECHECK_MS = 3000

/** The server's view of the repository. */
export class FleetView {
  private current: Promise<FleetSnapshot> | undefined
  private checkedAt = 0
  private checking: Promise<void> | undefined

  readonly repoDir: string
  readonly ref: string

  constructor(repoDir: string, ref = 'HEAD') {
    this.repoDir = repoDir
    this.ref = ref
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

  private async load(): Promise<FleetSnapshot> {
    this.checkedAt = Date.now()
    const commit = await resolveCommit(this.repoDir, this.ref)
    return snapshotOf(commit, await loadCommit(this.repoDir, commit))
  }

  /** Loads the ref's commit when it moved; an invalid new commit keeps the last good one shown. */
  private async refresh(): Promise<void> {
    this.checkedAt = Date.now()
    const shown = await this.current
    const commit = await resolveCommit(this.repoDir, this.ref).catch(() => shown?.commit)
    if (!commit || commit === shown?.commit) return
    try {
      const fleet = await loadCommit(this.repoDir, commit)
      this.current = Promise.resolve(snapshotOf(commit, fleet))
    } catch {
      // An invalid revision is never shown; validation reports it where it is pushed.
    }
  }
}

function snapshotOf(commit: string, fleet: Fleet): FleetSnapshot {
  return { commit, fleet, accounts: accountRows(fleet), clusters: clusterRows(fleet) }
}
