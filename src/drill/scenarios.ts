/**
 * The dangerous changes of a drill: the mistakes that took real fleets down, each made the way a
 * person would make it, in a scratch copy of the fleet repository. Each scenario also says what
 * automation without Flotilla's safeguards would have made of it (`unguarded`): that is what
 * `flotilla drill --unsafe` applies to the simulated fleet to show the outage.
 *
 * Scenarios find what to break in the repository itself (the stack holding the DNS zones, an
 * account nobody's cluster runs in, the clusters' ingress names), so they work on any fleet shaped
 * like the example's; one that finds nothing to break says so and is skipped.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isSeq, parseDocument } from 'yaml'
import type { DesiredState } from '../core/model/desired-state.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import type { ScenarioName } from './scenario-names.ts'

export { SCENARIO_NAMES, type ScenarioName } from './scenario-names.ts'

/** A dangerous change (see the module comment). */
export interface DrillScenario {
  readonly name: ScenarioName
  /** The mistake, in one line, as it happened somewhere. */
  readonly mistake: string
  /**
   * Makes the mistake in the working tree of `repo` (whose committed revision is `base`) and says
   * what it changed. @throws NotApplicable when the repository has nothing this scenario breaks
   */
  edit(repo: string, base: Fleet): string
  /**
   * What automation without safeguards would apply: the desired state of each target it would
   * change. `head` is the broken revision as Flotilla loads it, when it loads at all.
   */
  unguarded(base: Fleet, head: Fleet | undefined): ReadonlyMap<string, DesiredState>
}

/** A scenario that finds nothing to break in this repository. */
export class NotApplicable extends Error {
  override readonly name = 'NotApplicable'
}

/** Every scenario, in {@link SCENARIO_NAMES} order. */
export function drillScenarios(): readonly DrillScenario[] {
  return [
    misspeltMetadataKey,
    stackRename,
    selectionMatchesNothing,
    conditionFlipped,
    accountDropped,
    dnsBrokenAtRuntime,
    freezeDeleted,
    approvalRemoved,
  ]
}

const read = (repo: string, file: string) => readFileSync(join(repo, file), 'utf8')

/** Replaces the first match of `pattern` in `file`, or throws NotApplicable with `why`. */
function replaceIn(repo: string, file: string, pattern: RegExp, replacement: string, why: string): string {
  const before = read(repo, file)
  const match = pattern.exec(before)
  if (!match) throw new NotApplicable(why)
  const line = before.slice(0, match.index).split('\n').length
  writeFileSync(join(repo, file), before.replace(pattern, replacement))
  return `${file}:${line}`
}

/**
 * The stack file the DNS zones live in: the first whose rendered stacks declare a hosted zone,
 * else the first stack file. The 2022 incident destroyed zones; a drill aims at them too.
 */
function zoneStackFile(base: Fleet): { file: string; stackName: string } {
  const stacks = [...base.stacks].sort((a, b) => (a.file < b.file ? -1 : 1))
  const withZones = new Set(
    [...base.desired.values()].flatMap((desired) =>
      desired.stacks
        .filter((stack) => Object.values(resourcesOf(stack.template)).some((r) => r?.Type === ZONE_TYPE))
        .map((stack) => stack.source),
    ),
  )
  const stack = stacks.find((s) => withZones.has(s.file)) ?? stacks[0]
  if (!stack) throw new NotApplicable('the repository has no stack templates')
  return { file: stack.file, stackName: stack.stackName }
}

const ZONE_TYPE = 'AWS::Route53::HostedZone'

function resourcesOf(template: unknown): Record<string, { Type?: unknown } | undefined> {
  const resources = (template as { Resources?: unknown } | undefined)?.Resources
  return resources && typeof resources === 'object' ? (resources as Record<string, { Type?: unknown }>) : {}
}

/** The head's desired states, for scenarios whose broken revision loads. */
function headDesired(head: Fleet | undefined): ReadonlyMap<string, DesiredState> {
  return head?.desired ?? new Map()
}

/** The base's desired states with `drop` applied to each target's stacks. */
function withoutStacks(
  base: Fleet,
  drop: (stack: DesiredState['stacks'][number], target: Target) => boolean,
): Map<string, DesiredState> {
  const out = new Map<string, DesiredState>()
  for (const [id, desired] of base.desired) {
    const stacks = desired.stacks.filter((stack) => !drop(stack, desired.target))
    if (stacks.length !== desired.stacks.length) out.set(id, { ...desired, stacks })
  }
  return out
}

const misspeltMetadataKey: DrillScenario = {
  name: 'misspelt-metadata-key',
  mistake: 'a one-word typo in a stack template: "Metadpata" for "Metadata" (the November 2022 incident)',
  edit(repo, base) {
    const { file } = zoneStackFile(base)
    const at = replaceIn(repo, file, /^Metadata:/m, 'Metadpata:', `${file} has no top-level Metadata key`)
    return `${at}: Metadata misspelt as Metadpata`
  },
  unguarded(base, _head) {
    // A reader that ignores unknown keys finds no Metadata: no stack name, no targets. A lifecycle
    // job takes that as "this stack is in no account any more" and removes it everywhere.
    const { file } = zoneStackFile(base)
    return withoutStacks(base, (stack) => stack.source === file)
  },
}

const stackRename: DrillScenario = {
  name: 'stack-rename',
  mistake:
    'a stack renamed to a clearer name, without MovedFrom: every old stack deleted, every new one created',
  edit(repo, base) {
    const { file, stackName } = zoneStackFile(base)
    const at = replaceIn(
      repo,
      file,
      /^(\s+StackName:\s*)(\S+)/m,
      `$1${stackName}-v2`,
      `${file} has no StackName`,
    )
    return `${at}: StackName ${stackName} renamed to ${stackName}-v2`
  },
  unguarded: (_base, head) => headDesired(head),
}

const selectionMatchesNothing: DrillScenario = {
  name: 'selection-matches-nothing',
  mistake: 'a Select with a misspelt value ("prodution"): valid, and true for no account at all',
  edit(repo, base) {
    const { file } = zoneStackFile(base)
    const typo = "account.environment == 'prodution'"
    const text = read(repo, file)
    const at = /^\s+Select:/m.test(text)
      ? replaceIn(repo, file, /^(\s+Select:\s*)(.+)$/m, `$1${typo}`, `${file} has no Select`)
      : replaceIn(repo, file, /^(\s+)(StackName:.*)$/m, `$1$2\n$1Select: ${typo}`, `${file} has no StackName`)
    return `${at}: Select changed to ${typo}`
  },
  unguarded: (_base, head) => headDesired(head),
}

/** The condition the scenario adds: meant as "zones everywhere but test", written the wrong way round. */
const FLIPPED_CONDITION = 'ZonesOutsideTest'

const conditionFlipped: DrillScenario = {
  name: 'condition-flipped',
  mistake:
    'a CloudFormation Condition meant to keep the zones out of test accounts, written the wrong way round: one Conditions line, and false in every account that has a zone',
  edit(repo, base) {
    const { file } = zoneStackFile(base)
    let text = read(repo, file)
    const zone = /^(\s+)Type:\s*AWS::Route53::HostedZone\s*$/m
    if (!zone.test(text)) throw new NotApplicable(`${file} declares no AWS::Route53::HostedZone`)
    const condition = `  ${FLIPPED_CONDITION}: !Equals ["{{ account.environment }}", test]`
    text = /^Conditions:\s*$/m.test(text)
      ? text.replace(/^Conditions:\s*$/m, `Conditions:\n${condition}`)
      : text.replace(/^Resources:/m, `Conditions:\n${condition}\nResources:`)
    text = text.replace(
      new RegExp(zone.source, 'gm'),
      (line, indent: string) => `${line}\n${indent}Condition: ${FLIPPED_CONDITION}`,
    )
    writeFileSync(join(repo, file), text)
    const line = text.split('\n').findIndex((l) => l.startsWith(`  ${FLIPPED_CONDITION}:`)) + 1
    return `${file}:${line}: Condition ${FLIPPED_CONDITION} (environment == test) added to every hosted zone`
  },
  // Automation that applies templates as they are lets CloudFormation evaluate the condition:
  // false wherever a zone exists, and so every zone is deleted.
  unguarded: (_base, head) => headDesired(head),
}

/**
 * The account the scenario drops: an active one with stacks, production first, preferably one no
 * cluster runs in; otherwise its clusters go with it (a bad merge that dropped a team's block).
 */
function accountToDrop(base: Fleet): { account: Target; clusters: readonly Target[] } {
  const clustersOf = (account: Target) =>
    base.targets.filter((t) => t.kind === 'cluster' && t.account === account.id)
  const rank = (t: Target) =>
    clustersOf(t).length * 10 + (t.environment === 'production' ? 0 : t.environment === 'staging' ? 1 : 2)
  const candidates = base.targets.filter(
    (t) =>
      t.kind === 'account' &&
      t.group !== 'ops' &&
      t.lifecycle === 'active' &&
      (base.desired.get(t.id)?.stacks.length ?? 0) > 0,
  )
  const account = candidates.sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? -1 : 1))[0]
  if (!account) throw new NotApplicable('the inventory has no active account with stacks')
  return { account, clusters: clustersOf(account) }
}

/** Deletes the sequence items of these targets from the inventory files they are written in. */
function deleteEntries(repo: string, targets: readonly Target[]): void {
  for (const file of new Set(targets.map((t) => t.at.file))) {
    const entries = targets.filter((t) => t.at.file === file)
    let text = read(repo, file)
    const document = parseDocument(text)
    const items = isSeq(document.contents) ? document.contents.items : []
    const ranges = entries.map((target) => {
      const item = items.find(
        (node) => String((node as { get?: (k: string) => unknown }).get?.('id')) === target.id,
      )
      const range = (item as { range?: [number, number, number] } | undefined)?.range
      if (!range) throw new NotApplicable(`${file} does not list ${target.id} as a sequence item`)
      return range
    })
    // From the end backwards, each from the start of its line ("- id: …") to its end.
    for (const range of ranges.sort((a, b) => b[0] - a[0])) {
      const start = text.lastIndexOf('\n', range[0]) + 1
      text = text.slice(0, start) + text.slice(range[2])
    }
    writeFileSync(join(repo, file), text)
  }
}

const accountDropped: DrillScenario = {
  name: 'account-dropped',
  mistake: 'an account deleted from the inventory, by a bad merge, instead of being decommissioned',
  edit(repo, base) {
    const { account, clusters } = accountToDrop(base)
    deleteEntries(repo, [account, ...clusters])
    const also =
      clusters.length > 0
        ? ` with its ${clusters.length === 1 ? 'cluster' : `${clusters.length} clusters`}`
        : ''
    return `${account.at.file}:${account.at.line}: account ${account.id} (${account.name})${also} deleted from the inventory`
  },
  unguarded(base, _head) {
    // A lifecycle job that takes "not listed" for "decommissioned" removes everything it had.
    const { account, clusters } = accountToDrop(base)
    const gone = new Set([account.id, ...clusters.map((c) => c.id)])
    const out = new Map<string, DesiredState>()
    for (const id of gone) {
      const desired = base.desired.get(id)
      if (desired) out.set(id, { ...desired, stacks: [], manifests: [] })
    }
    return out
  },
}

/** `kube-1.shop.example.org` → `kube-1.shop.exmaple.org`: two letters of the domain swapped. */
export function misspellDomain(domain: string): string {
  const labels = domain.split('.')
  const index = Math.max(0, labels.length - 2)
  const label = labels[index] ?? ''
  const swapped =
    label.length >= 3 && label[1] !== label[2]
      ? label[0]! + label[2] + label[1] + label.slice(3)
      : `${label}${label.at(-1) ?? 'x'}`
  labels[index] = swapped
  return labels.join('.')
}

const dnsBrokenAtRuntime: DrillScenario = {
  name: 'dns-broken-at-runtime',
  mistake:
    "every cluster's ingress name moved out of its account's zone by a typo in the domain: valid, allowed, and nothing resolves",
  edit(repo, base) {
    const clusters = base.targets.filter(
      (t) =>
        t.kind === 'cluster' && typeof t.config.ingress_domain === 'string' && t.config.ingress_domain !== '',
    )
    let changed = 0
    const files = new Map<string, string>()
    for (const cluster of clusters) {
      const file = cluster.at.file
      const text = files.get(file) ?? read(repo, file)
      const domain = String(cluster.config.ingress_domain)
      const next = text.replace(`ingress_domain: ${domain}`, `ingress_domain: ${misspellDomain(domain)}`)
      if (next !== text) changed++
      files.set(file, next)
    }
    if (changed === 0) throw new NotApplicable('no cluster sets config.ingress_domain in the inventory')
    for (const [file, text] of files) writeFileSync(join(repo, file), text)
    return `ingress_domain of ${changed} clusters misspelt (e.g. ${misspellDomain(String(clusters[0]!.config.ingress_domain))})`
  },
  unguarded: (_base, head) => headDesired(head),
}

/**
 * An ordinary production change — one more replica of a production default — that the guard
 * scenarios ride on: harmless in itself, so that only the guard it switches off can stop it.
 */
function productionChange(repo: string): string {
  const file = 'cluster/config-defaults.yaml'
  let text: string
  try {
    text = read(repo, file)
  } catch {
    throw new NotApplicable(`the repository has no ${file}`)
  }
  const block = /^( +)production:\s*\n((?:\1 +.*\n)+)/m.exec(text)
  const value = block?.[2] && /^( +)(\w+):\s*(\d+)\s*$/m.exec(block[2])
  if (!block || !value) throw new NotApplicable(`${file} sets no number under environments.production`)
  const [line, indent, key, number] = value
  const edited = block[0].replace(line, `${indent}${key}: ${Number(number) + 1}`)
  writeFileSync(join(repo, file), text.replace(block[0], edited))
  return `${file}: ${key} of production raised to ${Number(number) + 1}`
}

/**
 * The policy files that hold production changes at some times (a freeze, a weekend rule): a
 * per-change rule that reads both the target's environment and \`now\`.
 */
function freezeFiles(base: Fleet): string[] {
  const files = base.policies
    .filter((p) => p.scope === 'change' && /\bnow\b/.test(p.when ?? '') && /production/.test(p.when ?? ''))
    .map((p) => p.at.file)
  return [...new Set(files)].sort()
}

const freezeDeleted: DrillScenario = {
  name: 'freeze-deleted',
  mistake:
    'a production change that deletes, in the same commit, the freeze policy that would hold it: a change switching off its own guard',
  edit(repo, base) {
    const files = freezeFiles(base)
    if (files.length === 0) throw new NotApplicable('no policy holds production changes by the time (now)')
    for (const file of files) rmSync(join(repo, file))
    return `${productionChange(repo)}; ${files.join(', ')} deleted`
  },
  unguarded: (_base, head) => headDesired(head),
}

const approvalRemoved: DrillScenario = {
  name: 'approval-removed',
  mistake:
    "a production change that removes, in the same commit, the production stage's approval: a change switching off its own guard",
  edit(repo, base) {
    const file = base.rollout.stages[0]?.at.file ?? 'rollout.yaml'
    const gated = base.rollout.stages.filter((s) => s.approval === 'required')
    if (gated.length === 0) throw new NotApplicable(`no stage of ${file} requires an approval`)
    const text = read(repo, file)
    const edited = text.replace(/^\s+approval:\s*required\s*(#.*)?\n/gm, '')
    if (edited === text)
      throw new NotApplicable(`${file} writes no "approval: required" on a line of its own`)
    writeFileSync(join(repo, file), edited)
    return `${productionChange(repo)}; approval: required removed from stage ${gated.map((s) => s.name).join(', ')} (${file})`
  },
  unguarded: (_base, head) => headDesired(head),
}
