/**
 * Starts the server: the HTTP application on a port, and the background worker that runs
 * rollouts. Closing it stops taking requests, lets the worker put down its rollouts after their
 * current step, and stops the engine's DNS server.
 */
import type { AddressInfo } from 'node:net'
import { type HttpBindings, serve } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { LONGEST_TOKEN_DAYS } from '../app/access/tokens-store.ts'
import type { Application } from '../app/application.ts'
import type { BootstrapProgress } from '../app/bootstrap-progress.ts'
import { FleetView } from '../app/fleet-view.ts'
import { newLocalCredential, recordLocalLink } from '../app/local-link.ts'
import { DriftMonitor } from '../controller/drift-monitor.ts'
import { DriftReverter } from '../controller/drift-revert.ts'
import { fetchIntoMirror, RepositoryFollower } from '../controller/follower.ts'
import { Leadership } from '../controller/leadership.ts'
import { InputError } from '../core/errors.ts'
import { operatorClock, systemClock } from '../core/policy/policy-time.ts'
import { RolloutMetrics } from '../rollout/metrics.ts'
import { planForCache } from './api/rollouts.ts'
import { createApp } from './app.ts'
import { type ApprovalDeps, countApprovals, planToJudge } from './approval-rights.ts'
import { approvalsOfCommit } from './approvals-store.ts'
import { testCommit } from './commit-test.ts'
import { watchEventLoop } from './event-loop-metrics.ts'
import { HealthCache } from './health-cache.ts'
import { PlanCache } from './plan-cache.ts'
import {
  ConcurrencyLimit,
  type ConcurrencySettings,
  type RateSettings,
  TokenBucket,
} from './request-limits.ts'
import { startRolloutWorker } from './rollout-worker.ts'
import type { CommandRunner, ServerDeps } from './server-deps.ts'
import { revisionTrust, serverTrust, trustedFleetOf } from './trusted-branch.ts'

/** What {@link startServer} needs. */
export interface ServerOptions {
  /** The application the server serves (its store, providers and use cases). */
  readonly app: Application
  /** The repository shown and rolled out. @default the application's */
  readonly repoDir?: string
  /** The ref the server shows and rolls out by default. @default HEAD */
  readonly ref?: string
  /** @default 127.0.0.1 */
  readonly host?: string
  /** 0 picks a free port. @default 8080 */
  readonly port?: number
  readonly log?: (line: string) => void
  /**
   * An operator-set time policies see instead of the server's clock (`flotilla serve --now`, for
   * demos and tests); every plan, rollout and audit entry records that the operator set it. No
   * request can set the time. @default the server's clock
   */
  readonly policyNow?: Date
  /**
   * Follow a branch of a repository (a path or a URL git can fetch): it is fetched into
   * `mirrorDir`, which the server then reads instead of `repoDir`, and every new commit is
   * decided on and, when allowed, rolled out (see `controller/follower.ts`).
   */
  readonly follow?: {
    readonly source: string
    readonly branch: string
    readonly mirrorDir: string
    readonly intervalMs?: number
    /** Try each allowed commit with `flotilla test` before its rollout (`--test-commits`). @default false */
    readonly testCommits?: boolean
  }
  /** How often the clusters' health is refreshed (only what changed is asked again). @default 10 s */
  readonly healthIntervalMs?: number
  /** How often drift is checked. @default 60 s */
  readonly driftIntervalMs?: number
  /** Undo drift through rollouts (see `controller/drift-revert.ts`). @default false */
  readonly revertDrift?: boolean
  /** The secret push webhooks sign their bodies with (`X-Hub-Signature-256`). */
  readonly webhookSecret?: string
  /**
   * Runs CLI commands for a CLI elsewhere (`POST /api/cli`); with the embedded store, the server
   * then records how a CLI on this machine reaches it in the store's folder (`app/local-link.ts`).
   * @default none: the server runs no command
   */
  readonly runCommand?: CommandRunner
  /** How often webhook deliveries are taken. @default {@link WEBHOOK_RATE} */
  readonly webhookRate?: RateSettings
  /** How many plans are computed at once, and how many wait. @default {@link PLAN_CONCURRENCY} */
  readonly planConcurrency?: ConcurrencySettings
  /**
   * The longest a new API token may last, in days (`FLOTILLA_MAX_TOKEN_DAYS`); a token asked for
   * without an expiry gets it. @default no maximum
   */
  readonly maxTokenDays?: number
  /**
   * Trust the proxy in front: `X-Forwarded-Proto: https` makes the session cookie `Secure`
   * (`FLOTILLA_TRUST_PROXY=1`). @default false
   */
  readonly trustProxy?: boolean
  /** The example's apply under way in this process (`npm start`): the portal's banner, `GET /api/bootstrap`. */
  readonly bootstrap?: BootstrapProgress
}

/** Webhook deliveries: a burst of 10, then 20 a minute. */
export const WEBHOOK_RATE: RateSettings = { burst: 10, perMinute: 20 }

/** Plans: 2 computed at once, 4 more waiting up to 30 s each; beyond that a 503. */
export const PLAN_CONCURRENCY: ConcurrencySettings = { running: 2, queued: 4, maxWaitMs: 30_000 }

/** A running server. */
export interface RunningServer {
  /** `http://host:port` */
  readonly url: string
  /** The first admin's token, when this start created it (shown once). */
  readonly adminToken: string | undefined
  /** The revision served, for work the process does besides serving (loaded once, shared). */
  readonly fleets: FleetView
  close(): Promise<void>
}

/** Starts the server (see the module comment). */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const maxTokenDays = options.maxTokenDays
  if (
    maxTokenDays !== undefined &&
    !(Number.isInteger(maxTokenDays) && maxTokenDays >= 1 && maxTokenDays <= LONGEST_TOKEN_DAYS)
  )
    throw new InputError(
      `the maximum token lifetime (FLOTILLA_MAX_TOKEN_DAYS) must be a whole number of days from 1 to ${LONGEST_TOKEN_DAYS}; got ${maxTokenDays}`,
    )
  if (options.follow)
    await fetchIntoMirror(options.follow.mirrorDir, options.follow.source, options.follow.branch)
  const { app } = options
  const db = app.db
  const repoDir = options.follow?.mirrorDir ?? options.repoDir ?? app.repoDir
  const metrics = new RolloutMetrics(db)
  const runner = await app.openEngine({
    policyClock: options.policyNow ? operatorClock(options.policyNow) : systemClock,
    onEvent: (event) => metrics.observe(event),
    repoDir,
  })
  // The revision shown is loaded by the engine: one copy for the pages, plans and rollouts.
  const fleets = new FleetView(
    repoDir,
    options.follow ? `refs/heads/${options.follow.branch}` : (options.ref ?? 'HEAD'),
    runner.deps.loadRevision,
  )
  // The port is taken before anything else starts — the rollout worker, the controller, the admin
  // token of a first start: a port in use then fails the start with nothing left running, and no
  // admin token is minted that nobody was shown. Until the rest is ready, requests get a 503.
  let handle: (request: Request, env: HttpBindings) => unknown = () =>
    new Response('Flotilla is starting; try again in a moment\n', {
      status: 503,
      headers: { 'retry-after': '1' },
    })
  const host = options.host ?? '127.0.0.1'
  let server: ReturnType<typeof serve>
  try {
    await fleets.snapshot() // an invalid repository is an error now, not at the first request
    server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve(
        {
          fetch: (request, env) => handle(request, env as HttpBindings),
          hostname: host,
          port: options.port ?? 8080,
        },
        () => resolve(s),
      )
      s.once('error', reject)
    })
  } catch (error) {
    await runner.close()
    throw error
  }
  const loop = watchEventLoop(metrics.registry)
  if (options.policyNow)
    log(
      `policies see an operator-set time, ${options.policyNow.toISOString()} (--now), not the server's clock; every plan, rollout and audit entry records it`,
    )
  const worker = startRolloutWorker(runner.deps, (error) =>
    log(`rollout worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
  )
  const adminToken = await app.users.bootstrapAdmin(maxTokenDays)
  const judging: ApprovalDeps = {
    app,
    db,
    engine: runner.deps,
    fleets,
    ...(options.follow ? { followedBranch: options.follow.branch } : {}),
  }
  // The controller's rollouts have no author: a recorded approval counts when its giver owns what it approves.
  const approvalsOf = async (commit: string) => {
    const given = await approvalsOfCommit(db, commit)
    if (given.length === 0) return []
    const plan = await planToJudge(judging, commit)
    return (await countApprovals(judging, commit, plan, given)).counted.map((a) => a.approval)
  }
  // The leader decides on new commits and on drift reverts; every server runs rollouts.
  const leadership = options.follow || options.revertDrift ? new Leadership(db) : undefined
  leadership?.start((leading) =>
    log(leading ? `leading the controller (${leadership.holder})` : 'no longer leading the controller'),
  )
  const follower = options.follow
    ? new RepositoryFollower({
        ...(leadership ? { leadership } : {}),
        source: options.follow.source,
        branch: options.follow.branch,
        mirrorDir: options.follow.mirrorDir,
        ...(options.follow.intervalMs !== undefined ? { intervalMs: options.follow.intervalMs } : {}),
        app,
        engine: runner.deps,
        approvalsOf,
        report: (error) =>
          log(`follower: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
        started: () => worker.kick(),
        ...(options.follow.testCommits
          ? {
              testChange: (base: string, head: string) =>
                testCommit(options.follow!.mirrorDir, base, head, new Date(runner.deps.policyClock!().at)),
            }
          : {}),
      })
    : undefined
  follower?.start()
  const reverter = options.revertDrift
    ? new DriftReverter({
        engine: runner.deps,
        approvalsOf,
        ...(leadership ? { leadership } : {}),
        untrusted: async (revision) =>
          (await revisionTrust(judging, await serverTrust(judging), revision)).untrusted,
      })
    : undefined
  const drift = new DriftMonitor(app, fleets, metrics.registry, reverter)
  drift.start(options.driftIntervalMs ?? 60_000, (error) =>
    log(`drift: ${error instanceof Error ? error.message : String(error)}`),
  )
  const health = new HealthCache()
  health.start(fleets, app.registry, options.healthIntervalMs ?? 10_000)
  const planLimit = new ConcurrencyLimit(options.planConcurrency ?? PLAN_CONCURRENCY)
  const plans: PlanCache = new PlanCache({
    db,
    registry: app.registry,
    loadRevision: runner.deps.loadRevision,
    trusted: async () => trustedFleetOf(await serverTrust(deps)),
    compute: (commit, approvals, time, trusted) => planForCache(deps, commit, approvals, time, trusted),
  })
  const localCredential = options.runCommand && app.dataDir ? newLocalCredential() : undefined
  const deps: ServerDeps = {
    app,
    db,
    fleets,
    plans,
    engine: runner.deps,
    kick: () => worker.kick(),
    health,
    drift,
    metrics,
    ...(follower ? { follower } : {}),
    ...(options.follow ? { followedBranch: options.follow.branch } : {}),
    ...(options.webhookSecret ? { webhookSecret: options.webhookSecret } : {}),
    webhookBucket: new TokenBucket(options.webhookRate ?? WEBHOOK_RATE),
    planLimit,
    ...(maxTokenDays !== undefined ? { maxTokenDays } : {}),
    ...(options.trustProxy ? { trustProxy: true } : {}),
    ...(options.bootstrap ? { bootstrap: options.bootstrap } : {}),
    ...(options.runCommand ? { runCommand: options.runCommand } : {}),
    ...(localCredential ? { localCredential } : {}),
  }
  const http = createApp(deps, {
    peer: (c) => {
      try {
        return getConnInfo(c).remote.address ?? 'unknown'
      } catch {
        return 'unknown' // a request made in-process (tests)
      }
    },
    log,
  })
  handle = http.fetch
  const { port } = server.address() as AddressInfo
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  const unlink =
    localCredential && app.dataDir
      ? recordLocalLink(app.dataDir, { url, pid: process.pid, token: localCredential })
      : () => {}
  return {
    url,
    adminToken,
    fleets,
    async close() {
      unlink()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
      })
      await follower?.stop()
      await leadership?.stop()
      await Promise.all([worker.stop(), health.stop(), drift.stop()])
      await runner.close()
      loop.stop()
    },
  }
}
