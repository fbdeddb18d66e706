import { toCel } from '../expr/cel.ts'
import type { FleetSettings } from '../model/fleet.ts'
import type { LoadedAccount, LoadedCluster, Target } from '../model/fleet-model.ts'

/** Caches one value per object, built on first use: CEL variables are built once per account or target. */
function perObject<K extends object>(build: (key: K) => unknown): (key: K) => unknown {
  const cache = new WeakMap<K, unknown>()
  return (key) => {
    if (!cache.has(key)) cache.set(key, build(key))
    return cache.get(key)
  }
}

/**
 * The CEL variables describing a fleet, an account, a cluster and a target. Each is built once
 * per object (cached by identity) and shared by every expression evaluated for it.
 */
export function fleetVariable(settings: FleetSettings): unknown {
  return toCel({ name: settings.name, provider: settings.provider, requiredTags: settings.requiredTags })
}

export const accountVariable = perObject((a: LoadedAccount) =>
  toCel({
    id: a.id,
    name: a.name,
    team: a.team,
    environment: a.environment,
    criticality: a.criticality,
    costCenter: a.costCenter ?? '',
    group: a.group,
    channel: a.channel,
    regions: a.regions,
    lifecycle: a.lifecycle,
    provider: a.provider,
    tags: a.tags,
    config: a.config,
  }),
)

export function clusterVariable(c: LoadedCluster, config: Target['config']): unknown {
  return toCel({
    id: c.id,
    alias: c.alias,
    account: c.account,
    region: c.region,
    environment: c.environment,
    channel: c.channel,
    criticality: c.criticality,
    kubernetesVersion: c.kubernetesVersion,
    lifecycle: c.lifecycle,
    provider: c.provider,
    team: c.team,
    group: c.group,
    tags: c.tags,
    nodePools: c.nodePools,
    config,
  })
}

/** A target's merged config items as the CEL variable `config`, built once per target. */
export const configVariable = perObject((t: Target) => toCel(t.config))

export const targetVariable = perObject((t: Target) =>
  toCel({
    id: t.id,
    kind: t.kind,
    name: t.name,
    team: t.team,
    environment: t.environment,
    criticality: t.criticality,
    channel: t.channel,
    group: t.group,
    lifecycle: t.lifecycle,
    provider: t.provider,
    account: t.account,
    regions: t.regions,
    tags: t.tags,
    config: t.config,
  }),
)
