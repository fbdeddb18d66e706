/**
 * The lifecycle controller's first half: it follows a branch of the fleet repository — a local
 * path or any URL git can fetch — into a bare mirror, and decides for each new commit:
 * validate → plan against the observed fleet → policy. `allowed` starts a rollout by itself;
 * `requires-approval` waits, visibly, until the approvals recorded for that commit make it
 * allowed; `denied`, `invalid` and `no-changes` are recorded with why, and nothing is applied.
 * With `testChange`, an allowed commit is first tried as an upgrade in an ephemeral fleet
 * (`flotilla test`); `test-failed` is recorded with why, and nothing is applied.
 * A newer commit supersedes one still waiting (the engine supersedes queued rollouts). Every
 * decision is a row of `revisions`, so the portal, the API and a restarted server see it.
 */
import { mkdirSync } from 'node:fs'
import type { Kysely } from 'kysely'
import { CONTROLLER_ACTOR } from '../app/actors.ts'
import type { Application } from '../app/application.ts'
import { InputError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import { parseApproval } from '../core/policy/approvals.ts'
import type { PolicyTime } from '../core/policy/policy-time.ts'
import type { EngineDeps } from '../rollout/engine.ts'
import { git, resolveCommit } from '../source/git.ts'
import type { Database } from '../store/tables.ts'
import type { Leadership } from './leadership.ts'

/** What the follower decided about one commit. */
export type CommitStatus =
  | 'rolling-out'
  | 'waiting-approval'
  | 'denied'
  | 'invalid'
  | 'no-changes'
  | 'superseded'
  | 'failed-to-start'
  | 'test-failed'

/**
 * What `flotilla test` made of a followed commit before its rollout (`--test-commits`): the head
 * tried as an upgrade of `base` and from empty in an ephemeral simulated fleet.
 */
export interface CommitTest {
  readonly base: string
  readonly verdict: 'passed' | 'failed' | 'no-changes'
  readonly ms: number
  /** The targets it was tried on. */
  readonly targets: number
  readonly phases: readonly {
    readonly name: string
    readonly state: string
    readonly reason: string
    readonly ms: number
  }[]
  /** The events of what failed, a line each (the first ones). */
  readonly failures: readonly string[]
}

/** A commit as the follower recorded it. */
export interface FollowedCommit {
  readonly commit: string
  readonly branch: string
  readonly status: CommitStatus
  readonly detail: string
  readonly rollout: string | null
  readonly unmet: readonly string[]
  /** The time the policies of its plan saw, and who set it (absent when it could not be planned). */
  readonly policyTime?: PolicyTime
  /** The test before its rollout, when the server tests commits. */
  readonly test?: CommitTest
  readonly at: string
}

/** What {@link RepositoryFollower} needs. */
export interface FollowerOptions {
  /** The repository to follow: a path or a URL git can fetch. */
  readonly source: string
  readonly branch: string
  /** The bare mirror the server reads revisions from. */
  readonly mirrorDir: string
  /** The application: plans and starts the rollouts, and audits them. */
  readonly app: Application
  /** The engine over the mirror, with the server's clock. */
  readonly engine: EngineDeps
  /** The approvals recorded for a commit (as written). */
  readonly approvalsOf: (commit: string) => Promise<readonly string[]>
  /** How often to fetch. @default 30 s */
  readonly intervalMs?: number
  readonly report: (error: unknown) => void
  /** Told when a rollout was started. */
  readonly started?: (id: string) => void
  /** With several servers on one store: only the leader decides. @default this server always leads */
  readonly leadership?: Leadership
  /**
   * Tries an allowed commit as an upgrade of `base` (the commit before it on the branch) before
   * its rollout starts; a failed test stops the commit as a denied plan does. @default no test
   */
  readonly testChange?: (base: string, head: string) => Promise<CommitTest>
}

/** Where a server that does not lead records a webhook for the leader. */
const POKE_KEY = 'follow:poke'

export { CONTROLLER_ACTOR }

/** Prepares the bare mirror of `source` (once) and fetches `branch` into it. */
export async function fetchIntoMirror(mirrorDir: string, source: string, branch: string): Promise<string> {
  mkdirSync(mirrorDir, { recursive: true })
  await git(mirrorDir, ['init', '--quiet', '--bare'])
  try {
    await git(mirrorDir, [
      'fetch',
      '--quiet',
      '--prune',
      '--no-tags',
      source,
      `+refs/heads/${branch}:refs/heads/${branch}`,
    ])
  } catch (error) {
    throw new InputError(
      `cannot fetch branch ${branch} of ${source}: ${(error as Error).message.split('\n')[0]}; check the URL and the branch`,
      [],
      { cause: error },
    )
  }
  return resolveCommit(mirrorDir, `refs/heads/${branch}`)
}

/** Follows one branch (see the module comment). */
export class RepositoryFollower {
  private readonly options: FollowerOptions
  private stopped = false
  private wake: (() => void) | undefined
  private loop: Promise<void> | undefined
  private syncing: Promise<void> = Promise.resolve()

  constructor(options: FollowerOptions) {
    this.options = options
  }

  /** Whether this server decides (it leads, or is alone). */
  leads(): boolean {
    return this.options.leadership?.isLeader() ?? true
  }

  /**
   * Starts polling: the leader fetches every `intervalMs`, and at once when any server recorded a
   * poke (a webhook that reached a server that does not lead).
   */
  start(): void {
    this.loop = (async () => {
      let polledAt = new Date(0)
      while (!this.stopped) {
        const led = this.leads()
        if (led) {
          polledAt = new Date()
          await this.poll()
        }
        const deadline = Date.now() + (this.options.intervalMs ?? 30_000)
        while (!this.stopped && Date.now() < deadline) {
          await new Promise<void>((resolve) => {
            this.wake = resolve
            setTimeout(resolve, Math.min(1000, deadline - Date.now())).unref()
          })
          // Just became the leader, or poked: poll now rather than at the end of the interval.
          if (this.leads() && (!led || (await this.pokedSince(polledAt)))) break
        }
      }
    })()
  }

  /** Polls now (a webhook); resolves when that poll is done. */
  poll(): Promise<void> {
    this.syncing = this.syncing.then(() => this.sync().catch(this.options.report))
    return this.syncing
  }

  /** Asks whichever server leads to poll now: at once here when this one leads. */
  async poke(): Promise<'polled' | 'asked-the-leader'> {
    if (this.leads()) {
      await this.poll()
      return 'polled'
    }
    const value = JSON.stringify({ at: new Date().toISOString() })
    await this.options.engine.db
      .insertInto('fleet_controls')
      .values({ key: POKE_KEY, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: new Date() }))
      .execute()
    return 'asked-the-leader'
  }

  private async pokedSince(since: Date): Promise<boolean> {
    const row = await this.options.engine.db
      .selectFrom('fleet_controls')
      .select('value')
      .where('key', '=', POKE_KEY)
      .executeTakeFirst()
    const at = (row?.value as { at?: string } | undefined)?.at
    return at !== undefined && Date.parse(at) > since.getTime()
  }

  /** Stops polling. */
  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    await this.loop
    await this.syncing
  }

  /** The commits decided, newest first. */
  static async history(db: Kysely<Database>, limit = 50): Promise<FollowedCommit[]> {
    const rows = await db
      .selectFrom('revisions')
      .selectAll()
      .where('ref', 'is not', null)
      .orderBy('loaded_at', 'desc')
      .limit(limit)
      .execute()
    return rows.map(
      (r) => ({ commit: r.sha, branch: r.ref ?? '', ...(r.summary as object) }) as FollowedCommit,
    )
  }

  /** The test recorded for a followed commit, if it was tested (`testChange`). */
  static async testOf(db: Kysely<Database>, commit: string): Promise<CommitTest | undefined> {
    const row = await db
      .selectFrom('revisions')
      .select('summary')
      .where('sha', '=', commit)
      .executeTakeFirst()
    return (row?.summary as { test?: CommitTest } | undefined)?.test
  }

  private async sync(): Promise<void> {
    const { engine, branch } = this.options
    const head = await fetchIntoMirror(this.options.mirrorDir, this.options.source, branch)
    const db = engine.db
    const known = await db
      .selectFrom('revisions')
      .select(['sha', 'summary'])
      .where('sha', '=', head)
      .executeTakeFirst()
    if (known && (known.summary as { status?: string }).status !== 'waiting-approval') return
    // A newer commit: whatever still waits for approvals is superseded by it.
    if (!known) {
      const waiting = await db
        .selectFrom('revisions')
        .select(['sha', 'summary'])
        .where('ref', '=', branch)
        .execute()
      for (const row of waiting) {
        const summary = row.summary as { status?: string }
        if (summary.status === 'waiting-approval')
          await this.record(
            row.sha,
            {
              ...(row.summary as object),
              status: 'superseded',
              detail: `superseded by ${head.slice(0, 12)}`,
            } as never,
            true,
          )
      }
    }
    await this.decide(head)
  }

  private async decide(commit: string): Promise<void> {
    const { engine, branch } = this.options
    const ref = branch
    let fleet: Fleet
    try {
      fleet = await engine.loadRevision(commit)
    } catch (error) {
      if (!(error instanceof InputError)) throw error
      await this.record(commit, { status: 'invalid', detail: error.message, rollout: null, unmet: [] })
      return
    }
    const { app } = this.options
    const approvals = (await this.options.approvalsOf(commit)).map(parseApproval)
    // Policies see the engine's clock: the server's (or the time its operator set).
    const prepared = await app.prepareRollout(fleet, commit, { ref, approvals }, engine)
    if (!prepared.ok) {
      const status: CommitStatus =
        prepared.verdict === 'requires-approval' ? 'waiting-approval' : prepared.verdict
      await this.record(commit, {
        status,
        detail: prepared.why,
        rollout: null,
        unmet: prepared.unmet ?? [],
        ...(prepared.plan?.policyTime ? { policyTime: prepared.plan.policyTime } : {}),
      })
      return
    }
    let test: CommitTest | undefined
    if (this.options.testChange) {
      const tested = await this.test(commit)
      if (!tested.ok) {
        await this.record(commit, {
          status: 'test-failed',
          detail: tested.why,
          rollout: null,
          unmet: [],
          ...(tested.test ? { test: tested.test } : {}),
        })
        return
      }
      test = tested.test
    }
    try {
      const started = await app.startRollout(
        { commit, ref, approvals, actor: CONTROLLER_ACTOR, trust: {} },
        engine,
      )
      // Marked as the controller's: its actor and its source are no person's (no user may take the name).
      await app.audit({
        actor: CONTROLLER_ACTOR,
        action: 'rollout-start',
        subject: started.id,
        source: CONTROLLER_ACTOR,
        detail: { revision: commit, branch: ref, state: started.state, approvalsRecorded: approvals.length },
      })
      await this.record(commit, {
        status: 'rolling-out',
        detail: started.state === 'queued' ? `queued behind ${started.queuedBehind.join(', ')}` : 'started',
        rollout: started.id,
        unmet: [],
        ...(started.plan.policyTime ? { policyTime: started.plan.policyTime } : {}),
        ...(test ? { test } : {}),
      })
      this.options.started?.(started.id)
    } catch (error) {
      await this.record(commit, {
        status: 'failed-to-start',
        detail: (error as Error).message,
        rollout: null,
        unmet: [],
      })
    }
  }

  /**
   * Tests `commit` as an upgrade of the commit before it (itself when it has none: a first commit
   * is tried from empty only). A test that cannot run fails closed: the commit is not rolled out.
   */
  private async test(
    commit: string,
  ): Promise<{ ok: true; test: CommitTest } | { ok: false; why: string; test?: CommitTest }> {
    let base = commit
    try {
      base = await resolveCommit(this.options.mirrorDir, `${commit}^`)
    } catch {
      // the first commit of the branch
    }
    try {
      const test = await this.options.testChange!(base, commit)
      if (test.verdict !== 'failed') return { ok: true, test }
      const failed = test.phases.filter((p) => p.state === 'failed')
      return {
        ok: false,
        why: `flotilla test failed: ${failed.map((p) => `${p.name}: ${p.reason}`).join('; ')}`,
        test,
      }
    } catch (error) {
      return {
        ok: false,
        why: `flotilla test could not run, so the commit is not rolled out: ${(error as Error).message}`,
      }
    }
  }

  private async record(
    commit: string,
    summary: {
      status: CommitStatus
      detail: string
      rollout: string | null
      unmet: readonly string[]
      policyTime?: PolicyTime
      test?: CommitTest
    },
    keepTime = false,
  ): Promise<void> {
    const value = JSON.stringify({ ...summary, at: new Date().toISOString() })
    await this.options.engine.db
      .insertInto('revisions')
      .values({ sha: commit, ref: this.options.branch, summary: value })
      .onConflict((oc) =>
        oc.column('sha').doUpdateSet({ summary: value, ...(keepTime ? {} : { loaded_at: new Date() }) }),
      )
      .execute()
  }
}
