/**
 * Snapshots of destroyed protected resources, and restoring one through the provider that took
 * it — through the same gate as every change outside a rollout (`operations/restore-snapshot.ts`).
 */
import { NotFoundError } from '../core/errors.ts'
import type { RestoreReport, SnapshotInfo } from '../core/provider/port.ts'
import { restoreSnapshot } from '../operations/restore-snapshot.ts'
import { appendAuditEntry } from '../store/audit.ts'
import type { Json } from '../store/tables.ts'
import type { Application } from './application.ts'

/** Every provider's snapshots, newest first. */
export async function listSnapshots(app: Application): Promise<SnapshotInfo[]> {
  const all = (await Promise.all(app.registry.all().map((p) => p.snapshots()))).flat()
  return all.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
}

/** The snapshot of an id, when there is one. */
export async function findSnapshot(app: Application, id: string): Promise<SnapshotInfo | undefined> {
  return (await listSnapshots(app)).find((s) => s.id === id)
}

/** A restore: of which snapshot, by whom, and how its audit entry reads. */
export interface RestoreRequest {
  readonly snapshot: SnapshotInfo
  readonly actor: string
  readonly source: string
  /** The audit entry's subject and detail, as the face records them. */
  readonly audit: (report: RestoreReport) => { readonly subject: string; readonly detail: Json }
}

/** Restores a snapshot through its provider and audits it. */
export async function restoreSnapshotOf(app: Application, request: RestoreRequest): Promise<RestoreReport> {
  const { snapshot, actor, source } = request
  const provider = app.registry.named(snapshot.provider)
  if (!provider)
    throw new NotFoundError(
      `snapshot ${snapshot.id} was taken by provider "${snapshot.provider}", which is not available here`,
    )
  const report = await restoreSnapshot(app.db, provider, snapshot, { actor, source })
  await appendAuditEntry(app.db, { actor, action: 'restore', source, ...request.audit(report) })
  return report
}
