/**
 * The objects of one simulated cluster as the Kubernetes-compatible API reads and writes them.
 * They live in two tables: `sim_objects`, the fleet's objects — the ones Flotilla's `sim` provider
 * applies, which plans, `sim status` and external-dns see, so what a client creates here is part
 * of the fleet too — and `sim_cluster_objects`, what the cluster makes itself (Nodes, Pods, its
 * built-in namespaces), which no plan ever shows. Server metadata (uid, resourceVersion,
 * managedFields) is kept in columns beside the object, never in it: plans compare objects whole.
 */
import { sql } from 'kysely'
import { externalDnsRecords } from '../external-dns.ts'
import type { SimDb } from '../sim-database.ts'
import { knownTargets } from '../sim-targets.ts'
import { syncExternalDns } from '../sim-zones-store.ts'
import { KubeError } from './kube-errors.ts'
import { appliedByFlotilla, type ManagedFieldsEntry } from './managed-fields.ts'

/** Kinds the cluster makes and runs itself. */
export const CLUSTER_OWNED_KINDS: ReadonlySet<string> = new Set(['Node', 'Pod'])

type Json = Record<string, unknown>
type Table = 'sim_objects' | 'sim_cluster_objects'

/** An object with its server metadata. */
export interface StoredObject {
  readonly table: Table
  readonly address: string
  readonly cluster: string
  readonly kind: string
  /** Undefined for a cluster-scoped object. */
  readonly namespace: string | undefined
  readonly name: string
  /** The object without server metadata (as applied); a Pod or Node also holds what the cluster set in `status`. */
  readonly object: Json
  readonly uid: string
  readonly resourceVersion: number
  readonly generation: number
  readonly managedFields: readonly ManagedFieldsEntry[]
  readonly createdAt: Date
}

/** `<cluster>/<namespace|_>/<Kind>/<name>`: the address Flotilla's renderer gives the object. */
export function objectAddress(
  cluster: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): string {
  return `${cluster}/${namespace ?? '_'}/${kind}/${name}`
}

/** Every object of a cluster. */
export async function loadClusterObjects(db: SimDb, cluster: string): Promise<StoredObject[]> {
  const columns = [
    'address',
    'object',
    'uid',
    'resource_version',
    'generation',
    'managed_fields',
    'created_at',
  ] as const
  const fleet = await db.selectFrom('sim_objects').select(columns).where('cluster', '=', cluster).execute()
  const own = await db
    .selectFrom('sim_cluster_objects')
    .select(columns)
    .where('cluster', '=', cluster)
    .execute()
  const toStored =
    (table: Table) =>
    (row: (typeof fleet)[number]): StoredObject => {
      // The address is `<cluster>/<ns|_>/<Kind>/<name>`; a cluster id never holds a slash.
      const [namespace, kind, ...name] = row.address.slice(cluster.length + 1).split('/')
      return {
        table,
        address: row.address,
        cluster,
        kind: kind!,
        namespace: namespace === '_' ? undefined : namespace,
        name: name.join('/'),
        object: row.object as Json,
        uid: row.uid,
        resourceVersion: Number(row.resource_version),
        generation: Number(row.generation),
        managedFields: managedFieldsOf(table, row),
        createdAt: row.created_at,
      }
    }
  const fleetObjects = fleet.map(toStored('sim_objects'))
  // A fleet object shadows the cluster's own of the same address (a rendered `kube-system` Namespace).
  const shadowed = new Set(fleetObjects.map((o) => o.address))
  return [
    ...fleetObjects,
    ...own.map(toStored('sim_cluster_objects')).filter((o) => !shadowed.has(o.address)),
  ]
}

/**
 * The managers of a stored object's fields. A fleet object the `sim` provider wrote has none
 * stored: it wrote the object whole, so every field is the manager `flotilla`'s.
 */
function managedFieldsOf(
  table: Table,
  row: { object: unknown; managed_fields: unknown; created_at: Date },
): ManagedFieldsEntry[] {
  const stored = row.managed_fields as unknown as ManagedFieldsEntry[]
  if (stored.length > 0 || table !== 'sim_objects') return stored
  return appliedByFlotilla(row.object as Json, row.created_at)
}

/** A new object to store. */
export interface NewObject {
  readonly cluster: string
  readonly kind: string
  readonly namespace: string | undefined
  readonly name: string
  readonly object: Json
  readonly managedFields: readonly ManagedFieldsEntry[]
  /** When the `sim` provider counts it ready (fleet objects). */
  readonly readyAt: Date
}

/** Stores a new object; 409 AlreadyExists when the address is taken. */
export async function insertObject(db: SimDb, created: NewObject): Promise<void> {
  const address = objectAddress(created.cluster, created.kind, created.namespace, created.name)
  const values = {
    address,
    cluster: created.cluster,
    object: JSON.stringify(created.object),
    managed_fields: JSON.stringify(created.managedFields),
  }
  const result = CLUSTER_OWNED_KINDS.has(created.kind)
    ? await db
        .insertInto('sim_cluster_objects')
        .values({ ...values, kind: created.kind })
        .onConflict((oc) => oc.column('address').doNothing())
        .executeTakeFirst()
    : await db
        .insertInto('sim_objects')
        // Created through the API, it belongs to no component of the fleet's repository.
        .values({ ...values, component: '', ready_at: created.readyAt })
        .onConflict((oc) => oc.column('address').doNothing())
        .executeTakeFirst()
  if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) throw alreadyExists(created)
}

function alreadyExists(o: { kind: string; name: string }): KubeError {
  return new KubeError(
    409,
    'AlreadyExists',
    `${o.kind} "${o.name}" already exists; get it, or apply to change it`,
    {
      name: o.name,
      kind: o.kind,
    },
  )
}

/**
 * Writes a changed object, if nobody wrote it since it was read (the resourceVersion still
 * matches); otherwise 409 Conflict, as Kubernetes' optimistic concurrency answers.
 */
export async function updateObject(
  db: SimDb,
  stored: StoredObject,
  object: Json,
  managedFields: readonly ManagedFieldsEntry[],
  options: { bumpGeneration: boolean; readyAt?: Date },
): Promise<void> {
  const set = {
    object: JSON.stringify(object),
    managed_fields: JSON.stringify(managedFields),
    resource_version: sql<number>`default`, // the next of the sequence `sim_resource_version`, in whatever schema
    generation: options.bumpGeneration ? sql<number>`generation + 1` : sql<number>`generation`,
  }
  const result =
    stored.table === 'sim_objects'
      ? await db
          .updateTable('sim_objects')
          .set({ ...set, updated_at: new Date(), ...(options.readyAt ? { ready_at: options.readyAt } : {}) })
          .where('address', '=', stored.address)
          .where('resource_version', '=', stored.resourceVersion)
          .executeTakeFirst()
      : await db
          .updateTable('sim_cluster_objects')
          .set(set)
          .where('address', '=', stored.address)
          .where('resource_version', '=', stored.resourceVersion)
          .executeTakeFirst()
  if (Number(result.numUpdatedRows) === 0) throw modifiedMeanwhile(stored)
}

function modifiedMeanwhile(stored: StoredObject): KubeError {
  return new KubeError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${stored.kind} "${stored.name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name: stored.name, kind: stored.kind },
  )
}

/** Deletes objects (any of both tables). */
export async function deleteObjects(db: SimDb, objects: readonly StoredObject[]): Promise<void> {
  for (const table of ['sim_objects', 'sim_cluster_objects'] as const) {
    const addresses = objects.filter((o) => o.table === table).map((o) => o.address)
    for (let at = 0; at < addresses.length; at += 500)
      await db
        .deleteFrom(table)
        .where('address', 'in', addresses.slice(at, at + 500))
        .execute()
  }
}

/** Inserts objects the cluster makes (Pods, Nodes, namespaces) in one statement per 500. */
export async function insertClusterObjects(
  db: SimDb,
  cluster: string,
  objects: readonly { kind: string; namespace: string | undefined; name: string; object: Json }[],
): Promise<void> {
  for (let at = 0; at < objects.length; at += 500) {
    await db
      .insertInto('sim_cluster_objects')
      .values(
        objects.slice(at, at + 500).map((o) => ({
          address: objectAddress(cluster, o.kind, o.namespace, o.name),
          cluster,
          kind: o.kind,
          object: JSON.stringify(o.object),
          managed_fields: '[]',
        })),
      )
      .onConflict((oc) => oc.column('address').doNothing())
      .execute()
  }
}

/** external-dns follows what clients write, as it follows what Flotilla applies. */
export async function resyncExternalDns(db: SimDb, cluster: string): Promise<void> {
  const [target] = (await knownTargets(db, [cluster])).values()
  if (!target) return
  const rows = await db.selectFrom('sim_objects').select('object').where('cluster', '=', cluster).execute()
  await syncExternalDns(
    db,
    cluster,
    target.account,
    externalDnsRecords(
      cluster,
      rows.map((r) => r.object as Json),
    ),
  )
}
