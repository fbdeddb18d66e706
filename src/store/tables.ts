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

/** Every table of the store, for `Kysely<Database>`. */
export interface Database {
  revisions: RevisionsTable
  plans: PlansTable
  rollouts: RolloutsTable
  rollout_events: RolloutEventsTable
  locks: LocksTable
  snapshots: SnapshotsTable
  audit_log: AuditLogTable
}
