/**
 * The simulated fleet's DNS server: an authoritative name server on a loopback UDP port that
 * answers from {@link ZoneLookup} with the real DNS protocol (RFC 1034/1035, negative answers as
 * in RFC 2308), so that anything speaking DNS — `dig`, Node's resolver, the simulated services —
 * sees what the simulated zones hold. Delete a zone and its names stop resolving (REFUSED), as
 * they did in the incident Flotilla exists to prevent.
 */
import { createSocket, type RemoteInfo } from 'node:dgram'
import * as dnsPacket from 'dns-packet'
import {
  findEnclosingZone,
  isInZone,
  normalizeName,
  parseSoa,
  type RecordSet,
  type RecordType,
  wildcardAt,
  type Zone,
  type ZoneLookup,
} from './dns-zones.ts'

/** Options of {@link startDnsServer}. */
export interface DnsServerOptions {
  /** The address to listen on; keep it on loopback, the simulator is not meant to be reachable. @default '127.0.0.1' */
  readonly host?: string
  /** The UDP port; 0 picks a free one (read it from the result). @default 0 */
  readonly port?: number
  /** Where the answers come from; read on every query, so changes are visible immediately. */
  readonly zones: ZoneLookup
  /** Aborting closes the server (and rejects the start if it is not listening yet). */
  readonly signal?: AbortSignal
}

/** A running DNS server. */
export interface DnsServer {
  /** `host:port`, the form `dns.promises.Resolver#setServers` and `dig @host -p port` take. */
  readonly address: string
  readonly port: number
  /** Stops answering and frees the port; calling it again is harmless. */
  close(): Promise<void>
}

/** DNS response codes (RFC 1035 §4.1.1), the low four bits of the header flags. */
const RCODE = { noError: 0, formErr: 1, nxDomain: 3, notImp: 4, refused: 5 } as const

/** How many CNAMEs one answer follows inside a zone before giving up (loops, long chains). */
const MAX_CNAME_HOPS = 8

/** Without EDNS a UDP answer must fit in 512 bytes (RFC 1035 §4.2.1). */
const CLASSIC_UDP_SIZE = 512

/** What we advertise to EDNS clients: the size DNS flag day 2020 settled on to avoid fragmentation. */
const EDNS_UDP_SIZE = 1232

const OPCODE_QUERY = 0

type ResourceRecord = dnsPacket.Answer

const EMPTY: readonly ResourceRecord[] = Object.freeze([])

/**
 * Starts the DNS server on a UDP4 socket.
 *
 * @example
 * const server = await startDnsServer({ zones })
 * const resolver = new dns.promises.Resolver()
 * resolver.setServers([server.address])
 * await resolver.resolve4('shop.acme.example.org')
 * await server.close()
 */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const { host = '127.0.0.1', port = 0, zones, signal } = options
  signal?.throwIfAborted()
  const answering = new Answering(zones)
  const socket = createSocket({ type: 'udp4' })

  // Sends are fire-and-forget: a client that went away must not surface as an 'error' event.
  const ignoreSendError = () => {}
  socket.on('message', (message: Buffer, from: RemoteInfo) => {
    const response = answering.respond(message)
    if (response !== undefined) socket.send(response, from.port, from.address, ignoreSendError)
  })

  await new Promise<void>((resolve, reject) => {
    const abortStart = () => {
      socket.close()
      reject(signal?.reason)
    }
    socket.once('error', (error) => {
      signal?.removeEventListener('abort', abortStart)
      socket.close()
      reject(error)
    })
    signal?.addEventListener('abort', abortStart, { once: true })
    socket.bind(port, host, () => {
      signal?.removeEventListener('abort', abortStart)
      resolve()
    })
  })
  // Once listening there is no request to fail: errors (none expected on an unconnected UDP
  // socket) must not crash the process that hosts the simulator.
  socket.removeAllListeners('error')
  socket.on('error', () => {})

  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      signal?.removeEventListener('abort', onAbort)
      socket.close(() => resolve())
    })
    return closed
  }
  const onAbort = () => void close()
  signal?.addEventListener('abort', onAbort, { once: true })

  const bound = socket.address()
  return { address: `${bound.address}:${bound.port}`, port: bound.port, close }
}

/** The answer to one question, as {@link queryZones} gives it. */
export interface ZoneAnswer {
  /** `NOERROR`, `NXDOMAIN`, `REFUSED`, … */
  readonly rcode: string
  /** The answer records' data (addresses, target names, text). */
  readonly answers: readonly string[]
}

/**
 * Asks `zones` one question through exactly the code the DNS server runs, without a socket:
 * what the simulated services and health checks see is what `dig` against the server sees.
 */
export function queryZones(zones: ZoneLookup, name: string, type: RecordType = 'A'): ZoneAnswer {
  const query = dnsPacket.encode({
    type: 'query',
    id: 1,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name: name.replace(/\.$/, ''), class: 'IN' }],
  })
  const reply = new Answering(zones).respond(query)
  if (reply === undefined) return { rcode: 'SERVFAIL', answers: [] }
  const decoded = dnsPacket.decode(reply)
  return {
    rcode: (decoded as { rcode?: string }).rcode ?? 'NOERROR',
    answers: (decoded.answers ?? []).map((record) => {
      const data = (record as { data?: unknown }).data
      return Array.isArray(data) ? data.map(String).join('') : String(data)
    }),
  }
}

/**
 * Turns query packets into response packets. Separate from the socket so the protocol logic is
 * one synchronous function of (packet, zones), and holds the caches that keep the hot path to
 * dns-packet's own allocations.
 */
class Answering {
  /**
   * The wire-ready records of each record set. Record sets are immutable and replaced on update
   * (see `RecordSet`), so the object is the cache key and a WeakMap forgets deleted ones.
   */
  private readonly records = new WeakMap<RecordSet, readonly ResourceRecord[]>()
  /** The SOA to put in the authority section of negative answers, with its negative-caching TTL. */
  private readonly negativeSoa = new WeakMap<RecordSet, readonly ResourceRecord[]>()

  private readonly zones: ZoneLookup

  constructor(zones: ZoneLookup) {
    this.zones = zones
  }

  /** The response to `message`, or `undefined` when it is not a query we can even reply to. */
  respond(message: Buffer): Buffer | undefined {
    let query: dnsPacket.DecodedPacket
    try {
      query = dnsPacket.decode(message)
    } catch {
      return undefined // malformed: without a parsed header there is nobody to answer
    }
    if (query.flag_qr) return undefined // a response sent to us: answering would start a loop
    try {
      return this.answer(query)
    } catch {
      return undefined // a question dns-packet decodes but cannot re-encode (exotic labels)
    }
  }

  private answer(query: dnsPacket.DecodedPacket): Buffer {
    const questions = query.questions ?? []
    const opt = query.additionals?.find((record) => record.type === 'OPT')
    const maxSize = opt !== undefined ? Math.max(CLASSIC_UDP_SIZE, opt.udpPayloadSize) : CLASSIC_UDP_SIZE
    // RD is copied back (RFC 1035 §4.1.1); RA stays clear: this server never recurses.
    const baseFlags = query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0
    const response: dnsPacket.Packet = {
      type: 'response',
      id: query.id ?? 0,
      flags: baseFlags,
      questions,
      answers: EMPTY as ResourceRecord[],
      authorities: EMPTY as ResourceRecord[],
      additionals:
        opt !== undefined
          ? [{ name: '.', type: 'OPT', udpPayloadSize: EDNS_UDP_SIZE, flags: 0 } as ResourceRecord]
          : [],
    }
    const opcode = ((query.flags ?? 0) >> 11) & 0xf
    const question = questions[0]
    if (opcode !== OPCODE_QUERY) response.flags = baseFlags | RCODE.notImp
    else if (questions.length !== 1 || question === undefined) response.flags = baseFlags | RCODE.formErr
    else this.resolve(question, response, baseFlags)

    const encoded = dnsPacket.encode(response)
    if (encoded.length <= maxSize) return encoded
    // Too big for the client's UDP buffer: say so (TC) and let it retry over TCP, as RFC 1035
    // asks. This server has no TCP side yet, but the simulated zones' answers are small.
    response.answers = []
    response.authorities = []
    response.flags = (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE
    return dnsPacket.encode(response)
  }

  private resolve(question: dnsPacket.Question, response: dnsPacket.Packet, baseFlags: number): void {
    if (question.class !== undefined && question.class !== 'IN' && question.class !== 'ANY') {
      response.flags = baseFlags | RCODE.refused
      return
    }
    let name = normalizeName(question.name)
    const zone = findEnclosingZone(this.zones, name)
    // Not ours: REFUSED, as an authoritative-only server does, so a deleted zone stops resolving
    // instead of being answered from anywhere else.
    if (zone === undefined) {
      response.flags = baseFlags | RCODE.refused
      return
    }
    const authoritative = baseFlags | dnsPacket.AUTHORITATIVE_ANSWER
    const type: string = question.type // may be ANY or UNKNOWN_n at runtime, beyond the declared union
    let answers: ResourceRecord[] | undefined
    for (let hops = 0; ; hops++) {
      let sets = zone.recordSetsAt(name)
      // RFC 4592: a name that does not exist is answered from the wildcard at its closest
      // encloser (external-dns publishes `*.kube-1.acme.example.org` for a cluster's ingress).
      const wildcard = sets === undefined ? wildcardAt(zone, name) : undefined
      if (wildcard !== undefined) sets = wildcard
      if (sets === undefined) {
        // RFC 6604: the rcode describes the last name of a CNAME chain.
        response.answers = answers ?? (EMPTY as ResourceRecord[])
        response.authorities = this.soaFor(zone)
        response.flags = authoritative | RCODE.nxDomain
        return
      }
      const owned = (set: RecordSet) =>
        wildcard === undefined ? this.recordsOf(set) : this.recordsOf(set).map((r) => ({ ...r, name }))
      if (type === 'ANY' && sets.size > 0) {
        answers ??= []
        for (const set of sets.values()) answers.push(...owned(set))
        break
      }
      const exact = sets.get(type as RecordType)
      if (exact !== undefined) {
        if (answers === undefined) answers = owned(exact) as ResourceRecord[]
        else answers.push(...owned(exact))
        break
      }
      const cname = type === 'CNAME' ? undefined : sets.get('CNAME')
      if (cname === undefined) {
        // The name exists without this type: NODATA, the SOA telling resolvers how long to cache that.
        response.authorities = this.soaFor(zone)
        break
      }
      answers ??= []
      answers.push(...owned(cname))
      const target = cname.values[0]!
      // Chase only inside this zone (a resolver follows the rest), and not forever.
      if (hops + 1 >= MAX_CNAME_HOPS || !isInZone(target, zone.name)) break
      if (findEnclosingZone(this.zones, target) !== zone) break
      name = target
    }
    response.answers = answers ?? (EMPTY as ResourceRecord[])
    response.flags = authoritative | RCODE.noError
  }

  private recordsOf(set: RecordSet): readonly ResourceRecord[] {
    let records = this.records.get(set)
    if (records === undefined) {
      records = Object.freeze(set.values.map((value) => toResourceRecord(set, value)))
      this.records.set(set, records)
    }
    return records
  }

  private soaFor(zone: Zone): ResourceRecord[] {
    const soa = zone.recordSetsAt(zone.name)?.get('SOA')
    if (soa === undefined) return EMPTY as ResourceRecord[]
    let records = this.negativeSoa.get(soa)
    if (records === undefined) {
      const fields = parseSoa(soa.values[0] ?? '')
      // RFC 2308 §5: negative answers are cached for min(SOA TTL, SOA minimum).
      const ttl = Math.min(soa.ttl, fields?.minimum ?? soa.ttl)
      records = Object.freeze(soa.values.map((value) => toResourceRecord({ ...soa, ttl }, value)))
      this.negativeSoa.set(soa, records)
    }
    return records as ResourceRecord[]
  }
}

/** One record of a set in dns-packet's shape. TXT text is split into the 255-byte strings the wire allows. */
function toResourceRecord(set: RecordSet, value: string): ResourceRecord {
  const base = { name: set.name, ttl: set.ttl, class: 'IN' as const }
  switch (set.type) {
    case 'A':
    case 'AAAA':
    case 'CNAME':
    case 'NS':
      return { ...base, type: set.type, data: value }
    case 'TXT': {
      const bytes = Buffer.from(value)
      const chunks: Buffer[] = []
      for (let at = 0; at < bytes.length; at += 255) chunks.push(bytes.subarray(at, at + 255))
      return { ...base, type: 'TXT', data: chunks.length > 0 ? chunks : [Buffer.alloc(0)] }
    }
    case 'SOA': {
      const soa = parseSoa(value)
      if (soa === undefined) throw new Error(`malformed SOA value in ${set.name}: ${value}`)
      return { ...base, type: 'SOA', data: soa }
    }
  }
}
