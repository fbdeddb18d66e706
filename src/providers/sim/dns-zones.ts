/**
 * The simulated fleet's DNS data: hosted zones holding record sets, shaped like Route 53's, which
 * the loopback DNS server (`dns-server.ts`) answers from. Pure: no I/O, no clocks.
 *
 * Names are compared case-insensitively and always carry a trailing dot, because in DNS
 * `WWW.Acme.example.org` and `www.acme.example.org.` are the same name; normalising once on the
 * way in keeps every lookup a plain map access.
 */
import { isIPv4, isIPv6 } from 'node:net'
import { ConflictError, InputError, NotFoundError } from '../../core/errors.ts'

/** The record types the simulated zones hold (the ones Flotilla's fleets and external-dns use). */
export const recordTypes = ['A', 'AAAA', 'CNAME', 'TXT', 'NS', 'SOA'] as const

/** One of {@link recordTypes}. */
export type RecordType = (typeof recordTypes)[number]

/**
 * A record set: every record of one type at one name, with one TTL (as in Route 53).
 *
 * Values are written as Route 53 writes them, one string per record:
 * - `A`: `192.0.2.10`; `AAAA`: `2001:db8::10`;
 * - `CNAME`, `NS`: a domain name (`shop.acme.example.org.`), exactly one value for `CNAME`;
 * - `TXT`: the text itself, unquoted (`v=spf1 -all`, `heritage=external-dns,…`);
 * - `SOA`: `mname rname serial refresh retry expire minimum`, only at the zone apex.
 *
 * Record sets are immutable: an update replaces the object, so a reader (the DNS server) may
 * cache whatever it derives from one, keyed by the object itself.
 */
export interface RecordSet {
  /** Fully qualified, lower case, with a trailing dot: `shop.acme.example.org.`. */
  readonly name: string
  readonly type: RecordType
  /** Seconds resolvers may cache the answer. */
  readonly ttl: number
  readonly values: readonly string[]
}

/** A hosted zone as the DNS server sees it: its apex name and what lives at each name in it. */
export interface Zone {
  /** The apex, normalised: `acme.example.org.`. */
  readonly name: string
  /**
   * The record sets at `name` (normalised, inside this zone), by type. An empty map means the
   * name exists only because names below it do (an "empty non-terminal": the answer there is
   * NODATA, not NXDOMAIN); `undefined` means the name does not exist in this zone.
   */
  recordSetsAt(name: string): ReadonlyMap<RecordType, RecordSet> | undefined
}

/**
 * Where the DNS server finds zones. The in-memory {@link InMemoryZones} implements it, and so will
 * the store-backed simulator, so the server does not care where zones live.
 */
export interface ZoneLookup {
  /** The zone whose apex is exactly `name` (normalised), if there is one. */
  findZone(name: string): Zone | undefined
}

/**
 * Lower-cases a domain name and gives it exactly one trailing dot.
 *
 * @example normalizeName('WWW.Acme.example.org') // 'www.acme.example.org.'
 */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase()
  if (lower === '' || lower === '.') return '.'
  return lower.endsWith('.') ? lower : `${lower}.`
}

/** Whether normalised `name` is `zone` itself or a name below it. */
export function isInZone(name: string, zone: string): boolean {
  if (zone === '.') return true
  return name === zone || (name.endsWith(zone) && name.charCodeAt(name.length - zone.length - 1) === 46) // '.'
}

/**
 * The closest enclosing zone of a normalised name: the zone whose apex is the longest suffix of
 * `name`. Walking from the name towards the root finds a delegated child zone
 * (`eu.acme.example.org.`) before its parent, as a resolver would.
 */
export function findEnclosingZone(zones: ZoneLookup, name: string): Zone | undefined {
  let suffix = name
  for (;;) {
    const zone = zones.findZone(suffix)
    if (zone !== undefined) return zone
    if (suffix === '.') return undefined
    const dot = suffix.indexOf('.')
    suffix = dot === suffix.length - 1 ? '.' : suffix.slice(dot + 1)
  }
}

/**
 * The record sets a wildcard gives a name that does not exist in `zone` (RFC 4592): those at
 * `*.<closest encloser>`, where the closest encloser is the longest existing ancestor of the
 * name. `undefined` when there is no such wildcard (the answer stays NXDOMAIN).
 */
export function wildcardAt(zone: Zone, name: string): ReadonlyMap<RecordType, RecordSet> | undefined {
  let suffix = name
  while (suffix !== zone.name) {
    const dot = suffix.indexOf('.')
    if (dot < 0 || dot === suffix.length - 1) return undefined
    suffix = suffix.slice(dot + 1)
    if (zone.recordSetsAt(suffix) !== undefined || suffix === zone.name) {
      const sets = zone.recordSetsAt(`*.${suffix}`)
      return sets !== undefined && sets.size > 0 ? sets : undefined
    }
  }
  return undefined
}

/** Options of {@link InMemoryZones.addZone}. */
export interface AddZoneOptions {
  /** @default ['ns-1.sim.flotilla.', 'ns-2.sim.flotilla.'] */
  readonly nameServers?: readonly string[]
  /** TTL of the apex SOA and NS record sets. @default 900 (Route 53's NS default is 172800; short keeps tests honest) */
  readonly ttl?: number
}

/** A record set as given to {@link InMemoryZones.upsertRecordSet}: names in any case, with or without the trailing dot. */
export interface RecordSetInput {
  readonly name: string
  readonly type: RecordType
  readonly ttl: number
  readonly values: readonly string[]
}

const MAX_TTL = 2 ** 31 - 1

class InMemoryZone implements Zone {
  readonly name: string
  /** name → type → record set; only names that hold at least one record set. */
  private readonly names = new Map<string, Map<RecordType, RecordSet>>()
  /**
   * Empty non-terminals → how many names with record sets lie below them. Counted on write so a
   * lookup of such a name stays one map access instead of a scan of the zone.
   */
  private readonly ancestors = new Map<string, number>()
  private static readonly EMPTY: ReadonlyMap<RecordType, RecordSet> = new Map()

  constructor(name: string) {
    this.name = name
  }

  recordSetsAt(name: string): ReadonlyMap<RecordType, RecordSet> | undefined {
    return this.names.get(name) ?? (this.ancestors.has(name) ? InMemoryZone.EMPTY : undefined)
  }

  allRecordSets(): RecordSet[] {
    return [...this.names.values()].flatMap((byType) => [...byType.values()])
  }

  put(set: RecordSet): void {
    let byType = this.names.get(set.name)
    if (byType === undefined) {
      byType = new Map()
      this.names.set(set.name, byType)
      this.countAncestors(set.name, +1)
    }
    byType.set(set.type, set)
  }

  delete(name: string, type: RecordType): boolean {
    const byType = this.names.get(name)
    if (byType === undefined || !byType.delete(type)) return false
    if (byType.size === 0) {
      this.names.delete(name)
      this.countAncestors(name, -1)
    }
    return true
  }

  private countAncestors(name: string, delta: 1 | -1): void {
    let ancestor = name
    for (;;) {
      ancestor = ancestor.slice(ancestor.indexOf('.') + 1)
      // '' is where the root zone's names end up; its apex `.` is never an empty non-terminal.
      if (name === this.name || ancestor === this.name || ancestor === '') break
      const count = (this.ancestors.get(ancestor) ?? 0) + delta
      if (count === 0) this.ancestors.delete(ancestor)
      else this.ancestors.set(ancestor, count)
    }
  }
}

/**
 * Hosted zones in memory: the fixture for tests and benchmarks, and the shape the store-backed
 * simulator follows. Changes are visible to the next lookup, so a DNS server reading from it
 * answers from the current state: delete a zone and its names stop resolving at once.
 *
 * @example
 * const zones = new InMemoryZones()
 * zones.addZone('acme.example.org')
 * zones.upsertRecordSet('acme.example.org', { name: 'shop.acme.example.org', type: 'A', ttl: 60, values: ['192.0.2.10'] })
 */
export class InMemoryZones implements ZoneLookup {
  private readonly zones = new Map<string, InMemoryZone>()

  findZone(name: string): Zone | undefined {
    return this.zones.get(name)
  }

  /** The normalised apex names of every zone, sorted. */
  zoneNames(): string[] {
    return [...this.zones.keys()].sort()
  }

  /** Every record set of a zone (for snapshots and assertions); throws `NotFoundError` for an unknown zone. */
  recordSets(zone: string): RecordSet[] {
    return this.zoneOrThrow(zone).allRecordSets()
  }

  /**
   * Creates a zone with the SOA and NS record sets at its apex, as Route 53 does on
   * `CreateHostedZone`, so that NXDOMAIN answers can carry the SOA resolvers need for negative
   * caching. Throws `ConflictError` when the zone exists.
   */
  addZone(name: string, options: AddZoneOptions = {}): Zone {
    const apex = normalizeName(name)
    if (this.zones.has(apex)) throw new ConflictError(`hosted zone ${apex} already exists`)
    const nameServers = (options.nameServers ?? ['ns-1.sim.flotilla.', 'ns-2.sim.flotilla.']).map(
      normalizeName,
    )
    const ttl = options.ttl ?? 900
    const zone = new InMemoryZone(apex)
    zone.put(
      checkRecordSet(apex, {
        name: apex,
        type: 'SOA',
        ttl,
        values: [`${nameServers[0] ?? 'ns-1.sim.flotilla.'} hostmaster.${apex} 1 7200 900 1209600 86400`],
      }),
    )
    zone.put(checkRecordSet(apex, { name: apex, type: 'NS', ttl, values: nameServers }))
    this.zones.set(apex, zone)
    return zone
  }

  /** Deletes a zone with every record in it; returns whether it existed. */
  removeZone(name: string): boolean {
    return this.zones.delete(normalizeName(name))
  }

  /**
   * Creates or replaces the record set of `input.type` at `input.name` in `zone` (Route 53's
   * `UPSERT`). Throws `NotFoundError` for an unknown zone, `InputError` for a name outside the
   * zone or malformed values, and `ConflictError` when a CNAME would share its name with other
   * records (DNS forbids it, RFC 1034 §3.6.2).
   */
  upsertRecordSet(zone: string, input: RecordSetInput): RecordSet {
    const target = this.zoneOrThrow(zone)
    const set = checkRecordSet(target.name, input)
    const existing = target.recordSetsAt(set.name)
    if (existing !== undefined) {
      const others = [...existing.keys()].filter((type) => type !== set.type)
      if (others.length > 0 && (set.type === 'CNAME' || others.includes('CNAME'))) {
        throw new ConflictError(
          `${set.name} cannot hold a CNAME together with other records (it has ${[set.type, ...others].join(', ')})`,
        )
      }
    }
    target.put(set)
    return set
  }

  /**
   * Deletes the record set of `type` at `name`; returns whether it existed. The apex SOA and NS
   * cannot be deleted (as in Route 53): a zone without them cannot answer negatively.
   */
  deleteRecordSet(zone: string, name: string, type: RecordType): boolean {
    const target = this.zoneOrThrow(zone)
    const normalized = normalizeName(name)
    if (normalized === target.name && (type === 'SOA' || type === 'NS')) {
      throw new InputError(`the ${type} record set at the apex of ${target.name} cannot be deleted`)
    }
    return target.delete(normalized, type)
  }

  private zoneOrThrow(name: string): InMemoryZone {
    const apex = normalizeName(name)
    const zone = this.zones.get(apex)
    if (zone === undefined) throw new NotFoundError(`hosted zone ${apex} does not exist`)
    return zone
  }
}

/** Validates and normalises a record set for `apex`; the result is frozen (see {@link RecordSet}). */
export function checkRecordSet(apex: string, input: RecordSetInput): RecordSet {
  const name = normalizeName(input.name)
  const where = `${input.type} ${name}`
  if (!isInZone(name, apex)) throw new InputError(`${where}: not inside hosted zone ${apex}`)
  if (!(recordTypes as readonly string[]).includes(input.type)) {
    throw new InputError(`${where}: unsupported record type (one of ${recordTypes.join(', ')})`)
  }
  if (!Number.isInteger(input.ttl) || input.ttl < 0 || input.ttl > MAX_TTL) {
    throw new InputError(`${where}: TTL ${input.ttl} is not an integer between 0 and ${MAX_TTL}`)
  }
  if (input.values.length === 0) throw new InputError(`${where}: a record set needs at least one value`)
  const single = input.type === 'CNAME' || input.type === 'SOA'
  if (single && input.values.length !== 1) throw new InputError(`${where}: exactly one value allowed`)
  if (input.type === 'SOA' && name !== apex) throw new InputError(`${where}: SOA belongs at the zone apex`)
  const values = input.values.map((value) => checkValue(input.type, value, where))
  return Object.freeze({ name, type: input.type, ttl: input.ttl, values: Object.freeze(values) })
}

function checkValue(type: RecordType, value: string, where: string): string {
  const bad = (why: string) => new InputError(`${where}: value ${JSON.stringify(value)} ${why}`)
  switch (type) {
    case 'A':
      if (!isIPv4(value)) throw bad('is not an IPv4 address')
      return value
    case 'AAAA':
      if (!isIPv6(value)) throw bad('is not an IPv6 address')
      return value
    case 'CNAME':
    case 'NS':
      if (!isDomainName(value)) throw bad('is not a domain name')
      return normalizeName(value)
    case 'TXT':
      return value
    case 'SOA': {
      const soa = parseSoa(value)
      if (soa === undefined) throw bad('is not "mname rname serial refresh retry expire minimum"')
      return value
    }
  }
}

const LABEL = /^[a-z0-9_*]([a-z0-9_-]{0,61}[a-z0-9_])?$/i

function isDomainName(value: string): boolean {
  const trimmed = value.endsWith('.') ? value.slice(0, -1) : value
  return trimmed.length > 0 && trimmed.length <= 253 && trimmed.split('.').every((label) => LABEL.test(label))
}

/** The fields of an SOA value. */
export interface SoaFields {
  readonly mname: string
  readonly rname: string
  readonly serial: number
  readonly refresh: number
  readonly retry: number
  readonly expire: number
  readonly minimum: number
}

/** Parses an SOA value in Route 53's text form; `undefined` when it is malformed. */
export function parseSoa(value: string): SoaFields | undefined {
  const parts = value.trim().split(/\s+/)
  if (parts.length !== 7) return undefined
  const [mname, rname, ...rest] = parts as [string, string, ...string[]]
  const numbers = rest.map(Number)
  if (!isDomainName(mname) || !isDomainName(rname)) return undefined
  if (numbers.some((n) => !Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1)) return undefined
  const [serial, refresh, retry, expire, minimum] = numbers as [number, number, number, number, number]
  return { mname: normalizeName(mname), rname: normalizeName(rname), serial, refresh, retry, expire, minimum }
}
