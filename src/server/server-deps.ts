/** What the server's routes work with. */
import type { Kysely } from 'kysely'
import type { DriftMonitor } from '../controller/drift-monitor.ts'
import type { RepositoryFollower } from '../controller/follower.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import type { SimProvider } from '../providers/sim/sim-provider.ts'
import type { EngineDeps } from '../rollout/engine.ts'
import type { RolloutMetrics } from '../rollout/metrics.ts'
import type { Database } from '../store/tables.ts'
import type { FleetView } from './fleet-view.ts'
import type { HealthCache } from './health-cache.ts'
import type { AuthVariables } from './request-auth.ts'

/** The store, the providers, the repository and the rollout engine of one server. */
export interface ServerDeps {
  readonly db: Kysely<Database>
  readonly registry: ProviderRegistry
  readonly sim: SimProvider
  readonly fleets: FleetView
  readonly engine: EngineDeps
  /** Tells the background worker that a rollout may have work (started, resumed, approved). */
  readonly kick: () => void
  /** The time policies see when a request does not say (`flotilla serve --now`, for drills and demos). */
  readonly policyNow?: Date
  /** The clusters' health, refreshed in the background. */
  readonly health: HealthCache
  /** Drift, checked on a schedule. */
  readonly drift: DriftMonitor
  /** The engine's metrics (and drift's), served at `/metrics`. */
  readonly metrics: RolloutMetrics
  /** The repository follower, with `flotilla serve --follow`. */
  readonly follower?: RepositoryFollower
  /** The secret push webhooks sign their bodies with (`X-Hub-Signature-256`), when one is set. */
  readonly webhookSecret?: string
}

/** The Hono environment of every route. */
export type ServerEnv = { Variables: AuthVariables }
