/**
 * The inventory as the portal and the API show it: one row per account and per cluster, with
 * what users look up (environment, criticality, cost center, group, tag compliance), filtered and
 * sorted. Pure: built from a loaded fleet, so a request never reads the repository.
 */
import type { Fleet } from '../core/model/fleet-model.ts'

/** One account, as listed. */
export interface AccountRow {
  readonly id: string
  readonly name: string
  readonly team: string
  readonly environment: string
  readonly criticality: string
  readonly costCenter: string
  readonly group: string
  readonly channel: string
  readonly lifecycle: string
  readonly stage: string | null
  readonly regions: readonly string[]
  /** Share of `fleet.yaml` `requiredTags` the account carries, 0–100 (100 when none are required). */
  readonly tagCompliance: number
  readonly missingTags: readonly string[]
  readonly clusters: readonly string[]
}

/** One cluster, as listed. */
export interface ClusterRow {
  readonly id: string
  readonly alias: string
  readonly account: string
  readonly accountName: string
  readonly team: string
  readonly environment: string
  readonly criticality: string
  readonly channel: string
  readonly region: string
  readonly kubernetesVersion: string
  readonly lifecycle: string
  readonly stage: string | null
  readonly nodePools: readonly {
    name: string
    profile: string
    instanceTypes: readonly string[]
    min: number
    max: number
  }[]
}

/** The filters of the accounts list; every one optional, all of them combined with "and". */
export interface AccountFilters {
  readonly environment?: string
  readonly criticality?: string
  readonly costCenter?: string
  readonly team?: string
  readonly channel?: string
  readonly group?: string
  /** Matches the name, the id, the team or the cost center, case-insensitively. */
  readonly q?: string
}

/** Columns the accounts list sorts by. */
export const ACCOUNT_SORTS = [
  'name',
  'id',
  'team',
  'environment',
  'criticality',
  'costCenter',
  'group',
  'channel',
  'tagCompliance',
] as const
export type AccountSort = (typeof ACCOUNT_SORTS)[number]

/** Every account of the fleet, by name. */
export function accountRows(fleet: Fleet): AccountRow[] {
  const required = fleet.settings.requiredTags ?? []
  const clustersOf = new Map<string, string[]>()
  for (const cluster of fleet.clusters.values())
    clustersOf.set(cluster.account, [...(clustersOf.get(cluster.account) ?? []), cluster.id])
  return [...fleet.accounts.values()]
    .map((a) => {
      const missing = required.filter((key) => !Object.hasOwn(a.tags ?? {}, key))
      return {
        id: a.id,
        name: a.name,
        team: a.team,
        environment: a.environment,
        criticality: a.criticality,
        costCenter: a.costCenter ?? fleet.teams.get(a.team)?.costCenter ?? '',
        group: a.group,
        channel: a.channel,
        lifecycle: a.lifecycle,
        stage: fleet.stageOf.get(a.id) ?? null,
        regions: a.regions,
        tagCompliance:
          required.length === 0
            ? 100
            : Math.round((100 * (required.length - missing.length)) / required.length),
        missingTags: missing,
        clusters: clustersOf.get(a.id) ?? [],
      }
    })
    .sort((x, y) => compare(x.name, y.name))
}

/** Every cluster of the fleet, by alias. */
export function clusterRows(fleet: Fleet): ClusterRow[] {
  return [...fleet.clusters.values()]
    .map((c) => ({
      id: c.id,
      alias: c.alias,
      account: c.account,
      accountName: fleet.accounts.get(c.account)?.name ?? c.account,
      team: c.team,
      environment: c.environment,
      criticality: c.criticality,
      channel: c.channel,
      region: c.region,
      kubernetesVersion: c.kubernetesVersion,
      lifecycle: c.lifecycle,
      stage: fleet.stageOf.get(c.id) ?? null,
      nodePools: c.nodePools.map((p) => ({
        name: p.name,
        profile: p.profile,
        instanceTypes: p.instanceTypes,
        min: p.min,
        max: p.max,
      })),
    }))
    .sort((x, y) => compare(x.alias, y.alias))
}

/** The rows that pass every filter given, sorted by `sort` (ascending, or descending with `desc`). */
export function filterAccounts(
  rows: readonly AccountRow[],
  filters: AccountFilters,
  sort: AccountSort = 'name',
  desc = false,
): AccountRow[] {
  const q = filters.q?.trim().toLowerCase()
  const kept = rows.filter(
    (r) =>
      (!filters.environment || r.environment === filters.environment) &&
      (!filters.criticality || r.criticality === filters.criticality) &&
      (!filters.costCenter || r.costCenter === filters.costCenter) &&
      (!filters.team || r.team === filters.team) &&
      (!filters.channel || r.channel === filters.channel) &&
      (!filters.group || r.group === filters.group) &&
      (!q || [r.name, r.id, r.team, r.costCenter].some((field) => field.toLowerCase().includes(q))),
  )
  const sign = desc ? -1 : 1
  return kept.sort((x, y) => sign * (compare(x[sort], y[sort]) || compare(x.name, y.name)))
}

/** The filters of the clusters list; every one optional, combined with "and". */
export interface ClusterFilters {
  readonly environment?: string | undefined
  readonly channel?: string | undefined
  readonly team?: string | undefined
  /** Matches the alias, the id, the account's name or the team, case-insensitively. */
  readonly q?: string | undefined
}

/** The clusters that pass every filter given, in their order. */
export function filterClusters(rows: readonly ClusterRow[], filters: ClusterFilters): ClusterRow[] {
  const q = filters.q?.trim().toLowerCase()
  return rows.filter(
    (r) =>
      (!filters.environment || r.environment === filters.environment) &&
      (!filters.channel || r.channel === filters.channel) &&
      (!filters.team || r.team === filters.team) &&
      (!q || [r.alias, r.id, r.accountName, r.team].some((f) => f.toLowerCase().includes(q))),
  )
}

/** Columns the clusters list sorts by. */
export const CLUSTER_SORTS = [
  'alias',
  'accountName',
  'environment',
  'channel',
  'kubernetesVersion',
  'lifecycle',
] as const
export type ClusterSort = (typeof CLUSTER_SORTS)[number]

/** Clusters sorted by a column (then by alias); Kubernetes versions as versions: 1.9 before 1.31. */
export function sortClusters(rows: readonly ClusterRow[], sort: ClusterSort, desc: boolean): ClusterRow[] {
  const key = (r: ClusterRow): string | number =>
    sort === 'kubernetesVersion'
      ? r.kubernetesVersion.split('.').reduce((n, part) => n * 1000 + (Number.parseInt(part, 10) || 0), 0)
      : r[sort]
  const sign = desc ? -1 : 1
  return [...rows].sort((x, y) => sign * (compare(key(x), key(y)) || compare(x.alias, y.alias)))
}

/** The distinct values of a column, for a filter's choices. */
export function distinct(
  rows: readonly AccountRow[],
  column: 'environment' | 'criticality' | 'costCenter' | 'team' | 'channel' | 'group',
): string[] {
  return [...new Set(rows.map((r) => r[column]))].sort(compare)
}

function compare(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0
}
