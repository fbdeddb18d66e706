import type { z } from 'zod'
import type { Channel, Criticality, Environment } from '../core/model/common.ts'
import type { accountSchema, clusterSchema, nodePoolSchema, teamSchema } from '../core/model/inventory.ts'
import { createPeople, displayName, teamIds } from './names.ts'
import { createRandom, type Random } from './random.ts'

/** A team as written in `inventory/teams.yaml`. */
export type TeamEntry = z.input<typeof teamSchema>
/** An account as written in `inventory/accounts/*.yaml`. */
export type AccountEntry = z.input<typeof accountSchema>
/** A cluster as written in `inventory/clusters.yaml`. */
export type ClusterEntry = z.input<typeof clusterSchema>
type NodePoolEntry = z.input<typeof nodePoolSchema>

/** Every account's first region; most accounts use only this one. */
export const HOME_REGION = 'eu-central-1'
/** The region some production accounts add, for disaster recovery. */
export const SECOND_REGION = 'eu-west-1'
/** The parent DNS domain: every account's zone is `<account name>.example.org`. */
export const PARENT_DOMAIN = 'example.org'

/** The ops accounts (group `ops`): what is needed to see and fix an outage. */
export const OPS_ACCOUNTS = [
  { name: 'ops-monitoring', description: 'Prometheus, Grafana and alerting for the whole fleet' },
  { name: 'ops-logging', description: 'Central log storage and search' },
  { name: 'ops-tooling', description: 'Deployment tooling: Flotilla, CI runners, artifact registry' },
  { name: 'ops-dns', description: 'The parent zone example.org and its delegations to every account zone' },
] as const
/** The name of one of the {@link OPS_ACCOUNTS}. */
export type OpsAccountName = (typeof OPS_ACCOUNTS)[number]['name']

/** Which inventory file an account is written to. */
export type AccountFile = 'ops' | Environment

/** An account entry and what the generator knows about it beyond the file format. */
export interface GeneratedAccount {
  readonly entry: AccountEntry & { environment: Environment; channel: Channel; regions: string[] }
  readonly file: AccountFile
  /** 0 for a team's main accounts (`checkout-prod`), 1 for the next workload (`checkout-data-prod`), … */
  readonly workload: number
}

/** The inventory of the example fleet, as data. */
export interface ExampleInventory {
  readonly teams: readonly TeamEntry[]
  readonly accounts: readonly GeneratedAccount[]
  readonly clusters: readonly ClusterEntry[]
  /** The ids of the ops accounts, by name: stacks trust the tooling and monitoring accounts. */
  readonly opsAccountIds: Readonly<Record<OpsAccountName, string>>
}

const ENVIRONMENT_ORDER = ['production', 'staging', 'test'] as const satisfies readonly Environment[]
const ENVIRONMENT_SUFFIX: Record<Environment, string> = {
  production: 'prod',
  staging: 'staging',
  test: 'test',
}

/** Second, third, … account trio of a team: `checkout-data-prod`, `checkout-batch-prod`, … */
const WORKLOADS = ['', 'data', 'batch', 'edge', 'ml', 'legacy', 'analytics', 'sandbox'] as const

/**
 * Channels by environment. Test accounts get changes first (dev, alpha), production last
 * (mostly stable). Test accounts never follow stable: they have no hosted zone, and the stable
 * stage's dns gate checks one.
 */
const CHANNEL_WEIGHTS: Record<Environment, readonly (readonly [Channel, number])[]> = {
  test: [
    ['dev', 3],
    ['alpha', 5],
    ['beta', 2],
  ],
  staging: [
    ['alpha', 2],
    ['beta', 4.5],
    ['stable', 3.5],
  ],
  production: [
    ['beta', 1],
    ['stable', 9],
  ],
}

/** Where a channel that no account happens to follow is given to, so that no rollout stage is empty. */
const CHANNEL_HOME: Record<Channel, Environment> = {
  dev: 'test',
  alpha: 'test',
  beta: 'staging',
  stable: 'production',
}

/** Required tags (fleet.yaml) and how often each is the one missing on a non-compliant account. */
const MISSING_TAG_WEIGHTS = [
  ['cost-center', 5],
  ['owner', 3],
  ['environment', 2],
] as const
/** Share of product accounts that miss a required tag: tag compliance is never 100 % in practice. */
const NON_COMPLIANT_SHARE = 0.1

/** Builds the teams, accounts and clusters for the given sizes and seed. */
export function generateInventory(
  accountCount: number,
  clusterCount: number,
  seed: string | number,
): ExampleInventory {
  const teamPlans = generateTeams(accountCount, createRandom(seed, 'teams'))
  const accounts = generateAccounts(teamPlans, accountCount, createRandom(seed, 'accounts'))
  const opsAccountIds = Object.fromEntries(
    accounts.filter((a) => a.file === 'ops').map((a) => [a.entry.name, a.entry.id]),
  ) as Record<OpsAccountName, string>
  const clusters = generateClusters(accounts, teamPlans, clusterCount, createRandom(seed, 'clusters'))
  return { teams: teamPlans.map((t) => t.entry), accounts, clusters, opsAccountIds }
}

interface TeamPlan {
  readonly entry: TeamEntry & { id: string; name: string; costCenter: string }
  /** How critical the team's main production service is. */
  readonly tier: Criticality
}

function generateTeams(accountCount: number, random: Random): TeamPlan[] {
  // About five accounts per team, as in the reference company (300 accounts, ~60 teams).
  const teamCount = Math.max(3, Math.round(accountCount / 5))
  const nextPerson = createPeople(random)
  const costCenters = uniqueStrings(() => `0001${random.int(100000, 999999)}`)
  const members = (min: number, max: number): string[] =>
    Array.from({ length: random.int(min, max) }, nextPerson).sort()
  const sre: TeamPlan = {
    entry: {
      id: 'sre',
      name: 'Site Reliability Engineering',
      description: 'Owns the ops accounts (group ops): monitoring, logging, DNS and deployment tooling',
      costCenter: costCenters(),
      members: members(4, 6),
    },
    tier: 'tier-1',
  }
  const productTeams = teamIds(teamCount - 1, random).map(
    (id): TeamPlan => ({
      entry: { id, name: `Team ${displayName(id)}`, costCenter: costCenters(), members: members(2, 6) },
      tier: random.weighted([
        ['tier-1', 2],
        ['tier-2', 4.5],
        ['tier-3', 3.5],
      ] as const),
    }),
  )
  return [sre, ...productTeams]
}

function generateAccounts(
  teams: readonly TeamPlan[],
  accountCount: number,
  random: Random,
): GeneratedAccount[] {
  const accountIds = uniqueStrings(
    () => `${random.int(100000, 999999)}${String(random.int(0, 999999)).padStart(6, '0')}`,
  )
  const [sre, ...productTeams] = teams
  const accounts: GeneratedAccount[] = OPS_ACCOUNTS.map(({ name, description }) => ({
    entry: {
      id: accountIds(),
      name,
      description,
      team: sre!.entry.id,
      environment: 'production',
      criticality: 'tier-1',
      group: 'ops',
      channel: 'stable',
      // Monitoring must outlive a region: it runs in two.
      regions: name === 'ops-monitoring' ? [HOME_REGION, SECOND_REGION] : [HOME_REGION],
      lifecycle: 'active',
      tags: { owner: sre!.entry.id, 'cost-center': sre!.entry.costCenter, environment: 'production' },
      config: {},
    },
    file: 'ops',
    workload: 0,
  }))

  const productCount = accountCount - OPS_ACCOUNTS.length
  const perTeam = Math.floor(productCount / productTeams.length)
  const remainder = productCount % productTeams.length
  productTeams.forEach((team, t) => {
    const count = perTeam + (t < remainder ? 1 : 0)
    for (let k = 0; k < count; k++) {
      accounts.push(productAccount(team, Math.floor(k / 3), ENVIRONMENT_ORDER[k % 3]!, accountIds(), random))
    }
  })

  const product = accounts.filter((a) => a.file !== 'ops')
  assignLifecycles(product, random)
  ensureEveryChannel(product)
  assignNetworks(accounts)
  designateRehearsal(product)
  return accounts
}

function productAccount(
  team: TeamPlan,
  workload: number,
  environment: Environment,
  id: string,
  random: Random,
): GeneratedAccount {
  const workloadName = workload < WORKLOADS.length ? WORKLOADS[workload]! : `workload${workload}`
  const name = [team.entry.id, workloadName, ENVIRONMENT_SUFFIX[environment]].filter(Boolean).join('-')
  const twoRegions =
    environment === 'production' && random.chance(workload === 0 ? 0.2 : 0.03) ? [SECOND_REGION] : []
  // A few accounts are paid for by another budget than their team's (shared data platforms).
  const costCenter = random.chance(0.08) ? `0002${random.int(100000, 999999)}` : undefined
  const tags: Record<string, string> = {
    owner: team.entry.id,
    'cost-center': costCenter ?? team.entry.costCenter,
    environment,
  }
  if (workloadName === 'data' || workloadName === 'analytics') tags['data-classification'] = 'confidential'
  if (team.entry.id.startsWith('payments') && environment === 'production') tags['pci-scope'] = 'true'
  if (random.chance(NON_COMPLIANT_SHARE)) delete tags[random.weighted(MISSING_TAG_WEIGHTS)]
  return {
    entry: {
      id,
      name,
      team: team.entry.id,
      environment,
      criticality: accountCriticality(team.tier, environment, workload),
      ...(costCenter === undefined ? {} : { costCenter }),
      channel: random.weighted(CHANNEL_WEIGHTS[environment]),
      regions: [HOME_REGION, ...twoRegions],
      lifecycle: 'active',
      tags,
      config: { dns_domain: `${name}.${PARENT_DOMAIN}` },
    },
    file: environment,
    workload,
  }
}

/** The team's tier for its main production account; everything else is less critical. */
function accountCriticality(teamTier: Criticality, environment: Environment, workload: number): Criticality {
  if (environment === 'test') return 'tier-3'
  if (environment === 'staging') return teamTier === 'tier-1' ? 'tier-2' : 'tier-3'
  if (workload === 0) return teamTier
  return teamTier === 'tier-1' ? 'tier-2' : 'tier-3'
}

/**
 * A few accounts are being set up (`requested`) or taken down (`decommission-requested`,
 * `decommissioned`): the states a lifecycle job and a plan must handle. Main accounts
 * (`<team>-prod`, …) are spared while other workloads exist, as in real life.
 */
function assignLifecycles(product: readonly GeneratedAccount[], random: Random): void {
  const candidates = [
    ...random.shuffle(product.filter((a) => a.workload > 0)),
    ...random.shuffle(product.filter((a) => a.workload === 0 && a.entry.environment === 'test')),
  ]
  const plan = [
    ['requested', Math.max(1, Math.round(product.length * 0.01))],
    ['decommission-requested', Math.max(1, Math.round(product.length * 0.01))],
    ['decommissioned', Math.floor(product.length / 150)],
  ] as const
  for (const [lifecycle, count] of plan) {
    for (let i = 0; i < count; i++) {
      const account = candidates.shift()
      if (!account) return
      account.entry.lifecycle = lifecycle
      account.entry.description =
        lifecycle === 'requested'
          ? 'New account, being set up'
          : lifecycle === 'decommission-requested'
            ? 'Workload moved; the account is being taken down'
            : 'Decommissioned; kept in the inventory as a record'
    }
  }
}

/**
 * Gives any channel that no account follows to one account, so that every rollout stage selects
 * something (an empty stage is a warning) even in a fleet of a dozen accounts.
 */
function ensureEveryChannel(product: readonly GeneratedAccount[]): void {
  const live = product.filter((a) => a.entry.lifecycle !== 'decommissioned')
  const count = (channel: Channel): number => live.filter((a) => a.entry.channel === channel).length
  for (const channel of ['dev', 'alpha', 'beta', 'stable'] as const) {
    if (count(channel) > 0) continue
    const donor =
      live.find((a) => a.entry.environment === CHANNEL_HOME[channel] && count(a.entry.channel) > 1) ??
      live.find((a) => count(a.entry.channel) > 1)
    if (donor) donor.entry.channel = channel
  }
}

/** The config item that marks the account where ops tooling is rehearsed (`stacks/ops-monitoring.yaml` selects it). */
export const REHEARSAL_CONFIG = 'ops_staging'

/**
 * Marks the account that gives every stack, resource type and public DNS zone a test before
 * production does (stage coverage, which validation checks): an active staging account of the
 * alpha channel — staging has a public zone, alpha is the last stage before ops and production.
 * It also rehearses the ops accounts' own stacks (config `ops_staging`), and its cluster is the
 * first a small fleet gets. The first such main account (`<team>-staging`) is taken; when the
 * channels drawn gave alpha no staging account (small fleets), one staging account moves to alpha,
 * from a channel that keeps others.
 */
function designateRehearsal(product: readonly GeneratedAccount[]): void {
  const live = product.filter((a) => a.entry.lifecycle !== 'decommissioned')
  const count = (channel: Channel): number => live.filter((a) => a.entry.channel === channel).length
  const staging = live.filter((a) => a.entry.environment === 'staging' && a.entry.lifecycle === 'active')
  // A team's main account first: the first to get a cluster.
  const byWorkload = [...staging].sort((a, b) => a.workload - b.workload)
  const chosen =
    byWorkload.find((a) => a.entry.channel === 'alpha') ?? byWorkload.find((a) => count(a.entry.channel) > 1)
  if (!chosen) return
  chosen.entry.channel = 'alpha'
  ;(chosen.entry.config as Record<string, string | number | boolean>)[REHEARSAL_CONFIG] = true
}

/** Whether an account is the one {@link designateRehearsal} chose. */
function isRehearsal(account: GeneratedAccount): boolean {
  return (account.entry.config as Record<string, unknown> | undefined)?.[REHEARSAL_CONFIG] === true
}

/**
 * One non-overlapping VPC range per account region, from 10.0.0.0/8: /20 (4096 addresses) while
 * they fit, smaller when the fleet is larger. Ranges never overlap so that any two VPCs can be peered.
 */
function assignNetworks(accounts: readonly GeneratedAccount[]): void {
  const regionCount = accounts.reduce((sum, a) => sum + a.entry.regions.length, 0)
  const prefix = Math.max(20, 8 + Math.ceil(Math.log2(regionCount)))
  // The VPC stack cuts six /24 subnets out of the range, which needs at least a /21.
  if (prefix > 21)
    throw new RangeError(`${regionCount} account regions do not fit into 10.0.0.0/8 with /21 VPCs`)
  let block = 0
  const next = (): string => {
    const address = (10 * 2 ** 24 + block++ * 2 ** (32 - prefix)) >>> 0
    return `${[24, 16, 8, 0].map((shift) => (address >>> shift) & 255).join('.')}/${prefix}`
  }
  for (const account of accounts) {
    const config = account.entry.config as Record<string, string | number | boolean>
    config.dns_domain = `${account.entry.name}.${PARENT_DOMAIN}`
    config.vpc_cidr = next()
    if (account.entry.regions.length > 1) config.vpc_cidr_secondary = next()
  }
}

function generateClusters(
  accounts: readonly GeneratedAccount[],
  teams: readonly TeamPlan[],
  clusterCount: number,
  random: Random,
): ClusterEntry[] {
  const teamOrder = new Map(teams.map((t, i) => [t.entry.id, i]))
  const opsWithClusters = new Set<string>(['ops-monitoring', 'ops-tooling'])
  // Ops clusters first, then every team's main production, staging and test accounts, then the
  // next workload's: "one cluster per team and environment", as far as the count goes.
  const hosts = [
    ...accounts.filter((a) => opsWithClusters.has(a.entry.name)),
    ...accounts
      .filter((a) => a.file !== 'ops' && a.entry.lifecycle === 'active')
      .sort(
        (a, b) =>
          a.workload - b.workload ||
          ENVIRONMENT_ORDER.indexOf(a.entry.environment) - ENVIRONMENT_ORDER.indexOf(b.entry.environment) ||
          teamOrder.get(a.entry.team)! - teamOrder.get(b.entry.team)!,
      ),
  ]
  // The rehearsal account's cluster is the first test of every component and of published DNS:
  // a fleet too small to reach it in the order above gets it first.
  const rehearsal = hosts.findIndex(isRehearsal)
  if (rehearsal >= clusterCount) hosts.unshift(...hosts.splice(rehearsal, 1))
  const teamNames = new Map(teams.map((t) => [t.entry.id, t.entry.name]))
  const clusters: ClusterEntry[] = []
  for (let i = 0; i < clusterCount && hosts.length > 0; i++) {
    const account = hosts[i % hosts.length]!
    const round = Math.floor(i / hosts.length)
    clusters.push(cluster(account, round, teamNames, random))
  }
  const rehearsalId = hosts.find(isRehearsal)?.entry.id
  assignClusterLifecycles(clusters, random, rehearsalId)
  return clusters
}

function cluster(
  account: GeneratedAccount,
  round: number,
  teamNames: ReadonlyMap<string, string>,
  random: Random,
): ClusterEntry {
  const { entry } = account
  const kube = `kube-${round + 1}`
  // A second cluster goes to the account's second region when it has one.
  const region = entry.regions[round % entry.regions.length]!
  const production = entry.environment === 'production'
  const ops = entry.group === 'ops'
  const stateful = ops || entry.name.includes('-data-') || random.chance(0.2)
  const nodePools: NodePoolEntry[] = [
    { name: 'system', profile: 'system', instanceTypes: ['m6i.large'], min: 2, max: ops ? 6 : 4 },
    {
      name: 'default-worker',
      profile: 'worker',
      instanceTypes: production ? ['m6i.2xlarge', 'm5.2xlarge'] : ['m6i.xlarge', 'm5.xlarge'],
      min: production ? 3 : 1,
      max: production ? random.pick([20, 40, 60, 100]) : random.pick([10, 20]),
    },
  ]
  if (stateful) {
    nodePools.push({
      name: 'stateful-worker',
      profile: 'worker-stateful',
      instanceTypes: ['r6i.xlarge'],
      min: production ? 3 : 0,
      max: production ? 12 : 4,
    })
  }
  if (entry.environment === 'test' && random.chance(0.3)) {
    nodePools.push({
      name: 'spot-worker',
      profile: 'worker-spot',
      instanceTypes: ['m6i.xlarge', 'm5.xlarge', 'm5a.xlarge'],
      min: 0,
      max: 20,
    })
  }
  const dnsDomain = String((entry.config as Record<string, unknown>).dns_domain)
  const config: Record<string, string | number | boolean> = { ingress_domain: `${kube}.${dnsDomain}` }
  if (production && entry.criticality === 'tier-1') {
    config.ingress_replicas = random.pick([4, 6, 8])
    config.coredns_replicas = 4
  }
  if (entry.environment === 'test' && random.chance(0.2)) config.autoscaling_enabled = false
  if (random.chance(0.04)) config.log_level = 'debug'
  const teamName = teamNames.get(entry.team) ?? entry.team
  return {
    id: `aws:${entry.id}:${region}:${kube}`,
    alias: `${entry.name}-${kube}`,
    description: `${capitalize(entry.environment)} cluster of ${teamName}`,
    account: entry.id,
    region,
    environment: entry.environment,
    channel: entry.channel,
    criticality: entry.criticality,
    kubernetesVersion: kubernetesVersion(entry.channel, random),
    lifecycle: 'ready',
    nodePools,
    config,
  }
}

/** New Kubernetes minors reach dev first and stable last; a few stable clusters lag one behind. */
function kubernetesVersion(channel: Channel, random: Random): string {
  switch (channel) {
    case 'dev':
      return '1.32'
    case 'alpha':
      return random.chance(0.5) ? '1.32' : '1.31'
    case 'beta':
      return '1.31'
    case 'stable':
      return random.chance(0.15) ? '1.30' : '1.31'
  }
}

/**
 * A few clusters are on their way in or out; never an ops cluster, nor the rehearsal account's
 * first (it must receive what it rehearses). It is skipped after the shuffle, so the other
 * choices stay what the seed made them.
 */
function assignClusterLifecycles(clusters: ClusterEntry[], random: Random, rehearsalAccount?: string): void {
  const candidates = random.shuffle(
    clusters.filter((c) => c.environment !== 'production' && !c.alias.startsWith('ops-')),
  )
  const plan = [
    ['creating', clusters.length >= 10 ? Math.max(1, Math.round(clusters.length * 0.008)) : 0],
    ['requested', clusters.length >= 50 ? Math.max(1, Math.round(clusters.length * 0.004)) : 0],
    ['decommission-requested', clusters.length >= 20 ? Math.max(1, Math.round(clusters.length * 0.004)) : 0],
  ] as const
  const spared = clusters.find((c) => c.account === rehearsalAccount)
  const next = candidates.filter((c) => c !== spared)
  for (const [lifecycle, count] of plan) {
    for (let i = 0; i < count; i++) {
      const cluster = next.shift()
      if (cluster) cluster.lifecycle = lifecycle
    }
  }
}

function capitalize(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`
}

/** Wraps a generator of candidates so that it never returns the same string twice. */
function uniqueStrings(candidate: () => string): () => string {
  const seen = new Set<string>()
  return () => {
    for (;;) {
      const value = candidate()
      if (!seen.has(value)) {
        seen.add(value)
        return value
      }
    }
  }
}
