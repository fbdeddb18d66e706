/**
 * Snapshots of simulated hosted zones: taken with every record set before a zone is destroyed,
 * kept in the control plane's `snapshots` (through `store/snapshots.ts`, which owns it), and
 * restored into the account — back into its stack when the stack still declares the zone.
 */
import type { Kysely } from 'kysely'
import { NotFoundError } from '../../core/errors.ts'
import type { RestoreReport, SnapshotInfo } from '../../core/provider/port.ts'
import { insertSnapshot, markRestored, newSnapshotId, snapshotById } from '../../store/snapshots.ts'
import type { Database } from '../../store/tables.ts'
import type { RecordType } from './dns-zones.ts'
import { externalDnsOwner } from './external-dns.ts'
import { type SimDb, simTransaction } from './sim-database.ts'
import { bumpDnsSerial } from './sim-meta.ts'
import { logicalIdOf, setStackResources, stackAt, stackEvent, type ZoneSnapshot } from './sim-stacks.ts'
import { attachZone, createOrAdoptZone, upsertRecord, zoneName } from './sim-zones-store.ts'

/** The provider name snapshots of the simulated fleet are kept under. */
export const SIM_PROVIDER = 'sim'

/** Keeps a zone's snapshot, in the caller's transaction (`store`). */
export async function saveZoneSnapshot(
  store: Kysely<Database>,
  now: Date,
  target: string,
  address: string,
  content: ZoneSnapshot,
): Promise<SnapshotInfo> {
  const others = content.records.filter((r) => r.owner !== 'zone')
  const fromExternalDns = others.filter((r) => r.owner.startsWith(externalDnsOwner(''))).length
  return insertSnapshot(store, {
    id: newSnapshotId(now),
    provider: SIM_PROVIDER,
    target,
    address,
    type: 'AWS::Route53::HostedZone',
    content: content as never,
    description: `zone ${content.zone.name} with ${others.length} record sets besides SOA and NS (${fromExternalDns} written by external-dns)`,
    createdAt: now,
  })
}

/** Recreates a destroyed zone from its snapshot, with every record set it had. */
export async function restoreZone(store: Kysely<Database>, snapshotId: string): Promise<RestoreReport> {
  const snapshot = await snapshotById(store, snapshotId)
  if (!snapshot || snapshot.provider !== SIM_PROVIDER) {
    throw new NotFoundError(`snapshot ${snapshotId} does not exist; run "flotilla snapshots" to list them`)
  }
  const { content: stored, ...info } = snapshot
  const content = stored as unknown as ZoneSnapshot
  const stackAddress = snapshot.address.slice(0, snapshot.address.lastIndexOf('/'))
  const logicalId = logicalIdOf(snapshot.address)
  let restored = 0
  await simTransaction(store, async ({ store: trx, sim }) => {
    restored = 0 // a transaction PostgreSQL rolled back runs again (simTransaction)
    const { id } = await createOrAdoptZone(sim, content.zone.account, content.zone.name, null)
    const zone = { id, account: content.zone.account, name: content.zone.name, stack: null, logicalId: null }
    for (const record of content.records) {
      if (record.owner === 'zone') continue // the new zone has its own SOA and NS
      await upsertRecord(sim, zone, { ...record, type: record.type as RecordType })
      restored++
    }
    await reattach(sim, snapshot.target, stackAddress, logicalId, snapshot.type, id)
    await markRestored(trx, snapshotId, new Date())
    await stackEvent(
      sim,
      snapshot.target,
      stackAddress,
      logicalId,
      snapshot.type,
      'RESTORE_COMPLETE',
      `from snapshot ${snapshotId}`,
    )
    await bumpDnsSerial(sim)
  })
  return {
    snapshot: info,
    description: `zone ${content.zone.name} in account ${content.zone.account} with ${restored} record sets (besides SOA and NS)`,
  }
}

/** A zone restored into an account whose stack still declares it (and has no zone for it) is that resource again. */
async function reattach(
  sim: SimDb,
  target: string,
  stackAddress: string,
  logicalId: string,
  type: string,
  zoneId: string,
): Promise<void> {
  const owner = await stackAt(sim, target, stackAddress)
  if (!owner || owner.pending !== null) return
  const declared = (owner.template.Resources ?? {}) as Record<string, unknown>
  const current = owner.resources[logicalId]?.physicalId
  const currentExists = current !== undefined && (await zoneName(sim, current)) !== undefined
  if (!(logicalId in declared) || currentExists) return
  await attachZone(sim, zoneId, owner.address, logicalId)
  await setStackResources(sim, owner.address, {
    ...owner.resources,
    [logicalId]: { type, physicalId: zoneId },
  })
}
