/**
 * Snapshots of Route 53 hosted zones: every record set, taken before the aws provider lets a
 * change delete or replace a zone — those of the templates and those other controllers
 * (external-dns) wrote, which exist nowhere else. Restoring writes them back into the zone of that
 * name, which the zone's stack creates again.
 */
import {
  ChangeResourceRecordSetsCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53'
import type { Kysely } from 'kysely'
import { NotFoundError } from '../../core/errors.ts'
import { ProviderError, type RestoreReport, type SnapshotInfo } from '../../core/provider/port.ts'
import { insertSnapshot, markRestored, newSnapshotId, snapshotById } from '../../store/snapshots.ts'
import type { Database, Json } from '../../store/tables.ts'
import { sendOptions } from './aws-calls.ts'
import { providerErrorOf } from './aws-errors.ts'

/** What a zone snapshot holds. */
interface ZoneContent {
  readonly account: string
  readonly zone: { readonly id: string; readonly name: string }
  readonly recordSets: readonly ResourceRecordSet[]
}

/** Route 53 takes at most 1,000 changes in one batch; this leaves room. */
const BATCH = 500

/**
 * Copies every record set of zone `zoneId` into a snapshot of `address` (the zone's resource).
 * `signal` stops the reading; no snapshot is stored then.
 */
export async function snapshotZone(
  db: Kysely<Database>,
  route53: Route53Client,
  where: { readonly target: string; readonly account: string; readonly address: string },
  zoneId: string,
  signal?: AbortSignal,
): Promise<SnapshotInfo> {
  try {
    const zone = await route53.send(new GetHostedZoneCommand({ Id: zoneId }), sendOptions(signal))
    const name = zone.HostedZone?.Name ?? ''
    const recordSets: ResourceRecordSet[] = []
    let next: { StartRecordName?: string; StartRecordType?: string; StartRecordIdentifier?: string } = {}
    for (;;) {
      const page = await route53.send(
        new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, ...(next as object) }),
        sendOptions(signal),
      )
      recordSets.push(...(page.ResourceRecordSets ?? []))
      if (!page.IsTruncated) break
      next = {
        ...(page.NextRecordName ? { StartRecordName: page.NextRecordName } : {}),
        ...(page.NextRecordType ? { StartRecordType: page.NextRecordType } : {}),
        ...(page.NextRecordIdentifier ? { StartRecordIdentifier: page.NextRecordIdentifier } : {}),
      }
    }
    const content: ZoneContent = { account: where.account, zone: { id: zoneId, name }, recordSets }
    const others = recordSets.filter((r) => !isApexSoaOrNs(r, name)).length
    const now = new Date()
    return await insertSnapshot(db, {
      id: newSnapshotId(now),
      target: where.target,
      address: where.address,
      type: 'AWS::Route53::HostedZone',
      content: content as unknown as Json,
      provider: 'aws',
      description: `zone ${name} with ${others} record sets besides SOA and NS`,
      createdAt: now,
    })
  } catch (error) {
    // No copy, no destruction: the caller stops the change.
    throw providerErrorOf(
      error,
      where.target,
      `cannot snapshot the hosted zone ${zoneId} of ${where.address}`,
      where.address,
    )
  }
}

/**
 * Writes a snapshot's record sets back into the zone of its name (all but the apex SOA and NS,
 * which a new zone has of its own). The zone must exist: its stack creates it again.
 */
export async function restoreZone(
  db: Kysely<Database>,
  route53Of: (account: string, target: string) => Promise<Route53Client>,
  snapshotId: string,
): Promise<RestoreReport> {
  const stored = await snapshotById(db, snapshotId)
  const row = stored?.provider === 'aws' ? stored : undefined
  if (!row)
    throw new NotFoundError(`snapshot ${snapshotId} does not exist; run "flotilla snapshots" to list them`)
  const content = row.content as unknown as ZoneContent
  const route53 = await route53Of(content.account, row.target)
  const fail = (error: unknown) => {
    throw providerErrorOf(
      error,
      row.target,
      `cannot restore ${content.zone.name} from ${snapshotId}`,
      row.address,
    )
  }
  const found = await route53
    .send(new ListHostedZonesByNameCommand({ DNSName: content.zone.name, MaxItems: 1 }))
    .catch(fail)
  const zone = found?.HostedZones?.find((z) => z.Name === content.zone.name)
  if (!zone?.Id)
    throw new ProviderError(
      'refused',
      row.target,
      `the zone ${content.zone.name} does not exist in account ${content.account}: apply its stack again (a rollout of the last good revision) so that it exists, then restore ${snapshotId}`,
      row.address,
    )
  const sets = content.recordSets.filter((r) => !isApexSoaOrNs(r, content.zone.name))
  for (let at = 0; at < sets.length; at += BATCH) {
    await route53
      .send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone.Id,
          ChangeBatch: {
            Comment: `flotilla restore ${snapshotId}`,
            Changes: sets.slice(at, at + BATCH).map((set) => ({ Action: 'UPSERT', ResourceRecordSet: set })),
          },
        }),
      )
      .catch(fail)
  }
  await markRestored(db, snapshotId, new Date())
  const { content: _content, ...snapshot } = row
  return {
    snapshot,
    description: `${sets.length} record sets written back into ${content.zone.name} (${zone.Id.replace('/hostedzone/', '')})`,
  }
}

function isApexSoaOrNs(record: ResourceRecordSet, zoneName: string): boolean {
  return (record.Type === 'SOA' || record.Type === 'NS') && record.Name === zoneName
}
