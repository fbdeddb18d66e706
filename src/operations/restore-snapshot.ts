/**
 * Restores a destroyed protected resource from its snapshot, for `flotilla restore`, the API and
 * the portal alike: through the same gate as every change outside a rollout — refused while the
 * fleet-wide stop is pulled or a rollout holds the snapshot's target, which is held meanwhile.
 */
import type { Kysely } from 'kysely'
import type { Provider, RestoreReport } from '../core/provider/port.ts'
import type { Database } from '../store/tables.ts'
import { whileHolding } from './fleet-gate.ts'

/** Who restores, and from where (for the gate's refusal and its audit entry). */
export interface RestoreRequest {
  readonly actor: string
  readonly source: string
}

/** Restores snapshot `snapshot.id` of `snapshot.target` with the provider that took it. */
export function restoreSnapshot(
  db: Kysely<Database>,
  provider: Provider,
  snapshot: { readonly id: string; readonly target: string },
  request: RestoreRequest,
): Promise<RestoreReport> {
  return whileHolding(
    db,
    [snapshot.target],
    {
      kind: 'restore',
      actor: request.actor,
      source: request.source,
      describe: `restore of snapshot ${snapshot.id} (target ${snapshot.target})`,
    },
    () => provider.restore(snapshot.id),
  )
}
