/**
 * The simulated services that run in the fleet and make its health real: a shop front end in
 * every production account, the monitoring and ops tools of the `ops` accounts. Each one is up
 * only while its name resolves through the simulated DNS — so deleting a zone, or the records
 * external-dns wrote into it, takes the service down exactly as the incident did. Pure.
 */
import type { AccountCluster, Target } from '../../core/model/fleet-model.ts'
import { queryZones } from './dns-server.ts'
import type { ZoneLookup } from './dns-zones.ts'

/** A service of an account and the name it is reached by. */
export interface SimService {
  /** `shop`, or for ops accounts their purpose (`monitoring`, `logging`, …). */
  readonly name: string
  readonly hostname: string
  readonly region: string
  /** The cluster it runs in, behind its ingress; until that cluster has objects, it is not deployed. */
  readonly cluster?: string
}

/**
 * The services of an account, given its clusters (sorted by id; those of other accounts are
 * skipped). A service runs in the account's first cluster, behind its ingress
 * (`<service>.<ingress_domain>`, published by external-dns); an account without a cluster serves
 * it from its zone's apex. Accounts without `config.dns_domain`, accounts being decommissioned,
 * and non-production accounts outside the ops group run none.
 */
export function servicesOf(account: Target, clusters: readonly (AccountCluster | Target)[]): SimService[] {
  const domain = account.config.dns_domain
  if (typeof domain !== 'string' || account.lifecycle.startsWith('decommission')) return []
  const names: string[] = []
  if (account.group === 'ops') names.push(account.name.replace(/^ops-/, ''))
  else if (account.environment === 'production') names.push('shop')
  // Targets of the whole fleet may be given: only the account's own count.
  const cluster = clusters.find(
    (c) => (!('account' in c) || c.account === account.id) && typeof c.config.ingress_domain === 'string',
  )
  const region =
    (cluster && 'regions' in cluster ? cluster.regions[0] : cluster?.region) ??
    account.regions[0] ??
    'us-east-1'
  return names.map((name) => ({
    name,
    hostname: cluster ? `${name}.${String(cluster.config.ingress_domain)}` : domain,
    region,
    ...(cluster ? { cluster: cluster.id } : {}),
  }))
}

/** Whether a service is up, and why not. */
export interface ServiceHealth {
  readonly service: SimService
  readonly healthy: boolean
  readonly detail: string
}

/** A service is up when its name resolves (an answer, or the name existing) and its region is up. */
export function serviceHealth(service: SimService, zones: ZoneLookup, regionDown: boolean): ServiceHealth {
  if (regionDown) return { service, healthy: false, detail: `region ${service.region} is down` }
  const answer = queryZones(zones, service.hostname)
  if (answer.rcode !== 'NOERROR') {
    return { service, healthy: false, detail: `${service.hostname} does not resolve (${answer.rcode})` }
  }
  return {
    service,
    healthy: true,
    detail: `${service.hostname} resolves${answer.answers.length ? ` to ${answer.answers.join(', ')}` : ''}`,
  }
}
