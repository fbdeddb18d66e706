/**
 * The simulated Route 53 REST API (`/2013-04-01/…`, XML) on the simulated fleet's own hosted
 * zones: a change batch is checked as a whole and written in one transaction, into the same
 * tables the simulator's DNS server answers from. A caller sees the zones of its own account.
 */
import { randomBytes } from 'node:crypto'
import { InputError } from '../../../core/errors.ts'
import { checkRecordSet, isInZone, normalizeName, type RecordType } from '../dns-zones.ts'
import {
  deleteRecord,
  recordsOf,
  type StoredRecord,
  upsertRecord,
  ZONE_OWNER,
  zonesOf,
} from '../sim-zones-store.ts'
import type { AwsCall } from './aws-call.ts'
import { AwsError } from './aws-errors.ts'
import { parseXml, type XmlObject } from './xml.ts'

/** The namespace of Route 53's XML. */
export const ROUTE53_NAMESPACE = 'https://route53.amazonaws.com/doc/2013-04-01/'

/** The owner of record sets written through the Route 53 API (not by a stack or external-dns). */
export const ROUTE53_API_OWNER = 'route53-api'

/** A Route 53 response: the root element's name and its content. */
export interface Route53Response {
  readonly root: string
  readonly body: XmlObject
}

interface Route53Route {
  readonly method: string
  readonly pattern: RegExp
  readonly handle: (call: AwsCall, match: RegExpExecArray, body: string) => Promise<Route53Response>
}

const ROUTES: readonly Route53Route[] = [
  { method: 'GET', pattern: /^\/2013-04-01\/hostedzonesbyname$/, handle: listHostedZonesByName },
  { method: 'GET', pattern: /^\/2013-04-01\/hostedzone$/, handle: listHostedZones },
  { method: 'GET', pattern: /^\/2013-04-01\/hostedzone\/([^/]+)$/, handle: getHostedZone },
  { method: 'GET', pattern: /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/, handle: listResourceRecordSets },
  {
    method: 'POST',
    pattern: /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/,
    handle: changeResourceRecordSets,
  },
  { method: 'GET', pattern: /^\/2013-04-01\/change\/([^/]+)$/, handle: getChange },
]

/** Whether a path is one of Route 53's (the signing service says so too, but a path is enough). */
export function isRoute53Path(path: string): boolean {
  return path.startsWith('/2013-04-01/')
}

/** Answers one Route 53 request; an unknown path or method is Route 53's own error. */
export async function handleRoute53(
  call: AwsCall,
  method: string,
  path: string,
  body: string,
): Promise<Route53Response> {
  for (const route of ROUTES) {
    const match = route.pattern.exec(path)
    if (match && route.method === method) return route.handle(call, match, body)
  }
  throw new AwsError('InvalidAction', `${method} ${path} is not an action of the simulated Route 53`, 400)
}

/** Route 53 lists names with their labels reversed: `www.example.com.` sorts as `com.example.www`. */
function sortKey(name: string): string {
  return normalizeName(name).split('.').reverse().join('.')
}

async function zonesOfCaller(call: AwsCall) {
  const zones = await zonesOf(call.db, call.account.id)
  return zones.sort((a, b) => compare(sortKey(a.name), sortKey(b.name)) || compare(a.id, b.id))
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

async function renderZone(call: AwsCall, zone: { id: string; name: string }): Promise<XmlObject> {
  const count = (await recordsOf(call.db, zone.id)).length
  return {
    Id: `/hostedzone/${zone.id}`,
    Name: zone.name,
    CallerReference: zone.id,
    Config: { PrivateZone: false },
    ResourceRecordSetCount: count,
  }
}

function maxItems(call: AwsCall, fallback: number): number {
  const text = call.params.get('maxitems')
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < 1)
    throw new AwsError('InvalidInput', `maxitems ${text} must be a positive integer`)
  return Math.min(value, fallback)
}

async function listHostedZonesByName(call: AwsCall): Promise<Route53Response> {
  const dnsName = call.params.get('dnsname')
  const fromId = call.params.get('hostedzoneid')
  if (fromId !== undefined && dnsName === undefined)
    throw new AwsError('InvalidInput', 'hostedzoneid can be given only with dnsname')
  const limit = maxItems(call, 100)
  const zones = (await zonesOfCaller(call)).filter((zone) => {
    if (dnsName === undefined) return true
    const order = compare(sortKey(zone.name), sortKey(dnsName))
    return order > 0 || (order === 0 && (fromId === undefined || zone.id >= fromId))
  })
  const page = zones.slice(0, limit)
  const next = zones[limit]
  const rendered: XmlObject[] = []
  for (const zone of page) rendered.push(await renderZone(call, zone))
  return {
    root: 'ListHostedZonesByNameResponse',
    body: {
      HostedZones: { HostedZone: rendered },
      DNSName: dnsName,
      HostedZoneId: fromId,
      IsTruncated: next !== undefined,
      NextDNSName: next?.name,
      NextHostedZoneId: next?.id,
      MaxItems: limit,
    },
  }
}

async function listHostedZones(call: AwsCall): Promise<Route53Response> {
  const limit = maxItems(call, 100)
  const marker = call.params.get('marker')
  const all = await zonesOfCaller(call)
  const start =
    marker === undefined
      ? 0
      : Math.max(
          0,
          all.findIndex((zone) => zone.id === marker),
        )
  const page = all.slice(start, start + limit)
  const next = all[start + limit]
  const rendered: XmlObject[] = []
  for (const zone of page) rendered.push(await renderZone(call, zone))
  return {
    root: 'ListHostedZonesResponse',
    body: {
      HostedZones: { HostedZone: rendered },
      Marker: marker ?? '',
      IsTruncated: next !== undefined,
      NextMarker: next?.id,
      MaxItems: limit,
    },
  }
}

async function zoneOf(call: AwsCall, id: string) {
  const zoneId = decodeURIComponent(id).replace(/^\/?hostedzone\//, '')
  const zone = (await zonesOf(call.db, call.account.id)).find((z) => z.id === zoneId)
  if (!zone) throw new AwsError('NoSuchHostedZone', `No hosted zone found with ID: ${zoneId}`, 404)
  return zone
}

async function getHostedZone(call: AwsCall, match: RegExpExecArray): Promise<Route53Response> {
  const zone = await zoneOf(call, match[1]!)
  const ns = (await recordsOf(call.db, zone.id)).find((r) => r.type === 'NS' && r.name === zone.name)
  return {
    root: 'GetHostedZoneResponse',
    body: {
      HostedZone: await renderZone(call, zone),
      DelegationSet: { NameServers: { NameServer: (ns?.values ?? []).map((v) => v.replace(/\.$/, '')) } },
    },
  }
}

function renderRecord(record: StoredRecord): XmlObject {
  return {
    Name: record.name,
    Type: record.type,
    TTL: record.ttl,
    ResourceRecords: { ResourceRecord: record.values.map((value) => ({ Value: value })) },
  }
}

async function listResourceRecordSets(call: AwsCall, match: RegExpExecArray): Promise<Route53Response> {
  const zone = await zoneOf(call, match[1]!)
  const name = call.params.get('name')
  const type = call.params.get('type')
  if (type !== undefined && name === undefined)
    throw new AwsError('InvalidInput', 'type can be given only with name')
  const limit = maxItems(call, 300)
  const records = (await recordsOf(call.db, zone.id))
    .sort((a, b) => compare(sortKey(a.name), sortKey(b.name)) || compare(a.type, b.type))
    .filter((record) => {
      if (name === undefined) return true
      const order = compare(sortKey(record.name), sortKey(name))
      return order > 0 || (order === 0 && (type === undefined || record.type >= type))
    })
  const page = records.slice(0, limit)
  const next = records[limit]
  return {
    root: 'ListResourceRecordSetsResponse',
    body: {
      ResourceRecordSets: { ResourceRecordSet: page.map(renderRecord) },
      IsTruncated: next !== undefined,
      NextRecordName: next?.name,
      NextRecordType: next?.type,
      MaxItems: limit,
    },
  }
}

/** One change of a batch, as parsed from the request. */
interface RecordChange {
  readonly action: 'CREATE' | 'DELETE' | 'UPSERT'
  readonly record: { name: string; type: string; ttl: number; values: string[] }
}

function asList(value: unknown): unknown[] {
  return value === undefined || value === '' ? [] : Array.isArray(value) ? value : [value]
}

function parseChanges(body: string): RecordChange[] {
  let parsed: Record<string, unknown>
  try {
    parsed = parseXml(body)
  } catch (error) {
    throw new AwsError('InvalidInput', `the request body is not XML: ${(error as Error).message}`)
  }
  const request = parsed.ChangeResourceRecordSetsRequest as {
    ChangeBatch?: { Changes?: { Change?: unknown } }
  }
  const changes = asList(request?.ChangeBatch?.Changes?.Change) as Record<string, unknown>[]
  if (changes.length === 0)
    throw new AwsError('InvalidInput', 'ChangeBatch.Changes must hold at least one Change')
  return changes.map((change, index) => {
    const action = String(change.Action)
    if (action !== 'CREATE' && action !== 'DELETE' && action !== 'UPSERT')
      throw new AwsError(
        'InvalidInput',
        `Change ${index + 1}: Action ${action} must be CREATE, DELETE or UPSERT`,
      )
    const set = (change.ResourceRecordSet ?? {}) as Record<string, unknown>
    for (const unsupported of ['AliasTarget', 'SetIdentifier', 'Weight', 'Region', 'Failover', 'GeoLocation'])
      if (set[unsupported] !== undefined)
        throw new AwsError(
          'InvalidInput',
          `Change ${index + 1}: ${unsupported} is not supported by the simulated Route 53`,
        )
    const values = asList(
      (set.ResourceRecords as { ResourceRecord?: unknown } | undefined)?.ResourceRecord,
    ).map((record) => String((record as { Value?: unknown }).Value ?? ''))
    return {
      action,
      record: {
        name: normalizeName(String(set.Name ?? '')),
        type: String(set.Type ?? ''),
        ttl: set.TTL === undefined ? Number.NaN : Number(set.TTL),
        values,
      },
    }
  })
}

async function changeResourceRecordSets(
  call: AwsCall,
  match: RegExpExecArray,
  body: string,
): Promise<Route53Response> {
  const zone = await zoneOf(call, match[1]!)
  const changes = parseChanges(body)
  const submittedAt = call.now()
  await call.db.transaction().execute(async (trx) => {
    const current = new Map((await recordsOf(trx, zone.id)).map((r) => [`${r.name} ${r.type}`, r]))
    const after = new Map(current)
    const problems: string[] = []
    for (const { action, record } of changes) {
      const key = `${record.name} ${record.type}`
      const where = `[name='${record.name}', type='${record.type}']`
      if (!isInZone(record.name, zone.name)) {
        problems.push(`RRSet with DNS name ${record.name} is not permitted in zone ${zone.name}`)
        continue
      }
      const existing = after.get(key)
      if (action === 'DELETE') {
        if (!existing) problems.push(`Tried to delete resource record set ${where} but it was not found`)
        else if (
          existing.ttl !== record.ttl ||
          JSON.stringify(existing.values) !== JSON.stringify(checkedValues(zone.name, record))
        )
          problems.push(
            `Tried to delete resource record set ${where} but the values provided do not match the current values`,
          )
        else if (record.name === zone.name && (record.type === 'SOA' || record.type === 'NS'))
          problems.push(`A HostedZone must contain at least one ${record.type} record for the zone itself.`)
        else after.delete(key)
        continue
      }
      if (action === 'CREATE' && existing) {
        problems.push(`Tried to create resource record set ${where} but it already exists`)
        continue
      }
      try {
        const checked = checkRecordSet(zone.name, { ...record, type: record.type as RecordType })
        after.set(key, { ...checked, owner: existing?.owner === ZONE_OWNER ? ZONE_OWNER : ROUTE53_API_OWNER })
      } catch (error) {
        if (!(error instanceof InputError)) throw error
        problems.push(error.message)
      }
    }
    for (const record of after.values()) {
      if (record.type !== 'CNAME') continue
      if ([...after.values()].some((other) => other.name === record.name && other.type !== 'CNAME'))
        problems.push(
          `RRSet of type CNAME with DNS name ${record.name} is not permitted as it conflicts with other records with the same DNS name in zone ${zone.name}`,
        )
    }
    if (problems.length > 0)
      throw new AwsError('InvalidChangeBatch', `[${problems.join(', ')}]`, 400, problems)
    for (const [key, record] of current) {
      if (!after.has(key)) await deleteRecord(trx, zone.id, record.name, record.type)
    }
    for (const [key, record] of after) {
      if (current.get(key) !== record) await upsertRecord(trx, zone, record)
    }
  })
  return {
    root: 'ChangeResourceRecordSetsResponse',
    body: { ChangeInfo: changeInfo(changeId(submittedAt), submittedAt) },
  }
}

function checkedValues(apex: string, record: RecordChange['record']): readonly string[] {
  try {
    return checkRecordSet(apex, { ...record, type: record.type as RecordType }).values
  } catch {
    return record.values
  }
}

/**
 * A change id that carries when it was submitted: a change is in the store (and in DNS) once
 * its batch commits, so every change the simulator issued is `INSYNC`.
 */
function changeId(at: Date): string {
  return `C${at.getTime().toString(36).toUpperCase().padStart(9, '0')}${randomBytes(5).toString('hex').toUpperCase()}`
}

function changeInfo(id: string, at: Date): XmlObject {
  return { Id: `/change/${id}`, Status: 'INSYNC', SubmittedAt: at }
}

async function getChange(_call: AwsCall, match: RegExpExecArray): Promise<Route53Response> {
  const id = decodeURIComponent(match[1]!).replace(/^\/?change\//, '')
  const parsed = /^C([0-9A-Z]{9})[0-9A-F]{10}$/.exec(id)
  if (!parsed)
    throw new AwsError('NoSuchChange', `A change with the specified change ID does not exist: ${id}`, 404)
  return {
    root: 'GetChangeResponse',
    body: { ChangeInfo: changeInfo(id, new Date(Number.parseInt(parsed[1]!, 36))) },
  }
}
