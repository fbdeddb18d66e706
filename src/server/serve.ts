/**
 * Starts the server: the HTTP application on a port, and the background worker that runs
 * rollouts. Closing it stops taking requests, lets the worker put down its rollouts after their
 * current step, and stops the engine's DNS server.
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Kysely } from 'kysely'
import { DriftMonitor } from '../controller/drift-monitor.ts'
import { DriftReverter } from '../controller/drift-revert.ts'
import { fetchIntoMirror, RepositoryFollower } from '../controller/follower.ts'
import { Leadership } from '../controller/leadership.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import type { SimProvider } from '../providers/sim/sim-provider.ts'
import { RolloutMetrics } from '../rollout/metrics.ts'
import { openRunner } from '../rollout/runner.ts'
import type { Database } from '../store/tables.ts'
import { bootstrapAdmin } from './access/users-store.ts'
import { createApp } from './app.ts'
import { approvalsOfCommit } from './approvals-store.ts'
import { FleetView } from './fleet-view.ts'
import { HealthCache } from './health-cache.ts'
import { startRolloutWorker } from './rollout-worker.ts'

/** What {@link startServer} needs. */
export interface ServerOptions {
  readonly db: Kysely<Database>
  readonly registry: ProviderRegistry
  readonly sim: SimProvider
  readonly repoDir: string
  /** The ref the server shows and rolls out by default. @default HEAD */
  readonly ref?: string
  /** @default 127.0.0.1 */
  readonly host?: string
  /** 0 picks a free port. @default 8080 */
  readonly port?: number
  readonly log?: (line: string) => void
  /** The time policies see unless a request says (for drills and demos). @default the real time */
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
  }
  /** How often drift is checked. @default 60 s */
  readonly driftIntervalMs?: number
  /** Undo drift through rollouts (see `controller/drift-revert.ts`). @default false */
  readonly revertDrift?: boolean
  /** The secret push webhooks sign their bodies with (`X-Hub-Signature-256`). */
  readonly webhookSecret?: string
}

/** A running server. */
export interface RunningServer {
  /** `http://host:port` */
  readonly url: string
  /** The first admin's token, when this start created it (shown once). */
  readonly adminToken: string | undefined
  close(): Promise<void>
}

/** Starts the server (see the module comment). */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  if (options.follow)
    await fetchIntoMirror(options.follow.mirrorDir, options.follow.source, options.follow.branch)
  const repoDir = options.follow?.mirrorDir ?? options.repoDir
  const fleets = new FleetView(
    repoDir,
    options.follow ? `refs/heads/${options.follow.branch}` : (options.ref ?? 'HEAD'),
  )
  await fleets.snapshot() // an invalid repository is an error now, not at the first request
  const metrics = new RolloutMetrics(options.db)
  const runner = await openRunner({
    onEvent: (event) => metrics.observe(event),
    repoDir,
    db: options.db,
    registry: options.registry,
    sim: options.sim,
  })
  const worker = startRolloutWorker(runner.deps, (error) =>
    log(`rollout worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
  )
  const adminToken = await bootstrapAdmin(options.db)
  const approvalsOf = async (commit: string) =>
    (await approvalsOfCommit(options.db, commit)).map((a) => a.approval)
  // The leader decides on new commits and on drift reverts; every server runs rollouts.
  const leadership = options.follow || options.revertDrift ? new Leadership(options.db) : undefined
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
        engine: runner.deps,
        approvalsOf,
        seed: async (commit) => {
          const fleet = await runner.deps.loadRevision(commit)
          await options.sim.seed(fleet.targets, fleet.clusters)
        },
        policyNow: () => options.policyNow,
        report: (error) =>
          log(`follower: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
        started: () => worker.kick(),
      })
    : undefined
  follower?.start()
  const reverter = options.revertDrift
    ? new DriftReverter({
        engine: runner.deps,
        approvalsOf,
        policyNow: () => options.policyNow,
        ...(leadership ? { leadership } : {}),
      })
    : undefined
  const drift = new DriftMonitor(fleets, options.registry, options.db, metrics.registry, reverter)
  drift.start(options.driftIntervalMs ?? 60_000, (error) =>
    log(`drift: ${error instanceof Error ? error.message : String(error)}`),
  )
  const health = new HealthCache()
  health.start(fleets, options.registry)
  const app = createApp(
    {
      db: options.db,
      registry: options.registry,
      sim: options.sim,
      fleets,
      engine: runner.deps,
      kick: () => worker.kick(),
      health,
      drift,
      metrics,
      ...(follower ? { follower } : {}),
      ...(options.webhookSecret ? { webhookSecret: options.webhookSecret } : {}),
      ...(options.policyNow ? { policyNow: options.policyNow } : {}),
    },
    {
      peer: (c) => {
        try {
          return getConnInfo(c).remote.address ?? 'unknown'
        } catch {
          return 'unknown' // a request made in-process (tests)
        }
      },
      log,
    },
  )
  const host = options.host ?? '127.0.0.1'
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 8080 }, () => resolve(s))
    s.once('error', reject)
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    adminToken,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
      })
      await follower?.stop()
      await leadership?.stop()
      await Promise.all([worker.stop(), health.stop(), drift.stop()])
      await runner.close()
    },
  }
}
