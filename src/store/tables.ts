import type { ColumnType, Generated } from 'kysely'

/** A JSON value as stored in a `jsonb` column. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/**
 * A `jsonb` column: read as parsed JSON, written as JSON text (`JSON.stringify`), which both
 * drivers pass through unchanged; `pg` would turn a JS array into a PostgreSQL array literal.
 */
export type JsonColumn = ColumnType<Json, string, string>

/** A `jsonb` column with a default (`'{}'`), so inserting it is optional. */
export type JsonColumnWithDefault = ColumnType<Json, string | undefined, string>

/** A `timestamptz` column with a default of `now()`: read as a `Date`. */
export type CreatedAt = ColumnType<Date, Date | string | undefined, Date | string>

/** A `timestamptz` column without a default. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>

/** Revisions of the fleet repository that have been loaded, keyed by commit. */
export interface RevisionsTable {
  sha: string
  ref: string | null
  loaded_at: CreatedAt
  summary: JsonColumnWithDefault
}

/** Plans between two revisions, with the whole plan document. */
export interface PlansTable {
  id: string
  created_at: CreatedAt
  base: string
  head: string
  verdict: string
  document: JsonColumn
  /** The time its policies saw (null for plans made before it was kept). */
  policy_time: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  /** Who set that time: `clock`, `operator` or `what-if` (`core/policy/policy-time.ts`). */
  policy_time_source: ColumnType<string | null, string | null | undefined, string | null>
}

/** A plan against the observed fleet, computed once for its key (`server/plan-cache-store.ts`). */
export interface PlanCacheTable {
  /** A digest of the head commit, the observed state's version, the approvals and the policy time. */
  key: string
  head: string
  /** The observed state's version the plan was computed at. */
  observed: string
  document: JsonColumn
  /** How long computing it took. */
  computed_ms: number
  created_at: CreatedAt
}

/** Rollouts of a plan and their current state. */
export interface RolloutsTable {
  id: string
  plan_id: string
  state: string
  revision: string
  created_by: string
  created_at: CreatedAt
  updated_at: CreatedAt
  /** Stages, waves and settings, fixed when the rollout starts. */
  schedule: JsonColumnWithDefault
  halt_reason: ColumnType<string | null, string | null | undefined, string | null>
  /** Where it stands: the stage, the wave, and the phase within the stage. */
  stage_index: ColumnType<number, number | undefined, number>
  wave_index: ColumnType<number, number | undefined, number>
  /** `queue`, `approval`, `waves`, `bake`, `gates`, `rollback`: what the rollout does next. */
  phase: ColumnType<string, string | undefined, string>
  bake_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  /** Stage name → who approved it. */
  stage_approvals: JsonColumnWithDefault
  /** The process running the rollout, and until when its lease holds. */
  runner: ColumnType<string | null, string | null | undefined, string | null>
  lease_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  /** How it was asked for (ref, approvals, the policies' `now`): a queued rollout plans again with it. */
  request: JsonColumnWithDefault
}

/** One target of a rollout: where it is in the schedule and how it went. */
export interface RolloutTargetsTable {
  rollout_id: string
  target: string
  stage: string
  stage_index: number
  wave: number
  position: number
  /** `pending`, `applying`, `verifying`, `succeeded`, `failed`, `rolled-back`, `skipped`. */
  state: string
  attempts: ColumnType<number, number | undefined, number>
  reason: ColumnType<string | null, string | null | undefined, string | null>
  /** What the plan showed: the changes, and the observed fingerprints they were computed against. */
  planned: JsonColumn
  /** What the target had before (its observed stacks or objects), for rollback. */
  previous: JsonColumn
  /** The last gate results. */
  gates: JsonColumnWithDefault
  updated_at: CreatedAt
}

/** Fleet-wide controls: `stop` (the emergency brake). */
export interface FleetControlsTable {
  key: string
  value: JsonColumn
  updated_at: CreatedAt
}

/** What happened during a rollout, in order (`id` increases). */
export interface RolloutEventsTable {
  /** `bigserial`; read as a number on both backends (see `openDatabase`). */
  id: Generated<number>
  rollout_id: string
  at: CreatedAt
  type: string
  target: string | null
  detail: JsonColumnWithDefault
}

/**
 * One row per target held: at most one rollout — or one apply or restore outside rollouts —
 * changes a target at a time. Exactly one of `rollout_id` and `holder` is set.
 */
export interface LocksTable {
  target: string
  rollout_id: ColumnType<string | null, string | null | undefined, string | null>
  acquired_at: CreatedAt
  /** An operation outside rollouts that holds it: what, by whom, from which process (`fleet-gate.ts`). */
  holder: ColumnType<Json | null, string | null | undefined, string | null>
  /** Until when that operation's hold is good unless renewed; a dead holder's expires. */
  lease_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

/** Snapshots of protected stateful resources taken before they are destroyed. */
export interface SnapshotsTable {
  id: string
  target: string
  address: string
  type: string
  created_at: CreatedAt
  content: JsonColumn
  /** The provider that took it (and restores it). */
  provider: ColumnType<string, string | undefined, string>
  /** One line: what it holds. */
  description: ColumnType<string, string | undefined, string>
  restored_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

/** Who did what, from where (`cli`, `api`, `portal`, …). */
export interface AuditLogTable {
  id: Generated<number>
  at: CreatedAt
  actor: string
  action: string
  subject: string
  detail: JsonColumnWithDefault
  source: string
  /** The emergency elevation the actor acted under (`{reason, grantedBy, until}`), else null. */
  elevated: ColumnType<Json | null, string | null | undefined, string | null>
}

/** What Flotilla last applied to a target: one fingerprint per stack or object address (drift). */
export interface AppliedStatesTable {
  target: string
  provider: string
  revision: string
  applied_at: CreatedAt
  fingerprints: JsonColumnWithDefault
  /** What an apply under way (or killed) is bringing the target to; null when none is. */
  intended: ColumnType<Json | null, string | null | undefined, string | null>
}

/** A user of the server, and their role (`viewer`, `member`, `admin`); teams come from the inventory. */
export interface UsersTable {
  name: string
  role: string
  created_at: CreatedAt
  created_by: string
  /** Set while the user is disabled: no sign-in, no token, no session. */
  disabled_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  disabled_by: ColumnType<string | null, string | null | undefined, string | null>
}

/** An API token: `id` is public (it is part of the token), `hash` is the SHA-256 of its secret. */
export interface ApiTokensTable {
  id: string
  user_name: string
  hash: string
  label: string
  created_at: CreatedAt
  last_used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  /** After this the token is refused; null: it does not expire. */
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

/** A portal session, like a token (public id, hashed secret), with the secret its forms carry (CSRF). */
export interface SessionsTable {
  id: string
  hash: string
  user_name: string
  csrf: string
  created_at: CreatedAt
  expires_at: Timestamp
  /** The API token the session was opened with: revoked or expired, it ends the session. */
  token_id: string
}

/** An emergency elevation to admin: granted by an admin, with a reason, until it expires. */
export interface ElevationsTable {
  id: Generated<number>
  user_name: string
  granted_by: string
  reason: string
  created_at: CreatedAt
  expires_at: Timestamp
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

/** A webhook delivery accepted, by the id its sender gave it: a second one with that id is a replay. */
export interface WebhookDeliveriesTable {
  id: string
  /** The header that carried the id (`x-github-delivery`, …). */
  header: string
  received_at: CreatedAt
}

/** An approval of (part of) a commit's plan, by someone: what a rollout of that commit may use. */
export interface ApprovalsTable {
  id: Generated<number>
  commit: string
  /** As written: an address, or `PATTERN (expected N)`. */
  approval: string
  given_by: string
  created_at: CreatedAt
}

/** Every table of the store, for `Kysely<Database>`. */
export interface Database {
  rollout_targets: RolloutTargetsTable
  fleet_controls: FleetControlsTable
  applied_states: AppliedStatesTable
  revisions: RevisionsTable
  plans: PlansTable
  rollouts: RolloutsTable
  rollout_events: RolloutEventsTable
  locks: LocksTable
  snapshots: SnapshotsTable
  audit_log: AuditLogTable
  users: UsersTable
  api_tokens: ApiTokensTable
  sessions: SessionsTable
  elevations: ElevationsTable
  approvals: ApprovalsTable
  webhook_deliveries: WebhookDeliveriesTable
  plan_cache: PlanCacheTable
}
