import { z } from 'zod'
import type { DiagnosticSink, Location } from '../diagnostics.ts'
import type { ConfigDefaults } from '../model/cluster-config.ts'
import type { FleetSettings } from '../model/fleet.ts'
import type { ConfigValue, LoadedAccount, LoadedCluster, LoadedTeam, Target } from '../model/fleet-model.ts'
import { accountSchema, clusterSchema, teamSchema } from '../model/inventory.ts'
import { didYouMean } from '../suggest.ts'
import type { ParsedDocument } from '../yaml/parse.ts'
import { checkSchema } from './schema-check.ts'

/** The inventory: teams, accounts and clusters, each checked, with references resolved. */
export interface Inventory {
  readonly teams: Map<string, LoadedTeam>
  readonly accounts: Map<string, LoadedAccount>
  readonly clusters: Map<string, LoadedCluster>
  readonly targets: Target[]
}

const listSchema = z.array(z.unknown())

/**
 * Reads each entry of a list file on its own, so that one bad entry is reported without hiding
 * the problems (or the valid entries) around it. Returns valid entries with their positions, and
 * the raw ids of every entry, valid or not, so references to an invalid entry do not cascade.
 * `complete` is false when a file was not a list at all: its ids are unknown.
 */
function readEntries<S extends z.ZodType>(
  docs: readonly ParsedDocument[],
  schema: S,
  sink: DiagnosticSink,
): { entries: (z.output<S> & { at: Location })[]; rawIds: Set<string>; complete: boolean } {
  const entries: (z.output<S> & { at: Location })[] = []
  const rawIds = new Set<string>()
  let complete = true
  for (const doc of docs) {
    const list = checkSchema(listSchema, doc, sink)
    if (!list) {
      complete = false
      continue
    }
    list.forEach((raw, i) => {
      const rawId = (raw as { id?: unknown } | null)?.id
      if (typeof rawId === 'string' || typeof rawId === 'number') rawIds.add(String(rawId))
      const entry = checkSchema(schema, doc, sink, raw, [i])
      if (entry !== undefined)
        entries.push({ ...(entry as object), at: doc.locate([i]) } as z.output<S> & { at: Location })
    })
  }
  return { entries, rawIds, complete }
}

/** Reports a second definition of the same id (or name), pointing back at the first. */
function checkUnique<T extends { at: Location }>(
  items: readonly T[],
  keyOf: (item: T) => string,
  what: string,
  sink: DiagnosticSink,
): Map<string, T> {
  const byKey = new Map<string, T>()
  for (const item of items) {
    const key = keyOf(item)
    const first = byKey.get(key)
    if (first) {
      sink.error(
        item.at,
        'duplicate-id',
        `duplicate ${what} "${key}" (first defined at ${first.at.file}:${first.at.line}:${first.at.col}); each ${what} must be unique across the fleet`,
      )
    } else {
      byKey.set(key, item)
    }
  }
  return byKey
}

/** Loads teams, accounts and clusters and checks every reference between them. */
export function loadInventory(
  files: {
    teams: readonly ParsedDocument[]
    accounts: readonly ParsedDocument[]
    clusters: readonly ParsedDocument[]
    /**
     * Roles (`teams`, `accounts`, …) with a file that could not be read; its error is reported
     * already. References into them are not checked: the ids they define are unknown.
     */
    unreadable?: ReadonlySet<string>
  },
  settings: FleetSettings | undefined,
  configDefaults: ConfigDefaults | undefined,
  sink: DiagnosticSink,
): Inventory {
  const teamEntries = readEntries(files.teams, teamSchema, sink)
  const accountEntries = readEntries(files.accounts, accountSchema, sink)
  const clusterEntries = readEntries(files.clusters, clusterSchema, sink)

  const teams = checkUnique(teamEntries.entries, (t) => t.id, 'team id', sink)
  const teamIds = new Set([...teamEntries.rawIds])
  const teamsKnown = teamEntries.complete && !files.unreadable?.has('teams')
  const accountsKnown = accountEntries.complete && !files.unreadable?.has('accounts')
  const accountProvider = settings?.provider ?? 'sim'
  const clusterProvider = accountProvider === 'sim' ? 'sim' : 'kubernetes'

  const accountList: LoadedAccount[] = accountEntries.entries.map((a) => ({
    ...a,
    group: a.group ?? a.team,
    costCenter: a.costCenter ?? teams.get(a.team)?.costCenter,
    provider: a.provider ?? accountProvider,
  })) as LoadedAccount[]
  const accounts = checkUnique(accountList, (a) => a.id, 'account id', sink)
  checkUnique(accountList, (a) => a.name, 'account name', sink)
  const ownCostCenter = new Set(
    accountEntries.entries.filter((a) => a.costCenter !== undefined).map((a) => a.id),
  )
  for (const account of accountList) {
    // One fact, one value: a `cost-center` tag that disagrees with the cost center the portal, the
    // policies and cost reports use would make a change of either look like none.
    // Whatever the tag is spelt (`cost-center`, `CostCenter`, `cost_center`): one fact.
    const [tagKey, tagged] =
      Object.entries(account.tags).find(
        ([key]) => key.toLowerCase().replace(/[-_\s]/g, '') === 'costcenter',
      ) ?? []
    if (tagged !== undefined && account.costCenter !== undefined && tagged !== account.costCenter) {
      const written = ownCostCenter.has(account.id)
      sink.error(
        account.at,
        'invalid-value',
        `account "${account.name}" has tag ${tagKey} "${tagged}" but cost center "${account.costCenter}" (${written ? 'its costCenter' : `the costCenter of its team ${account.team}`}); make them agree — set costCenter to the tag's value, or the tag to the cost center`,
      )
    }
    if (teamsKnown && !teamIds.has(account.team)) {
      sink.error(
        account.at,
        'broken-reference',
        `account "${account.id}" names team "${account.team}", which is not in inventory/teams.yaml${didYouMean(account.team, teamIds)}`,
      )
    }
  }

  const clusterList: LoadedCluster[] = []
  for (const c of clusterEntries.entries) {
    const account = accounts.get(c.account)
    if (!account) {
      if (accountsKnown && !accountEntries.rawIds.has(c.account)) {
        sink.error(
          c.at,
          'broken-reference',
          `cluster "${c.id}" names account "${c.account}", which is not in the inventory${didYouMean(c.account, accountEntries.rawIds)}`,
        )
      }
      continue
    }
    if (teamsKnown && c.team !== undefined && !teamIds.has(c.team)) {
      sink.error(
        c.at,
        'broken-reference',
        `cluster "${c.id}" names team "${c.team}", which is not in inventory/teams.yaml${didYouMean(c.team, teamIds)}`,
      )
    }
    if (!account.regions.includes(c.region)) {
      sink.error(
        c.at,
        'broken-reference',
        `cluster "${c.id}" is in region ${c.region}, which is not one of account ${account.id}'s regions (${account.regions.join(', ')}); add the region to the account or fix the cluster's region`,
      )
    }
    clusterList.push({
      ...c,
      team: c.team ?? account.team,
      group: c.group ?? account.group,
      tags: c.tags ?? account.tags,
      provider: c.provider ?? clusterProvider,
    })
  }
  const clusters = checkUnique(clusterList, (c) => c.id, 'cluster id', sink)
  checkUnique(clusterList, (c) => c.alias, 'cluster alias', sink)

  const clusterTargets = [...clusters.values()].sort(byId).map((c) => clusterTarget(c, configDefaults))
  const targets: Target[] = [
    ...[...accounts.values()].sort(byId).map((a) => accountTarget(a, clusterTargets)),
    ...clusterTargets,
  ]
  return { teams, accounts, clusters, targets }
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

function accountTarget(a: LoadedAccount, clusterTargets: readonly Target[]): Target {
  const clusters = clusterTargets
    .filter((c) => c.account === a.id)
    .map((c) => ({ id: c.id, region: c.regions[0]!, config: c.config }))
  return {
    id: a.id,
    kind: 'account',
    name: a.name,
    team: a.team,
    environment: a.environment,
    criticality: a.criticality,
    channel: a.channel,
    group: a.group,
    lifecycle: a.lifecycle,
    provider: a.provider,
    account: a.id,
    regions: a.regions,
    tags: a.tags,
    config: a.config,
    ...(clusters.length > 0 ? { clusters } : {}),
    at: a.at,
  }
}

/** Config of a cluster: `defaults`, then its environment's, then its channel's, then its own items. */
export function clusterConfig(
  c: LoadedCluster,
  defaults: ConfigDefaults | undefined,
): Record<string, ConfigValue> {
  return {
    ...defaults?.defaults,
    ...defaults?.environments[c.environment],
    ...defaults?.channels[c.channel],
    ...c.config,
  }
}

function clusterTarget(c: LoadedCluster, defaults: ConfigDefaults | undefined): Target {
  return {
    id: c.id,
    kind: 'cluster',
    name: c.alias,
    team: c.team,
    environment: c.environment,
    criticality: c.criticality,
    channel: c.channel,
    group: c.group,
    lifecycle: c.lifecycle,
    provider: c.provider,
    account: c.account,
    regions: [c.region],
    tags: c.tags,
    config: clusterConfig(c, defaults),
    ...(c.apiServer !== undefined ? { apiServer: c.apiServer } : {}),
    kubernetesVersion: c.kubernetesVersion,
    nodePools: c.nodePools,
    at: c.at,
  }
}
