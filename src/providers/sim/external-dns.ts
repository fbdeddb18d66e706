/**
 * What external-dns would publish for a simulated cluster: an `A` record for every hostname of an
 * Ingress and of a `LoadBalancer` Service annotated with `external-dns.alpha.kubernetes.io/hostname`,
 * each with the TXT ownership record of external-dns's TXT registry. Pure.
 *
 * These records live in no template: they are written into the account's zone by a controller
 * in the cluster. They are exactly what a zone deletion loses and what a snapshot must keep.
 */
import { createHash } from 'node:crypto'
import { normalizeName, type RecordType } from './dns-zones.ts'

/** The annotation external-dns reads hostnames from (comma-separated). */
export const HOSTNAME_ANNOTATION = 'external-dns.alpha.kubernetes.io/hostname'

/** A record set external-dns owns. */
export interface ExternalDnsRecord {
  readonly name: string
  readonly type: RecordType
  readonly ttl: number
  readonly values: readonly string[]
}

/** The owner tag of the records of one cluster (`sim_records.owner`). */
export function externalDnsOwner(clusterId: string): string {
  return `external-dns:${clusterId}`
}

/** The TTL external-dns gives records by default. */
const TTL = 300

/**
 * A stable address in TEST-NET-3 (203.0.113.0/24, RFC 5737) for a load balancer of the cluster:
 * documentation space, so nothing simulated ever points at a real host.
 */
export function loadBalancerAddress(clusterId: string, service: string): string {
  const hash = createHash('sha256').update(`${clusterId}/${service}`).digest()
  return `203.0.113.${1 + (hash[0]! % 254)}`
}

interface Obj {
  kind?: unknown
  metadata?: { name?: unknown; namespace?: unknown; annotations?: Record<string, unknown> }
  spec?: { type?: unknown; rules?: Array<{ host?: unknown }> }
}

/** Every record external-dns of `clusterId` wants, for the cluster's objects, sorted by name. */
export function externalDnsRecords(
  clusterId: string,
  objects: readonly Readonly<Record<string, unknown>>[],
): ExternalDnsRecord[] {
  const wanted = new Map<string, { address: string; resource: string }>()
  for (const raw of objects) {
    const object = raw as Obj
    const name = String(object.metadata?.name ?? '')
    const namespace = String(object.metadata?.namespace ?? 'default')
    const hostnames: string[] = []
    let resource: string
    let address: string
    if (object.kind === 'Service' && object.spec?.type === 'LoadBalancer') {
      const annotation = object.metadata?.annotations?.[HOSTNAME_ANNOTATION]
      if (typeof annotation !== 'string') continue
      hostnames.push(...annotation.split(','))
      resource = `service/${namespace}/${name}`
      address = loadBalancerAddress(clusterId, `${namespace}/${name}`)
    } else if (object.kind === 'Ingress') {
      for (const rule of object.spec?.rules ?? [])
        if (typeof rule.host === 'string') hostnames.push(rule.host)
      resource = `ingress/${namespace}/${name}`
      address = loadBalancerAddress(clusterId, 'ingress')
    } else continue
    for (const host of hostnames.map((h) => h.trim()).filter(Boolean)) {
      wanted.set(normalizeName(host), { address, resource })
    }
  }
  const out: ExternalDnsRecord[] = []
  for (const [name, { address, resource }] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out.push({ name, type: 'A', ttl: TTL, values: [address] })
    out.push({
      name,
      type: 'TXT',
      ttl: TTL,
      values: [`heritage=external-dns,external-dns/owner=${clusterId},external-dns/resource=${resource}`],
    })
  }
  return out
}
