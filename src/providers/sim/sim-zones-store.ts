/**
 * The simulated Route 53 in the store: hosted zones and record sets, written in the caller's
 * transaction so a zone change commits together with the stack operation or restore it belongs
 * to. Every change bumps the DNS serial, which tells DNS servers in other processes to reload.
 */
import { randomBytes } from 'node:crypto'
import { checkRecordSet, InMemoryZones, isInZone, normalizeName, type RecordType } from './dns-zones.ts'
import { type ExternalDnsRecord, externalDnsOwner } from './external-dns.ts'
import type { SimDb } from './sim-database.ts'
import { bumpDnsSerial } from './sim-meta.ts'

/** The owner of a zone's own SOA and NS record sets. */
export const ZONE_OWNER = 'zone'

/** A record set as stored, with its owner. */
export interface StoredRecord {
  readonly name: string
  readonly type: RecordType
  readonly ttl: number
  readonly values: readonly string[]
  /** `zone`, the address of the stack that declares it, or `external-dns:<cluster>`. */
  readonly owner: string
}

/** A zone as stored. */
export interface StoredZone {
  readonly id: string
  readonly account: string
  readonly name: string
  readonly stack: string | null
  readonly logicalId: string | null
}

const NAME_SERVERS = ['ns-1.sim.flotilla.', 'ns-2.sim.flotilla.']

/** A Route 53-like zone id: `Z` and 13 upper-case letters and digits. */
export function newZoneId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  return `Z${[...randomBytes(13)].map((byte) => alphabet[byte % alphabet.length]).join('')}`
}

/** The zones of an account (all when `account` is undefined). */
export async function zonesOf(db: SimDb, account?: string): Promise<StoredZone[]> {
  let query = db.selectFrom('sim_zones').selectAll()
  if (account !== undefined) query = query.where('account', '=', account)
  const rows = await query.orderBy('name').orderBy('id').execute()
  return rows.map((row) => ({
    id: row.id,
    account: row.account,
    name: row.name,
    stack: row.stack,
    logicalId: row.logical_id,
  }))
}

/** The record sets of a zone, sorted by name and type. */
export async function recordsOf(db: SimDb, zoneId: string): Promise<StoredRecord[]> {
  const rows = await db
    .selectFrom('sim_records')
    .selectAll()
    .where('zone_id', '=', zoneId)
    .orderBy('name')
    .orderBy('type')
    .execute()
  return rows.map(toStoredRecord)
}

function toStoredRecord(row: {
  name: string
  type: string
  ttl: number
  values: unknown
  owner: string
}): StoredRecord {
  return {
    name: row.name,
    type: row.type as RecordType,
    ttl: row.ttl,
    values: row.values as string[],
    owner: row.owner,
  }
}

/**
 * Creates a zone with its SOA and NS record sets, or — when the account already has an
 * unmanaged zone of that name (retained by `DeletionPolicy: Retain`, or restored from a snapshot)
 * — adopts it with everything in it, as a CloudFormation resource import would.
 */
export async function createOrAdoptZone(
  db: SimDb,
  account: string,
  name: string,
  owner: { stack: string; logicalId: string } | null,
): Promise<{ id: string; adopted: boolean }> {
  const apex = normalizeName(name)
  // A stack adopts only an unmanaged zone; a restore (no owner) puts its records into whatever
  // zone of that name the account has, so one name never has two zones.
  let query = db.selectFrom('sim_zones').select('id').where('account', '=', account).where('name', '=', apex)
  if (owner) query = query.where('stack', 'is', null)
  const unmanaged = await query.orderBy('created_at').executeTakeFirst()
  if (unmanaged) {
    if (owner) {
      await db
        .updateTable('sim_zones')
        .set({ stack: owner.stack, logical_id: owner.logicalId })
        .where('id', '=', unmanaged.id)
        .execute()
    }
    return { id: unmanaged.id, adopted: true }
  }
  const id = newZoneId()
  await db
    .insertInto('sim_zones')
    .values({ id, account, name: apex, stack: owner?.stack ?? null, logical_id: owner?.logicalId ?? null })
    .execute()
  await db
    .insertInto('sim_records')
    .values([
      {
        zone_id: id,
        name: apex,
        type: 'SOA',
        ttl: 900,
        values: JSON.stringify([`${NAME_SERVERS[0]} hostmaster.${apex} 1 7200 900 1209600 86400`]),
        owner: ZONE_OWNER,
      },
      {
        zone_id: id,
        name: apex,
        type: 'NS',
        ttl: 900,
        values: JSON.stringify(NAME_SERVERS),
        owner: ZONE_OWNER,
      },
    ])
    .execute()
  await bumpDnsSerial(db)
  return { id, adopted: false }
}

/** Deletes a zone and every record in it. */
export async function deleteZone(db: SimDb, zoneId: string): Promise<void> {
  await db.deleteFrom('sim_zones').where('id', '=', zoneId).execute()
  await bumpDnsSerial(db)
}

/** Detaches a zone from its stack: it stays, with its records, unmanaged (`DeletionPolicy: Retain`). */
export async function detachZone(db: SimDb, zoneId: string): Promise<void> {
  await db.updateTable('sim_zones').set({ stack: null, logical_id: null }).where('id', '=', zoneId).execute()
}

/** Creates or replaces one record set (Route 53 `UPSERT`); the values are checked as Route 53 would. */
export async function upsertRecord(db: SimDb, zone: StoredZone, record: StoredRecord): Promise<void> {
  const checked = checkRecordSet(zone.name, record)
  await db
    .insertInto('sim_records')
    .values({
      zone_id: zone.id,
      name: checked.name,
      type: checked.type,
      ttl: checked.ttl,
      values: JSON.stringify(checked.values),
      owner: record.owner,
    })
    .onConflict((oc) =>
      oc.columns(['zone_id', 'name', 'type']).doUpdateSet({
        ttl: checked.ttl,
        values: JSON.stringify(checked.values),
        owner: record.owner,
      }),
    )
    .execute()
  await bumpDnsSerial(db)
}

/** Deletes one record set. */
export async function deleteRecord(db: SimDb, zoneId: string, name: string, type: string): Promise<void> {
  await db
    .deleteFrom('sim_records')
    .where('zone_id', '=', zoneId)
    .where('name', '=', normalizeName(name))
    .where('type', '=', type)
    .execute()
  await bumpDnsSerial(db)
}

/**
 * Makes the records external-dns of `cluster` owns in the zones of `account` equal `wanted`:
 * each name goes to the closest enclosing zone of the account; names no zone encloses wait for
 * one (external-dns skips them too); records it owned and no longer wants are removed. Records
 * of other owners are never touched.
 */
export async function syncExternalDns(
  db: SimDb,
  cluster: string,
  account: string,
  wanted: readonly ExternalDnsRecord[],
): Promise<void> {
  const owner = externalDnsOwner(cluster)
  const zones = await zonesOf(db, account)
  const existing = await db
    .selectFrom('sim_records')
    .innerJoin('sim_zones', 'sim_zones.id', 'sim_records.zone_id')
    .select(['sim_records.zone_id', 'sim_records.name', 'sim_records.type', 'sim_records.values'])
    .where('sim_records.owner', '=', owner)
    .execute()
  const keep = new Set<string>()
  let changed = false
  for (const record of wanted) {
    const zone = zones
      .filter((z) => isInZone(record.name, z.name))
      .sort((a, b) => b.name.length - a.name.length)[0]
    if (!zone) continue
    keep.add(`${zone.id} ${record.name} ${record.type}`)
    const current = existing.find(
      (e) => e.zone_id === zone.id && e.name === record.name && e.type === record.type,
    )
    if (current && JSON.stringify(current.values) === JSON.stringify(record.values)) continue
    const taken = await db
      .selectFrom('sim_records')
      .select('owner')
      .where('zone_id', '=', zone.id)
      .where('name', '=', record.name)
      .where('type', '=', record.type)
      .executeTakeFirst()
    if (taken && taken.owner !== owner) continue // external-dns never overwrites records it does not own
    await upsertRecord(db, zone, { ...record, owner })
    changed = true
  }
  for (const stale of existing) {
    if (keep.has(`${stale.zone_id} ${stale.name} ${stale.type}`)) continue
    await deleteRecord(db, stale.zone_id, stale.name, stale.type)
    changed = true
  }
  if (changed) await bumpDnsSerial(db)
}

/** Every zone and record of the simulated fleet, as the DNS server answers from them. */
export async function loadZones(db: SimDb): Promise<InMemoryZones> {
  const zones = new InMemoryZones()
  const rows = await db
    .selectFrom('sim_zones')
    .leftJoin('sim_records', 'sim_records.zone_id', 'sim_zones.id')
    .select([
      'sim_zones.id as id',
      'sim_zones.name as zone',
      'sim_records.name',
      'sim_records.type',
      'sim_records.ttl',
      'sim_records.values',
    ])
    .orderBy('sim_zones.created_at')
    .execute()
  const served = new Map<string, string>() // zone name → the id of the zone that answers for it
  for (const row of rows) {
    if (!served.has(row.zone)) {
      served.set(row.zone, row.id)
      zones.addZone(row.zone)
    }
    if (served.get(row.zone) !== row.id) continue // the oldest zone of a name answers, as in `restore`
    if (row.name === null || row.type === null || row.ttl === null) continue
    try {
      zones.upsertRecordSet(row.zone, {
        name: row.name,
        type: row.type as RecordType,
        ttl: row.ttl,
        values: row.values as string[],
      })
    } catch {
      // A record the zone cannot hold (a CNAME beside other records) is not served.
    }
  }
  return zones
}

/** How many zones there are (of one account, or all). */
export async function zoneCount(db: SimDb, account?: string): Promise<number> {
  let query = db.selectFrom('sim_zones').select(db.fn.countAll<number>().as('n'))
  if (account !== undefined) query = query.where('account', '=', account)
  return Number((await query.executeTakeFirstOrThrow()).n)
}

/** The name of a zone, if it exists. */
export async function zoneName(db: SimDb, zoneId: string): Promise<string | undefined> {
  const row = await db.selectFrom('sim_zones').select('name').where('id', '=', zoneId).executeTakeFirst()
  return row?.name
}

/** Makes a zone a stack's resource again (a restored zone its stack still declares). */
export async function attachZone(db: SimDb, zoneId: string, stack: string, logicalId: string): Promise<void> {
  await db.updateTable('sim_zones').set({ stack, logical_id: logicalId }).where('id', '=', zoneId).execute()
}

/** How many record sets there are, and how many of them external-dns wrote. */
export async function recordCounts(db: SimDb): Promise<{ total: number; externalDns: number }> {
  const records = await db.selectFrom('sim_records').select(['owner']).execute()
  return {
    total: records.length,
    externalDns: records.filter((r) => r.owner.startsWith(externalDnsOwner(''))).length,
  }
}

/** A zone, if it exists. */
export async function zoneById(db: SimDb, zoneId: string): Promise<StoredZone | undefined> {
  const row = await db.selectFrom('sim_zones').selectAll().where('id', '=', zoneId).executeTakeFirst()
  return row
    ? { id: row.id, account: row.account, name: row.name, stack: row.stack, logicalId: row.logical_id }
    : undefined
}

/** The zones of a stack follow it to its new address (a stack moved with `MovedFrom`). */
export async function moveStackZones(db: SimDb, from: string, to: string): Promise<void> {
  await db.updateTable('sim_zones').set({ stack: to }).where('stack', '=', from).execute()
}
