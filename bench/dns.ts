import { createSocket } from 'node:dgram'
import * as dnsPacket from 'dns-packet'
import { startDnsServer } from '../src/providers/sim/dns-server.ts'
import { InMemoryZones } from '../src/providers/sim/dns-zones.ts'

/** Queries kept in flight: enough to hide the loopback round trip, few enough not to overflow socket buffers. */
const IN_FLIGHT = 64

/** A mix like a fleet's services ask: mostly hits, some CNAMEs, some misses (NXDOMAIN, NODATA). */
function benchZones(): { zones: InMemoryZones; questions: dnsPacket.Question[] } {
  const zones = new InMemoryZones()
  const questions: dnsPacket.Question[] = []
  for (let z = 0; z < 20; z++) {
    const zone = `account-${z}.acme.example.org`
    zones.addZone(zone)
    for (let r = 0; r < 50; r++) {
      zones.upsertRecordSet(zone, {
        name: `svc-${r}.${zone}`,
        type: 'A',
        ttl: 60,
        values: [`10.${z}.0.${r}`],
      })
    }
    zones.upsertRecordSet(zone, { name: `shop.${zone}`, type: 'CNAME', ttl: 60, values: [`svc-0.${zone}`] })
    questions.push(
      { name: `svc-${z}.${zone}`, type: 'A' },
      { name: `svc-${z + 1}.${zone}`, type: 'A' },
      { name: `shop.${zone}`, type: 'A' },
      { name: `missing.${zone}`, type: 'A' },
      { name: `svc-${z}.${zone}`, type: 'AAAA' },
    )
  }
  return { zones, questions }
}

/**
 * Answered DNS queries per second on loopback: the server from `src/providers/sim/dns-server.ts`
 * over 20 zones of 50 records, one UDP client in this same process keeping {@link IN_FLIGHT}
 * queries in flight and counting the responses that match a query in flight. Client and server
 * share one event loop, so this is a lower bound for the server alone. Target: 10,000/s.
 */
export async function dnsQueriesPerSecond(durationMs = 2000): Promise<number> {
  const { zones, questions } = benchZones()
  const server = await startDnsServer({ zones })
  const client = createSocket('udp4')
  try {
    // One pre-encoded query per slot, its id the slot number: a response names the slot to refill,
    // and a slot's buffer is reused only after its previous query was answered (so sent).
    const slots = Array.from({ length: IN_FLIGHT }, (_, id) =>
      dnsPacket.encode({ type: 'query', id, questions: [questions[id % questions.length]!] }),
    )
    let received = 0
    let answered = 0
    let counting = false
    const send = (id: number) => client.send(slots[id]!, server.port, '127.0.0.1')
    client.on('message', (message: Buffer) => {
      if (message.length < 12) return
      const id = message.readUInt16BE(0)
      if (id >= IN_FLIGHT) return
      received++
      if (counting) answered++
      send(id)
    })
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve))
    for (let id = 0; id < IN_FLIGHT; id++) send(id)

    // UDP may drop a datagram even on loopback; refill every slot if nothing came back for a while.
    let lastSeen = -1
    const watchdog = setInterval(() => {
      if (received === lastSeen) for (let id = 0; id < IN_FLIGHT; id++) send(id)
      lastSeen = received
    }, 250)
    try {
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, durationMs / 4))) // warm-up
      counting = true
      const start = performance.now()
      await new Promise((resolve) => setTimeout(resolve, durationMs))
      counting = false
      return answered / ((performance.now() - start) / 1000)
    } finally {
      clearInterval(watchdog)
    }
  } finally {
    client.close()
    await server.close()
  }
}
