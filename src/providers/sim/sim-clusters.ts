/**
 * The simulated Kubernetes clusters: objects applied per cluster, ready after a delay that
 * depends on their kind, pruned only when the reviewed plan prunes them; and external-dns, which
 * publishes the cluster's ingress names into its account's zones whenever its objects change.
 */
import { sql } from 'kysely'
import type { RenderedManifest } from '../../core/model/desired-state.ts'
import type { Target } from '../../core/model/fleet-model.ts'
import type { Change } from '../../core/model/plan.ts'
import { manifestFingerprint } from '../../core/provider/fingerprint.ts'
import { type AppliedOperation, ProviderError } from '../../core/provider/port.ts'
import { externalDnsRecords } from './external-dns.ts'
import type { SimDb } from './sim-database.ts'
import { syncExternalDns } from './sim-zones-store.ts'

/** An object as stored. */
export interface SimObject {
  readonly address: string
  readonly cluster: string
  readonly component: string
  readonly object: Record<string, unknown>
  readonly readyAt: Date
}

/** The objects of some clusters. */
export async function loadObjects(db: SimDb, clusters: readonly string[]): Promise<SimObject[]> {
  if (clusters.length === 0) return []
  const rows = await db
    .selectFrom('sim_objects')
    // Not the Kubernetes API's bookkeeping (managed fields, versions): plans and health never need it.
    .select(['address', 'cluster', 'component', 'object', 'ready_at'])
    .where('cluster', 'in', clusters)
    .orderBy('address')
    .execute()
  return rows.map((row) => ({
    address: row.address,
    cluster: row.cluster,
    component: row.component,
    object: row.object as Record<string, unknown>,
    readyAt: row.ready_at,
  }))
}

/** An applied object as the planner sees it. */
export function observedManifest(object: SimObject): RenderedManifest {
  return { address: object.address, component: object.component, source: 'sim', object: object.object }
}

/**
 * Applies a cluster's manifests in one transaction: changed objects are written (ready after
 * their kind's delay), objects no longer rendered are pruned — only those the reviewed plan
 * deletes, and protected ones only with an approval — and external-dns re-publishes.
 */
export async function applyObjects(
  db: SimDb,
  target: Target,
  desired: readonly RenderedManifest[],
  reviewed: readonly Change[],
  approvedDestruction: ReadonlySet<string>,
  readyAt: (kind: string) => Date,
): Promise<AppliedOperation[]> {
  const current = new Map((await loadObjects(db, [target.id])).map((o) => [o.address, o]))
  const wanted = new Set(desired.map((m) => m.address))
  const reviewedDeletes = new Map(reviewed.filter((c) => c.action === 'delete').map((c) => [c.address, c]))
  const operations: AppliedOperation[] = []
  const prune: string[] = []
  for (const [address] of current) {
    if (wanted.has(address)) continue
    const change = reviewedDeletes.get(address)
    if (!change) {
      throw new ProviderError(
        'refused',
        target.id,
        `refusing to prune ${address}: the reviewed plan does not delete it; plan again`,
        address,
      )
    }
    if (change.protected && !approvedDestruction.has(address)) {
      throw new ProviderError(
        'refused',
        target.id,
        `refusing to prune protected ${change.type} ${address}: no approval covers it`,
        address,
      )
    }
    prune.push(address)
  }
  const writes = desired.filter((m) => {
    const existing = current.get(m.address)
    return !existing || manifestFingerprint(existing) !== manifestFingerprint(m)
  })
  await db.transaction().execute(async (trx) => {
    if (prune.length > 0) await trx.deleteFrom('sim_objects').where('address', 'in', prune).execute()
    for (const address of prune) operations.push({ address, operation: 'delete' })
    const now = new Date()
    for (let at = 0; at < writes.length; at += 500) {
      const batch = writes.slice(at, at + 500)
      await trx
        .insertInto('sim_objects')
        .values(
          batch.map((m) => ({
            address: m.address,
            cluster: target.id,
            component: m.component,
            object: JSON.stringify(m.object),
            ready_at: readyAt(String(m.object.kind)),
            // Written whole, the object is Flotilla's: no entries means the Kubernetes-compatible
            // API derives them (every field the manager `flotilla`'s) when a client reads it. Not
            // writing them here keeps an apply of a fleet's objects as cheap as it was.
            managed_fields: '[]',
          })),
        )
        .onConflict((oc) =>
          oc.column('address').doUpdateSet((eb) => ({
            object: eb.ref('excluded.object'),
            component: eb.ref('excluded.component'),
            ready_at: eb.ref('excluded.ready_at'),
            managed_fields: eb.ref('excluded.managed_fields'),
            resource_version: sql<number>`default`, // the next of the sequence `sim_resource_version`, in whatever schema
            generation: sql<number>`sim_objects.generation + 1`,
            updated_at: now,
          })),
        )
        .execute()
    }
    for (const m of writes)
      operations.push({ address: m.address, operation: current.has(m.address) ? 'update' : 'create' })
    if (writes.length > 0 || prune.length > 0) {
      await syncExternalDns(
        trx,
        target.id,
        target.account,
        externalDnsRecords(
          target.id,
          desired.map((m) => m.object),
        ),
      )
    }
  })
  return operations
}

/** Clusters that have at least one object applied. */
export async function deployedClusterIds(db: SimDb): Promise<Set<string>> {
  const rows = await db.selectFrom('sim_objects').select('cluster').distinct().execute()
  return new Set(rows.map((r) => r.cluster))
}

/** How many objects there are, and how many of them are ready at `now`. */
export async function objectReadiness(db: SimDb, now: Date): Promise<{ total: number; ready: number }> {
  const objects = await db.selectFrom('sim_objects').select(['ready_at']).execute()
  return { total: objects.length, ready: objects.filter((o) => o.ready_at.getTime() <= now.getTime()).length }
}

/** Replaces an object as applied (a change made outside Flotilla), as a client's write would. */
export async function replaceObject(
  db: SimDb,
  address: string,
  object: Record<string, unknown>,
): Promise<void> {
  await db
    .updateTable('sim_objects')
    // The column's default draws the next version from the sequence, whatever schema it is in.
    .set({ object: JSON.stringify(object), resource_version: sql<number>`default` })
    .where('address', '=', address)
    .execute()
}
