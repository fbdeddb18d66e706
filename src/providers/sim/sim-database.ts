/**
 * The simulated fleet's own tables, in its own PostgreSQL schema (see `store/sim-schema.ts`):
 * `sim` beside the control plane's `public`. Only the modules of `providers/sim/` query them,
 * through a {@link SimDb}; the control plane's `Database` type does not know them.
 */
import { type ColumnType, type Generated, type Kysely, sql } from 'kysely'
import { retryingDeadlocks } from '../../store/retry-deadlocks.ts'
import { simSchemaName } from '../../store/sim-schema.ts'
import type { CreatedAt, Database, Json, JsonColumn, Timestamp } from '../../store/tables.ts'

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

/**
 * What both object tables keep of an object: its address and cluster, the object, and the
 * server-side metadata the Kubernetes-compatible API shows — kept out of `object`, which plans compare.
 */
interface StoredObjectColumns {
  /** `<cluster>/<namespace|_>/<Kind>/<name>`. */
  address: string
  cluster: string
  object: JsonColumn
  uid: ColumnType<string, string | undefined, string>
  /** From the sequence `sim_resource_version`, shared by both tables; bumped on every write. */
  resource_version: ColumnType<number, number | undefined, number>
  generation: ColumnType<number, number | undefined, number>
  /** `metadata.managedFields` as the API shows it. */
  managed_fields: ColumnType<Json, string | undefined, string>
  created_at: CreatedAt
}

/** A Kubernetes object applied to a simulated cluster. */
export interface SimObjectsTable extends StoredObjectColumns {
  component: string
  ready_at: Timestamp
  updated_at: CreatedAt
}

/** An object a simulated cluster makes itself (Nodes, Pods, its built-in namespaces): never rendered, never planned. */
export interface SimClusterObjectsTable extends StoredObjectColumns {
  kind: string
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

/** Every table of the simulated fleet's schema, for `Kysely<SimDatabase>`. */
export interface SimDatabase {
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
}

/** The query builder over the simulated fleet's schema (every table name is qualified with it). */
export type SimDb = Kysely<SimDatabase>

const views = new WeakMap<Kysely<Database>, Promise<{ readonly schema: string; readonly db: SimDb }>>()

function resolved(db: Kysely<Database>): Promise<{ readonly schema: string; readonly db: SimDb }> {
  let view = views.get(db)
  if (view === undefined) {
    view = simSchemaOf(db).then((schema) => ({ schema, db: simView(db, schema) }))
    // A failed lookup (the store closing) is not remembered: the next caller asks again.
    view.catch(() => views.delete(db))
    views.set(db, view)
  }
  return view
}

/**
 * The simulated fleet's tables of the store `db`: the same connections, every table qualified
 * with the sim's schema. The schema's name is asked once per store (it follows the control
 * plane's `current_schema()`).
 */
export async function simDatabase(db: Kysely<Database>): Promise<SimDb> {
  return (await resolved(db)).db
}

/**
 * Runs `work` in one transaction of the store that writes both the control plane's tables
 * (`store`: snapshots) and the simulated fleet's (`sim`): a zone is never destroyed without its
 * snapshot, nor a snapshot kept of a change that did not happen. A transaction PostgreSQL rolled
 * back for another's sake (a deadlock over zones) runs again: `work` must start afresh each time.
 */
export async function simTransaction<T>(
  db: Kysely<Database>,
  work: (trx: { readonly store: Kysely<Database>; readonly sim: SimDb }) => Promise<T>,
): Promise<T> {
  const { schema } = await resolved(db)
  return retryingDeadlocks(() =>
    db.transaction().execute((trx) => work({ store: trx, sim: simView(trx, schema) })),
  )
}

/** The name of the simulated fleet's schema in the store `db`. */
export async function simSchemaOf(db: Kysely<Database>): Promise<string> {
  // Without the caller's plugins: a lookup of the connection's schema, not a query of a table.
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(
    db.withoutPlugins(),
  )
  return simSchemaName(rows[0]?.schema ?? 'public')
}

/**
 * The sim's view of `db` (a store or a transaction of it) in `schema`: what a transaction that
 * writes both the control plane's tables (snapshots) and the sim's uses for the latter.
 */
export function simView<T extends Kysely<Database>>(db: T, schema: string): SimDb {
  return db.withSchema(schema) as unknown as SimDb
}

/**
 * Empties the tables of the simulated fleet (`sim reset`; change sets and `sim_meta` are left
 * to their owners), in `db`'s
 * transaction when it is one.
 */
export async function clearSimTables(db: SimDb): Promise<void> {
  for (const table of [
    'sim_images',
    'sim_cluster_objects',
    'sim_records',
    'sim_zones',
    'sim_stack_events',
    'sim_stacks',
    'sim_objects',
    'sim_faults',
    'sim_targets',
  ] as const) {
    await db.deleteFrom(table).execute()
  }
}
