import type { AccountFile, ClusterEntry, ExampleInventory, TeamEntry } from './inventory.ts'
import { commentBlock, flowList, flowMap, scalar, text } from './yaml-text.ts'

type Files = Map<string, string>

/** What each account file holds, for its header comment; also the order the files are listed in. */
const ACCOUNT_FILES: Readonly<Record<AccountFile, string>> = {
  ops: 'Ops accounts (group ops): monitoring, logging, DNS and deployment tooling. They roll out in a stage of their own, never together with production, so that the tools needed to see and fix an outage survive it.',
  production: 'Production accounts.',
  staging: 'Staging accounts: production-like, no customer traffic.',
  test: 'Test accounts. They have no public DNS zone (see stacks/route53-hostedzones.yaml).',
}

/** Writes `inventory/teams.yaml`, `inventory/accounts/<file>.yaml` and `inventory/clusters.yaml`. */
export function writeInventoryFiles(inventory: ExampleInventory, files: Files): void {
  files.set('inventory/teams.yaml', teamsFile(inventory.teams))
  for (const [file, description] of Object.entries(ACCOUNT_FILES) as [AccountFile, string][]) {
    const accounts = inventory.accounts.filter((a) => a.file === file)
    if (accounts.length === 0) continue
    const header = commentBlock([
      ...wrap(description),
      '',
      'Every file in inventory/accounts/ is part of one list of accounts; the split is only for',
      'people. lifecycle is active unless written; group defaults to the team, costCenter to the',
      "team's. tags are checked against fleet.yaml requiredTags (tag compliance).",
    ])
    files.set(
      `inventory/accounts/${file}.yaml`,
      `${header}\n${accounts.map((a) => accountYaml(a.entry)).join('\n')}`,
    )
  }
  files.set('inventory/clusters.yaml', clustersFile(inventory.clusters))
}

function teamsFile(teams: readonly TeamEntry[]): string {
  const header = commentBlock([
    'Teams. Accounts and clusters name their owning team; members are the user names access',
    "control knows; costCenter is the default cost center of the team's accounts.",
  ])
  const entries = teams.map((team) =>
    lines([
      `- id: ${scalar(team.id)}`,
      `  name: ${text(team.name)}`,
      team.description === undefined ? undefined : `  description: ${text(team.description)}`,
      team.costCenter === undefined ? undefined : `  costCenter: ${scalar(team.costCenter)}`,
      `  members: ${flowList(team.members ?? [])}`,
    ]),
  )
  return `${header}\n${entries.join('\n')}`
}

function accountYaml(account: ExampleInventory['accounts'][number]['entry']): string {
  return lines([
    `- id: ${scalar(account.id)}`,
    `  name: ${scalar(account.name)}`,
    account.description === undefined ? undefined : `  description: ${text(account.description)}`,
    `  team: ${scalar(account.team)}`,
    `  environment: ${account.environment}`,
    `  criticality: ${account.criticality}`,
    account.costCenter === undefined ? undefined : `  costCenter: ${scalar(account.costCenter)}`,
    account.group === undefined ? undefined : `  group: ${scalar(account.group)}`,
    `  channel: ${account.channel}`,
    `  regions: ${flowList(account.regions)}`,
    account.lifecycle === undefined || account.lifecycle === 'active'
      ? undefined
      : `  lifecycle: ${account.lifecycle}`,
    `  tags: ${flowMap(account.tags ?? {})}`,
    `  config: ${flowMap(account.config ?? {})}`,
  ])
}

function clustersFile(clusters: readonly ClusterEntry[]): string {
  const header = commentBlock([
    "Clusters. Each runs in one of its account's regions and inherits the account's team, group",
    'and tags. lifecycle is ready unless written. config is merged over cluster/config-defaults.yaml;',
    "ingress_domain is the DNS name under which external-dns publishes the cluster's ingresses.",
  ])
  if (clusters.length === 0) return `${header}\n[]\n`
  const entries = clusters.map((cluster) =>
    lines([
      `- id: ${text(cluster.id)}`,
      `  alias: ${scalar(cluster.alias)}`,
      cluster.description === undefined ? undefined : `  description: ${text(cluster.description)}`,
      `  account: ${scalar(cluster.account)}`,
      `  region: ${scalar(cluster.region)}`,
      `  environment: ${cluster.environment}`,
      `  channel: ${cluster.channel}`,
      `  criticality: ${cluster.criticality}`,
      `  kubernetesVersion: ${scalar(cluster.kubernetesVersion)}`,
      cluster.lifecycle === undefined || cluster.lifecycle === 'ready'
        ? undefined
        : `  lifecycle: ${cluster.lifecycle}`,
      (cluster.nodePools ?? []).length === 0 ? '  nodePools: []' : '  nodePools:',
      ...(cluster.nodePools ?? []).map(
        (pool) =>
          `    - { name: ${scalar(pool.name)}, profile: ${scalar(pool.profile)}, instanceTypes: ${flowList(pool.instanceTypes)}, min: ${pool.min}, max: ${pool.max} }`,
      ),
      `  config: ${flowMap(cluster.config ?? {})}`,
    ]),
  )
  return `${header}\n${entries.join('\n')}`
}

/** Joins the lines that are present, with a trailing newline. */
function lines(parts: readonly (string | undefined)[]): string {
  return `${parts.filter((p) => p !== undefined).join('\n')}\n`
}

/** Breaks a sentence into comment lines of at most 92 characters. */
function wrap(sentence: string): string[] {
  const out: string[] = []
  let line = ''
  for (const word of sentence.split(' ')) {
    if (line !== '' && line.length + word.length + 1 > 92) {
      out.push(line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  if (line !== '') out.push(line)
  return out
}
