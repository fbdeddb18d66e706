import { createSocket } from 'node:dgram'
import { promises as dns } from 'node:dns'
import * as dnsPacket from 'dns-packet'
import { afterEach, describe, expect, it } from 'vitest'
import { type DnsServer, startDnsServer } from './dns-server.ts'
import { InMemoryZones } from './dns-zones.ts'

const ZONE = 'acme.example.org'

function fleetZones(): InMemoryZones {
  const zones = new InMemoryZones()
  zones.addZone(ZONE)
  const upsert = (name: string, type: 'A' | 'AAAA' | 'CNAME' | 'TXT', values: string[]) =>
    zones.upsertRecordSet(ZONE, { name, type, ttl: 60, values })
  upsert('shop.acme.example.org', 'A', ['192.0.2.10', '192.0.2.11'])
  upsert('shop.acme.example.org', 'AAAA', ['2001:db8::10'])
  upsert('www.acme.example.org', 'CNAME', ['shop.acme.example.org'])
  upsert('docs.acme.example.org', 'CNAME', ['docs.elsewhere.example.net'])
  upsert('shop.acme.example.org', 'TXT', ['heritage=external-dns,external-dns/owner=default'])
  return zones
}

let servers: DnsServer[] = []
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()))
  servers = []
})

async function serve(zones: InMemoryZones): Promise<DnsServer> {
  const server = await startDnsServer({ zones })
  servers.push(server)
  return server
}

/** Node's own resolver (c-ares), pointed at the server: proves a real client understands the answers. */
function resolverFor(server: DnsServer): dns.Resolver {
  const resolver = new dns.Resolver({ timeout: 1000, tries: 1 })
  resolver.setServers([server.address])
  return resolver
}

/** Sends raw bytes and decodes the first reply, or `undefined` after `timeoutMs`. */
async function exchange(
  port: number,
  bytes: Buffer,
  timeoutMs = 1000,
): Promise<dnsPacket.DecodedPacket | undefined> {
  const socket = createSocket('udp4')
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs)
      socket.once('message', (message) => {
        clearTimeout(timer)
        resolve(dnsPacket.decode(message))
      })
      socket.send(bytes, port, '127.0.0.1', (error) => error && reject(error))
    })
  } finally {
    socket.close()
  }
}

async function query(port: number, name: string, type: dnsPacket.RecordType, id = 4242) {
  const response = await exchange(
    port,
    dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type }] }),
  )
  if (response === undefined) throw new Error(`no answer for ${name} ${type}`)
  return { ...response, rcode: (response.flags ?? 0) & 0xf }
}

describe('startDnsServer', () => {
  it('answers A, AAAA and TXT through a real resolver', async () => {
    const resolver = resolverFor(await serve(fleetZones()))
    expect((await resolver.resolve4('shop.acme.example.org')).sort()).toEqual(['192.0.2.10', '192.0.2.11'])
    expect(await resolver.resolve6('SHOP.Acme.Example.Org')).toEqual(['2001:db8::10'])
    expect(await resolver.resolveTxt('shop.acme.example.org')).toEqual([
      ['heritage=external-dns,external-dns/owner=default'],
    ])
  })

  it('answers authoritatively, preserving the id, the question and RD', async () => {
    const server = await serve(fleetZones())
    const response = await query(server.port, 'Shop.Acme.Example.Org', 'A', 31337)
    expect(response.id).toBe(31337)
    expect(response.flag_qr).toBe(true)
    expect(response.flag_aa).toBe(true)
    expect(response.flag_rd).toBe(true)
    expect(response.flag_ra).toBe(false)
    expect(response.rcode).toBe(0)
    expect(response.questions).toEqual([{ name: 'Shop.Acme.Example.Org', type: 'A', class: 'IN' }])
    expect(
      response.answers?.map((a) => [
        a.name,
        a.type,
        'ttl' in a ? a.ttl : undefined,
        'data' in a ? a.data : undefined,
      ]),
    ).toEqual([
      ['shop.acme.example.org', 'A', 60, '192.0.2.10'],
      ['shop.acme.example.org', 'A', 60, '192.0.2.11'],
    ])
  })

  it('follows a CNAME inside the zone, and hands one pointing elsewhere back to the resolver', async () => {
    const server = await serve(fleetZones())
    const chased = await query(server.port, 'www.acme.example.org', 'A')
    expect(chased.answers?.map((a) => `${a.type} ${'data' in a ? a.data : ''}`)).toEqual([
      'CNAME shop.acme.example.org',
      'A 192.0.2.10',
      'A 192.0.2.11',
    ])
    const outside = await query(server.port, 'docs.acme.example.org', 'A')
    expect(outside.rcode).toBe(0)
    expect(outside.answers?.map((a) => a.type)).toEqual(['CNAME'])
    expect(await resolverFor(server).resolveCname('www.acme.example.org')).toEqual(['shop.acme.example.org'])
  })

  it('says NXDOMAIN with the SOA for a name that does not exist in the zone', async () => {
    const server = await serve(fleetZones())
    const response = await query(server.port, 'nope.acme.example.org', 'A')
    expect(response.rcode).toBe(3)
    expect(response.flag_aa).toBe(true)
    expect(response.answers).toEqual([])
    expect(response.authorities?.map((a) => [a.name, a.type])).toEqual([['acme.example.org', 'SOA']])
    await expect(resolverFor(server).resolve4('nope.acme.example.org')).rejects.toMatchObject({
      code: 'ENOTFOUND',
    })
  })

  it('says NODATA (NOERROR, no answer) for a name that exists without the type', async () => {
    const zones = fleetZones()
    zones.upsertRecordSet(ZONE, {
      name: 'a.deep.acme.example.org',
      type: 'A',
      ttl: 60,
      values: ['192.0.2.9'],
    })
    const server = await serve(zones)
    // www is a CNAME to shop, which has no MX: the chain is answered, then NODATA
    const viaCname = await query(server.port, 'www.acme.example.org', 'MX')
    expect(viaCname.rcode).toBe(0)
    expect(viaCname.answers?.map((a) => a.type)).toEqual(['CNAME'])
    expect(viaCname.authorities?.map((a) => a.type)).toEqual(['SOA'])
    const missingType = await query(server.port, 'shop.acme.example.org', 'MX')
    expect(missingType.rcode).toBe(0)
    expect(missingType.answers).toEqual([])
    expect(missingType.authorities?.map((a) => a.type)).toEqual(['SOA'])
    const emptyNonTerminal = await query(server.port, 'deep.acme.example.org', 'A')
    expect(emptyNonTerminal.rcode).toBe(0)
    expect(emptyNonTerminal.answers).toEqual([])
    await expect(resolverFor(server).resolve4('deep.acme.example.org')).rejects.toMatchObject({
      code: 'ENODATA',
    })
  })

  it('stops resolving a deleted zone (REFUSED), as in the incident', async () => {
    const zones = fleetZones()
    const server = await serve(zones)
    const resolver = resolverFor(server)
    expect(await resolver.resolve4('shop.acme.example.org')).toHaveLength(2)
    zones.removeZone(ZONE)
    const response = await query(server.port, 'shop.acme.example.org', 'A')
    expect(response.rcode).toBe(5)
    expect(response.flag_aa).toBe(false)
    expect(response.answers).toEqual([])
    await expect(resolver.resolve4('shop.acme.example.org')).rejects.toMatchObject({ code: 'EREFUSED' })
  })

  it('answers record updates and deletions immediately', async () => {
    const zones = fleetZones()
    const resolver = resolverFor(await serve(zones))
    expect((await resolver.resolve4('shop.acme.example.org')).sort()).toEqual(['192.0.2.10', '192.0.2.11'])
    zones.upsertRecordSet(ZONE, {
      name: 'shop.acme.example.org',
      type: 'A',
      ttl: 60,
      values: ['198.51.100.7'],
    })
    expect(await resolver.resolve4('shop.acme.example.org')).toEqual(['198.51.100.7'])
    zones.upsertRecordSet(ZONE, {
      name: 'new.acme.example.org',
      type: 'A',
      ttl: 60,
      values: ['198.51.100.8'],
    })
    expect(await resolver.resolve4('new.acme.example.org')).toEqual(['198.51.100.8'])
    zones.deleteRecordSet(ZONE, 'new.acme.example.org', 'A')
    await expect(resolver.resolve4('new.acme.example.org')).rejects.toMatchObject({ code: 'ENOTFOUND' })
  })

  it('ignores malformed packets and keeps answering', async () => {
    const server = await serve(fleetZones())
    const valid = dnsPacket.encode({
      type: 'query',
      id: 7,
      questions: [{ name: 'shop.acme.example.org', type: 'A' }],
    })
    const garbage = [
      Buffer.alloc(0),
      Buffer.from([1, 2, 3]),
      Buffer.from('this is not a DNS packet at all, just some bytes'),
      valid.subarray(0, valid.length - 3), // truncated question
      Buffer.concat([valid.subarray(0, 12), Buffer.from([0xc0, 0x40, 0, 1, 0, 1])]), // forward name pointer
    ]
    for (const bytes of garbage) expect(await exchange(server.port, bytes, 100)).toBeUndefined()
    // a well-formed response sent to the server is not answered either (no reflection loops)
    expect(
      await exchange(server.port, dnsPacket.encode({ type: 'response', id: 8, questions: [] }), 100),
    ).toBeUndefined()
    expect((await query(server.port, 'shop.acme.example.org', 'A')).answers).toHaveLength(2)
  })

  it('answers FORMERR to a query without exactly one question, and NOTIMP to other opcodes', async () => {
    const server = await serve(fleetZones())
    const none = await exchange(server.port, dnsPacket.encode({ type: 'query', id: 9, questions: [] }))
    expect(none?.id).toBe(9)
    expect((none?.flags ?? 0) & 0xf).toBe(1)
    const notify = await exchange(
      server.port,
      dnsPacket.encode({
        type: 'query',
        id: 10,
        flags: 4 << 11,
        questions: [{ name: 'acme.example.org', type: 'SOA' }],
      }),
    )
    expect((notify?.flags ?? 0) & 0xf).toBe(4)
  })

  it('frees the port on close, and close is idempotent', async () => {
    const server = await startDnsServer({ zones: fleetZones() })
    await server.close()
    await server.close()
    const again = await startDnsServer({ port: server.port, zones: fleetZones() })
    servers.push(again)
    expect(again.port).toBe(server.port)
    expect(await resolverFor(again).resolve4('shop.acme.example.org')).toHaveLength(2)
  })

  it('closes when its signal aborts, and does not start on an aborted signal', async () => {
    const controller = new AbortController()
    const server = await startDnsServer({ zones: fleetZones(), signal: controller.signal })
    controller.abort()
    // the port is free again once the socket has closed
    await expect
      .poll(async () => {
        const probe = await startDnsServer({ port: server.port, zones: fleetZones() }).catch(() => undefined)
        await probe?.close()
        return probe !== undefined
      })
      .toBe(true)
    await expect(startDnsServer({ zones: fleetZones(), signal: controller.signal })).rejects.toThrow()
  })

  it('rejects when the port is taken', async () => {
    const server = await serve(fleetZones())
    await expect(startDnsServer({ port: server.port, zones: fleetZones() })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    })
  })
})
