/** What the server's routes work with. */
import type { Kysely } from 'kysely'
import type { Operator } from '../app/actors.ts'
import type { Application } from '../app/application.ts'
import type { BootstrapProgress } from '../app/bootstrap-progress.ts'
import type { FleetView } from '../app/fleet-view.ts'
import type { DriftMonitor } from '../controller/drift-monitor.ts'
import type { RepositoryFollower } from '../controller/follower.ts'
import type { EngineDeps } from '../rollout/engine.ts'
import type { RolloutMetrics } from '../rollout/metrics.ts'
import type { Database } from '../store/tables.ts'
import type { HealthCache } from './health-cache.ts'
import type { PlanCache } from './plan-cache.ts'
import type { AuthVariables } from './request-auth.ts'
import type { ConcurrencyLimit, TokenBucket } from './request-limits.ts'

/** The application, the repository shown and the rollout engine of one server. */
export interface ServerDeps {
  /** The use cases, the store and the providers. */
  readonly app: Application
  /** The application's store (`app.db`). */
  readonly db: Kysely<Database>
  readonly fleets: FleetView
  readonly engine: EngineDeps
  /** Tells the background worker that a rollout may have work (started, resumed, approved). */
  readonly kick: () => void
  /** The clusters' health, refreshed in the background. */
  readonly health: HealthCache
  /** Drift, checked on a schedule. */
  readonly drift: DriftMonitor
  /** The engine's metrics (and drift's), served at `/metrics`. */
  readonly metrics: RolloutMetrics
  /** The repository follower, with `flotilla serve --follow`. */
  readonly follower?: RepositoryFollower
  /** The branch `flotilla serve --follow` follows: the trusted branch (else `fleet.yaml` `trust.branch`). */
  readonly followedBranch?: string
  /** The secret push webhooks sign their bodies with (`X-Hub-Signature-256`), when one is set. */
  readonly webhookSecret?: string
  /** How often webhook deliveries are taken (`POST /api/webhook`). */
  readonly webhookBucket: TokenBucket
  /** How many plans are computed at once (`GET /api/plans`, the portal's plan and target pages). */
  readonly planLimit: ConcurrencyLimit
  /** Plans against the observed fleet, computed once per head, observed state and approvals. */
  readonly plans: PlanCache
  /** The longest a new API token may last, in days; tokens asked for without an expiry get it. */
  readonly maxTokenDays?: number
  /**
   * Whether a proxy in front says how the client reached it (`X-Forwarded-Proto: https`), so that
   * the session cookie is `Secure` behind a TLS-terminating proxy.
   */
  readonly trustProxy?: boolean
  /** The example's apply under way in this process (`npm start`), when there is one. */
  readonly bootstrap?: BootstrapProgress
  /** Runs CLI commands for a CLI elsewhere (`api/cli-relay.ts`); without it, the server runs none. */
  readonly runCommand?: CommandRunner
  /** The credential of `server.json` in the embedded store's folder (`app/local-link.ts`). */
  readonly localCredential?: string
}

/** The Hono environment of every route. */
export type ServerEnv = { Variables: AuthVariables }

/** Where a relayed command writes and what it runs with (the CLI's `CliIo`, as the server fills it). */
export interface RelayedIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  readonly isTTY: false
  /** The server's repository: every relayed command works on it. */
  readonly cwd: string
  /** The server's application: the command does not open the store. */
  readonly application: Application
  /** The caller, for the audit log and the rollouts' records. */
  readonly operator: Operator
  /** The caller's Ctrl-C. */
  readonly interrupt: AbortSignal
}

/** Runs a CLI command (`runCli`), given by whoever starts the server. */
export type CommandRunner = (argv: readonly string[], io: RelayedIo) => Promise<number>
