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

/** One row per target a rollout holds: at most one rollout changes a target at a time. */
export interface LocksTable {
  target: string
  rollout_id: string
  acquired_at: CreatedAt
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

/** A target the simulated fleet knows, seeded from the inventory. */
export interface SimTargetsTable {
  id: string
  kind: string
  name: string
  account: string
  /** Regions, config, environment, group and services of the target when it was seeded. */
  info: JsonColumn
  seeded_at: CreatedAt
}

/** A simulated CloudFormation stack. */
export interface SimStacksTable {
  address: string
  target: string
  stack_name: string
  region: string
  scope: string
  /** `CREATE_IN_PROGRESS`, `UPDATE_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`, … */
  status: string
  status_reason: ColumnType<string, string | undefined, string>
  /** The template as last deployed, in long form. */
  template: JsonColumn
  parameters: JsonColumn
  /** Logical id → `{ type, physicalId }` of the resources as last deployed. */
  resources: JsonColumn
  termination_protection: ColumnType<boolean, boolean | undefined, boolean>
  /** The operation under way: what it will deploy when it settles. */
  pending: ColumnType<Json | null, string | null | undefined, string | null>
  settles_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
  updated_at: CreatedAt
  /** The stack policy set through the AWS-compatible API (`SetStackPolicy`); null when none. */
  stack_policy: ColumnType<Json | null, string | null | undefined, string | null>
  /** Stack tags (`[{ Key, Value }]`), as the AWS-compatible endpoint sets them. */
  tags: ColumnType<Json, string | undefined, string>
  created_at: CreatedAt
}

/** A CloudFormation change set made through the simulated fleet's AWS-compatible API. */
export interface SimChangeSetsTable {
  /** The change set's ARN. */
  id: string
  target: string
  /** The address of the stack it changes (`<account>/<region>/<StackName>`). */
  stack: string
  stack_name: string
  region: string
  name: string
  /** `CREATE` or `UPDATE`. */
  change_set_type: string
  /** `CREATE_COMPLETE` or `FAILED`. */
  status: string
  status_reason: ColumnType<string, string | undefined, string>
  /** `AVAILABLE`, `UNAVAILABLE`, `EXECUTE_IN_PROGRESS`, `EXECUTE_COMPLETE`, `EXECUTE_FAILED`. */
  execution_status: string
  description: ColumnType<string, string | undefined, string>
  /** The template it deploys, in long form. */
  template: JsonColumn
  parameters: JsonColumn
  /** Its resource changes, as `DescribeChangeSet` lists them. */
  changes: JsonColumn
  created_at: CreatedAt
  /** Stack tags it sets: `[{ Key, Value }]`. */
  tags: ColumnType<Json, string | undefined, string>
}

/** Stack events, like CloudFormation's DescribeStackEvents. */
export interface SimStackEventsTable {
  id: Generated<number>
  target: string
  stack: string
  at: CreatedAt
  logical_id: string
  resource_type: string
  status: string
  reason: ColumnType<string, string | undefined, string>
}

/** A simulated Route 53 hosted zone; `stack` is null for a retained or restored zone. */
export interface SimZonesTable {
  id: string
  account: string
  name: string
  stack: string | null
  logical_id: string | null
  created_at: CreatedAt
}

/** A record set of a simulated zone; `owner` is `zone`, a stack address or `external-dns:<cluster>`. */
export interface SimRecordsTable {
  zone_id: string
  name: string
  type: string
  ttl: number
  values: JsonColumn
  owner: string
}

/** A Kubernetes object applied to a simulated cluster. */
export interface SimObjectsTable {
  address: string
  cluster: string
  component: string
  object: JsonColumn
  ready_at: Timestamp
  updated_at: CreatedAt
  /** Server-side metadata the Kubernetes-compatible API shows; kept out of `object`, which plans compare. */
  uid: ColumnType<string, string | undefined, string>
  /** From the sequence `sim_resource_version`, shared with `sim_cluster_objects`; bumped on every write. */
  resource_version: ColumnType<number, number | undefined, number>
  generation: ColumnType<number, number | undefined, number>
  /** `metadata.managedFields` as the API shows it. */
  managed_fields: ColumnType<Json, string | undefined, string>
  created_at: CreatedAt
}

/** An object a simulated cluster makes itself (Nodes, Pods, its built-in namespaces): never rendered, never planned. */
export interface SimClusterObjectsTable {
  /** `<cluster>/<namespace|_>/<Kind>/<name>`, as in `sim_objects`. */
  address: string
  cluster: string
  kind: string
  object: JsonColumn
  uid: ColumnType<string, string | undefined, string>
  resource_version: ColumnType<number, number | undefined, number>
  generation: ColumnType<number, number | undefined, number>
  managed_fields: ColumnType<Json, string | undefined, string>
  created_at: CreatedAt
}

/** An image pushed to the simulated registry, besides the built-in ones (`flotilla sim image --add`). */
export interface SimImagesTable {
  /** Normalized: `registry/repository:tag` (`docker.io/library/nginx:1.27` for `nginx:1.27`). */
  reference: string
  added_at: CreatedAt
}

/** An injected fault: `scope` is `target:<id>`, `region:<name>` or `fleet`. */
export interface SimFaultsTable {
  id: string
  scope: string
  kind: string
  rate: ColumnType<number, number | undefined, number>
  latency_ms: ColumnType<number, number | undefined, number>
  created_at: CreatedAt
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
}

/** Settings of the simulated fleet (latency) and its DNS serial. */
export interface SimMetaTable {
  key: string
  value: JsonColumn
}

/** A user of the server, and their role (`viewer`, `member`, `admin`); teams come from the inventory. */
export interface UsersTable {
  name: string
  role: string
  created_at: CreatedAt
  created_by: string
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
}

/** A portal session, like a token (public id, hashed secret), with the secret its forms carry (CSRF). */
export interface SessionsTable {
  id: string
  hash: string
  user_name: string
  csrf: string
  created_at: CreatedAt
  expires_at: Timestamp
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
  sim_targets: SimTargetsTable
  sim_stacks: SimStacksTable
  sim_stack_events: SimStackEventsTable
  sim_change_sets: SimChangeSetsTable
  sim_zones: SimZonesTable
  sim_records: SimRecordsTable
  sim_objects: SimObjectsTable
  sim_cluster_objects: SimClusterObjectsTable
  sim_images: SimImagesTable
  sim_faults: SimFaultsTable
  sim_meta: SimMetaTable
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
}
