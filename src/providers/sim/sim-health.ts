/**
 * How healthy the simulated fleet is: a target's checks (its region, what has not settled, its
 * zones answering, its services resolving, a cluster's published names) and every service's
 * state, as `sim status` and the metrics count them.
 */
import type { Target } from '../../core/model/fleet-model.ts'
import type { Health, HealthCheck, SettleStatus } from '../../core/provider/port.ts'
import { queryZones } from './dns-server.ts'
import { externalDnsRecords } from './external-dns.ts'
import type { Fault } from './faults.ts'
import { scopeText } from './faults.ts'
import { serviceHealth } from './services.ts'
import { deployedClusterIds, loadObjects } from './sim-clusters.ts'
import { loadStacks } from './sim-stacks.ts'
import { knownAccounts, targetInfo } from './sim-targets.ts'
import type { SimWorld } from './sim-world.ts'
import { zoneCount, zoneName } from './sim-zones-store.ts'

/** One service of a simulated account, as {@link serviceStates} reports it. */
export interface SimServiceState {
  readonly account: string
  readonly accountName: string
  readonly environment: string
  readonly group: string
  readonly name: string
  readonly hostname: string
  readonly deployed: boolean
  readonly healthy: boolean
  readonly detail: string
}

/** Whether an outage fault has a region down. */
function regionDown(faults: readonly Fault[], region: string): boolean {
  return faults.some(
    (f) => f.kind === 'region-outage' && f.scope.kind === 'region' && f.scope.name === region,
  )
}

/** A target's health checks, given how it settled. */
export async function targetHealth(world: SimWorld, target: Target, status: SettleStatus): Promise<Health> {
  const db = await world.db()
  const checks: HealthCheck[] = []
  const faults = await world.faults()
  const info = await targetInfo(db, target)
  const outage = faults.find(
    (f) => f.kind === 'region-outage' && f.scope.kind === 'region' && info.regions.includes(f.scope.name),
  )
  if (outage)
    checks.push({
      name: 'region',
      healthy: false,
      detail: `region ${scopeText(outage.scope).slice(7)} is down`,
    })
  for (const item of status.items) {
    checks.push({ name: item.address, healthy: false, detail: `${item.status}: ${item.reason}` })
  }
  if (target.kind === 'account') {
    const zones = await world.zones()
    for (const stack of await loadStacks(db, target.id)) {
      for (const [logicalId, resource] of Object.entries(stack.resources)) {
        if (resource.type !== 'AWS::Route53::HostedZone') continue
        const zone = await zoneName(db, resource.physicalId)
        const answer = zone !== undefined ? queryZones(zones, zone, 'SOA') : undefined
        checks.push({
          name: `${stack.address}/${logicalId}`,
          healthy: answer?.rcode === 'NOERROR',
          detail:
            zone !== undefined
              ? `zone ${zone} answers ${answer?.rcode}`
              : `zone ${resource.physicalId} does not exist`,
        })
      }
    }
    const deployed = await deployedClusterIds(db)
    for (const service of info.services) {
      if (service.cluster !== undefined && !deployed.has(service.cluster)) {
        // A service runs in its cluster: before anything is applied there it does not exist yet,
        // so a new account is judged by its stacks and zones, not by a shop nobody runs.
        checks.push({
          name: `service ${service.name}`,
          healthy: true,
          detail: `not deployed yet (cluster ${service.cluster} has nothing applied)`,
        })
        continue
      }
      // Only an outage of the service's own region takes it down, as `status` counts it.
      const result = serviceHealth(service, zones, regionDown(faults, service.region))
      checks.push({ name: `service ${service.name}`, healthy: result.healthy, detail: result.detail })
    }
  }
  if (target.kind === 'cluster' && status.items.length === 0) {
    const objects = await loadObjects(db, [target.id])
    const count = objects.length
    checks.push({
      name: 'objects',
      healthy: true,
      detail: count === 0 ? 'nothing applied yet' : `${count} objects ready`,
    })
    if (count > 0)
      checks.push(
        ...(await publishedNames(
          world,
          target,
          objects.map((o) => o.object),
        )),
      )
  } else if (status.items.length === 0 && checks.length === 0) {
    checks.push({ name: 'stacks', healthy: true, detail: 'nothing deployed yet' })
  }
  return { healthy: checks.every((c) => c.healthy), checks }
}

/**
 * Whether the names external-dns is to publish for a cluster resolve: a cluster whose ingress
 * names do not resolve serves nobody, whatever its pods say. Only where the cluster's account has
 * zones (external-dns of a cluster without any has nowhere to publish, by design).
 */
async function publishedNames(
  world: SimWorld,
  cluster: Target,
  objects: readonly Readonly<Record<string, unknown>>[],
): Promise<HealthCheck[]> {
  if ((await zoneCount(await world.db(), cluster.account)) === 0) return []
  const zones = await world.zones()
  return externalDnsRecords(cluster.id, objects)
    .filter((record) => record.type === 'A')
    .map((record) => {
      const answer = queryZones(zones, record.name)
      const healthy = answer.rcode === 'NOERROR'
      return {
        name: `name ${record.name.replace(/\.$/, '')}`,
        healthy,
        detail: healthy
          ? `resolves to ${answer.answers.join(', ')}`
          : `does not resolve (${answer.rcode}): no zone of account ${cluster.account} serves it`,
      }
    })
}

/**
 * Every service of every known account and whether it answers: its name resolves in the zones
 * as they are now and its region is up. A service whose cluster has nothing applied is not
 * deployed (and counts neither as up nor as down).
 */
export async function serviceStates(world: SimWorld): Promise<SimServiceState[]> {
  await world.settleDue()
  const db = await world.db()
  const serving = await world.zones()
  const faults = await world.faults()
  const deployed = await deployedClusterIds(db)
  const states: SimServiceState[] = []
  for (const account of await knownAccounts(db)) {
    for (const service of account.info.services) {
      const base = {
        account: account.id,
        accountName: account.name,
        environment: account.info.environment,
        group: account.info.group,
        name: service.name,
        hostname: service.hostname,
      }
      if (service.cluster !== undefined && !deployed.has(service.cluster)) {
        states.push({ ...base, deployed: false, healthy: false, detail: 'not deployed' })
        continue
      }
      const health = serviceHealth(service, serving, regionDown(faults, service.region))
      states.push({ ...base, deployed: true, healthy: health.healthy, detail: health.detail })
    }
  }
  return states
}
