/**
 * The targets the simulated fleet knows (`sim_targets`): what it keeps of each account and
 * cluster of the inventory — regions, environment, group, the services an account runs, a
 * cluster's version, node pools and rotations. Targets appear here as the provider is first asked
 * about them ({@link prepareTargets}), empty, as freshly vended accounts do.
 */
import { sql } from 'kysely'
import type { AccountCluster, Target } from '../../core/model/fleet-model.ts'
import type { SimNodePool } from './kubernetes/controllers.ts'
import type { SimNodeInfo } from './kubernetes/node-pools.ts'
import { type SimService, servicesOf } from './services.ts'
import type { SimDb } from './sim-database.ts'

/** What the simulated fleet keeps of a target. */
export interface TargetInfo {
  readonly regions: readonly string[]
  readonly environment: string
  readonly group: string
  readonly services: readonly SimService[]
  /** Clusters: the ingress domain their account's services are reached under. */
  readonly ingressDomain?: string
  /** Clusters: what the Kubernetes-compatible API makes its nodes of. */
  readonly kubernetesVersion?: string
  readonly nodePools?: readonly SimNodePool[]
  /** Clusters: a rotation in progress and the rotations started (see node-pools.ts). */
  readonly rotation?: NonNullable<SimNodeInfo['rotation']>
  readonly rotations?: NonNullable<SimNodeInfo['rotations']>
}

/** What `seed` takes of a cluster besides its target: its version and node pools. */
export interface SeedCluster {
  readonly kubernetesVersion: string
  readonly nodePools: readonly SimNodePool[]
}

/** The providers whose targets the simulated fleet stands behind. */
const SIMULATED_PROVIDERS = new Set(['sim', 'aws', 'kubernetes'])

/** Upserts per statement: far below PostgreSQL's 65,535 bind parameters. */
const BATCH = 500

/**
 * Adds targets to the simulated fleet and, with `refresh`, refreshes what it keeps of known ones
 * from the inventory (a cluster's version and node pools only when it has none yet: from then on
 * only its rotations change them, as a real cluster's). The simulator also stands behind targets
 * of providers `aws` and `kubernetes` (through its AWS-compatible endpoint and
 * Kubernetes-compatible API); others are skipped. One read and one upsert per 500 targets; safe
 * to run from several processes at once (an upsert merges into what another wrote, an insert of
 * a target another process added meanwhile does nothing). Returns how many were new.
 */
export async function prepareTargets(
  db: SimDb,
  all: readonly Target[],
  options: { readonly refresh: boolean; readonly clusterShapes?: ReadonlyMap<string, SeedCluster> },
): Promise<number> {
  const { refresh, clusterShapes } = options
  const targets = all.filter((t) => SIMULATED_PROVIDERS.has(t.provider))
  if (targets.length === 0) return 0
  const ids = targets.map((t) => t.id)
  const accountsWithoutClusters = targets
    .filter((t) => t.kind === 'account' && t.clusters === undefined)
    .map((t) => t.id)
  const known = new Map<string, TargetInfo>()
  const knownClusters: AccountCluster[] = []
  const knownClusterAccounts = new Map<string, string>()
  for (let at = 0; at < ids.length; at += BATCH) {
    const rows = await db
      .selectFrom('sim_targets')
      .select(['id', 'kind', 'account', 'info'])
      .where((eb) => {
        const mine = eb('id', 'in', ids.slice(at, at + BATCH))
        // Targets built without their clusters (by hand): the clusters known of their accounts.
        const accounts = accountsWithoutClusters.slice(at, at + BATCH)
        return accounts.length === 0
          ? mine
          : eb.or([mine, eb.and([eb('kind', '=', 'cluster'), eb('account', 'in', accounts)])])
      })
      .execute()
    for (const row of rows) {
      const info = row.info as unknown as TargetInfo
      known.set(row.id, info)
      if (row.kind === 'cluster' && info.ingressDomain !== undefined) {
        knownClusters.push({
          id: row.id,
          region: info.regions[0] ?? '',
          config: { ingress_domain: info.ingressDomain },
        })
        knownClusterAccounts.set(row.id, row.account)
      }
    }
  }
  const given = targets.filter((t) => t.kind === 'cluster')
  const givenIds = new Set(given.map((c) => c.id))
  const clustersOf = (account: Target): readonly AccountCluster[] =>
    account.clusters ??
    [
      ...given
        .filter((c) => c.account === account.id)
        .map((c) => ({ id: c.id, region: c.regions[0] ?? '', config: c.config })),
      ...knownClusters.filter((c) => knownClusterAccounts.get(c.id) === account.id && !givenIds.has(c.id)),
    ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const rows = targets
    .filter((target) => refresh || !known.has(target.id))
    .map((target) => {
      const before = known.get(target.id)
      const info: Record<string, unknown> = {
        regions: target.regions,
        environment: target.environment,
        group: target.group,
        services: target.kind === 'account' ? servicesOf(target, clustersOf(target)) : [],
      }
      if (target.kind === 'cluster') {
        const ingress = target.config.ingress_domain
        if (typeof ingress === 'string') info.ingressDomain = ingress
        // A cluster is made as the inventory first describes it.
        if (before?.nodePools === undefined)
          Object.assign(info, clusterShape(target, clusterShapes?.get(target.id)))
      }
      return {
        id: target.id,
        kind: target.kind,
        name: target.name,
        account: target.account,
        info: JSON.stringify(info),
      }
    })
  for (let at = 0; at < rows.length; at += BATCH) {
    await db
      .insertInto('sim_targets')
      .values(rows.slice(at, at + BATCH))
      .onConflict((oc) =>
        refresh
          ? oc.column('id').doUpdateSet((eb) => ({
              name: eb.ref('excluded.name'),
              account: eb.ref('excluded.account'),
              // Merged, not replaced: what the cluster changed itself (its rotations) stays, even
              // when another process wrote it after this one read the row.
              info: sql`sim_targets.info || excluded.info`,
            }))
          : oc.column('id').doNothing(),
      )
      .execute()
  }
  return targets.filter((t) => !known.has(t.id)).length
}

/** A cluster's version and node pools: from `shape` when given, else from its target. */
function clusterShape(target: Target, shape: SeedCluster | undefined): Partial<TargetInfo> {
  const kubernetesVersion = shape?.kubernetesVersion ?? target.kubernetesVersion
  const pools = shape?.nodePools ?? target.nodePools
  return {
    ...(kubernetesVersion !== undefined ? { kubernetesVersion } : {}),
    ...(pools !== undefined
      ? {
          nodePools: pools.map(({ name, profile, instanceTypes, min, max, ...rest }) => ({
            name,
            profile,
            instanceTypes,
            min,
            max,
            ...('version' in rest && rest.version !== undefined ? { version: rest.version } : {}),
          })),
        }
      : {}),
  }
}

/** The stored info of some targets, by id (unknown ones are left out). */
export async function targetInfos(db: SimDb, ids: readonly string[]): Promise<Map<string, TargetInfo>> {
  const out = new Map<string, TargetInfo>()
  for (const [id, known] of await knownTargets(db, ids)) out.set(id, known.info)
  return out
}

/** Some targets as stored: their account and info, by id (unknown ones are left out). */
export async function knownTargets(
  db: SimDb,
  ids: readonly string[],
): Promise<Map<string, { readonly account: string; readonly info: TargetInfo }>> {
  const out = new Map<string, { account: string; info: TargetInfo }>()
  for (let at = 0; at < ids.length; at += BATCH) {
    const rows = await db
      .selectFrom('sim_targets')
      .select(['id', 'account', 'info'])
      .where('id', 'in', ids.slice(at, at + BATCH))
      .execute()
    for (const row of rows) out.set(row.id, { account: row.account, info: row.info as unknown as TargetInfo })
  }
  return out
}

/** What the simulated fleet keeps of `target`; for one it does not know, what its inventory entry says. */
export async function targetInfo(db: SimDb, target: Target): Promise<TargetInfo> {
  return (
    (await targetInfos(db, [target.id])).get(target.id) ?? {
      regions: target.regions,
      environment: target.environment,
      group: target.group,
      services: [],
    }
  )
}

/** Replaces a cluster's info (its rotation moved on). */
export async function writeClusterInfo(db: SimDb, id: string, info: SimNodeInfo): Promise<void> {
  await db
    .updateTable('sim_targets')
    .set({ info: JSON.stringify(info) })
    .where('id', '=', id)
    .execute()
}

/** A simulated account with what it keeps. */
export interface KnownAccount {
  readonly id: string
  readonly name: string
  readonly info: TargetInfo
}

/** Every account the simulated fleet knows, by name. */
export async function knownAccounts(db: SimDb): Promise<KnownAccount[]> {
  const rows = await db
    .selectFrom('sim_targets')
    .select(['id', 'name', 'info'])
    .where('kind', '=', 'account')
    .orderBy('name')
    .execute()
  return rows.map((row) => ({ id: row.id, name: row.name, info: row.info as unknown as TargetInfo }))
}

/** How many accounts and clusters the simulated fleet knows. */
export async function targetCounts(db: SimDb): Promise<{ accounts: number; clusters: number }> {
  const kinds = await db
    .selectFrom('sim_targets')
    .select(['kind', db.fn.countAll<number>().as('n')])
    .groupBy('kind')
    .execute()
  const count = (kind: string) => Number(kinds.find((k) => k.kind === kind)?.n ?? 0)
  return { accounts: count('account'), clusters: count('cluster') }
}

/** The target of an account id (the first by id), if the simulated fleet has that account. */
export async function accountTargetId(db: SimDb, account: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('sim_targets')
    .select('id')
    .where('kind', '=', 'account')
    .where('account', '=', account)
    .orderBy('id')
    .executeTakeFirst()
  return row?.id
}

/** Every cluster the simulated fleet knows, by id. */
export async function clusterIds(db: SimDb): Promise<string[]> {
  const rows = await db
    .selectFrom('sim_targets')
    .select('id')
    .where('kind', '=', 'cluster')
    .orderBy('id')
    .execute()
  return rows.map((r) => r.id)
}

/** What the simulated fleet keeps of a cluster, if it knows it. */
export async function clusterInfo(db: SimDb, cluster: string): Promise<TargetInfo | undefined> {
  const row = await db
    .selectFrom('sim_targets')
    .select('info')
    .where('id', '=', cluster)
    .where('kind', '=', 'cluster')
    .executeTakeFirst()
  return row?.info as unknown as TargetInfo | undefined
}

/** The clusters the simulated fleet knows in an account. */
export async function clustersOfAccount(db: SimDb, account: string): Promise<string[]> {
  const rows = await db
    .selectFrom('sim_targets')
    .select('id')
    .where('kind', '=', 'cluster')
    .where('account', '=', account)
    .execute()
  return rows.map((r) => r.id)
}
