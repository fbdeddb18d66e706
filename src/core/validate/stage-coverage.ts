import type { DiagnosticSink, Location } from '../diagnostics.ts'
import type { DesiredState, RenderedManifest, RenderedStack } from '../model/desired-state.ts'
import type { StageCoverageLevel } from '../model/fleet.ts'
import type { LoadedRollout, Target } from '../model/fleet-model.ts'
import { OPS_GROUP } from './stages.ts'

/**
 * What stage coverage compares between stages: what a target receives, by kind.
 * - `stack`: a stack name an account renders;
 * - `component`: a cluster component a cluster renders;
 * - `resource type`: a CloudFormation type declared in an account's rendered templates
 *   (whatever its `Condition`), or the `kind` of an object in a cluster's rendered manifests;
 * - `DNS`: publishing DNS — `hosted zone` for an account whose rendered stacks declare an
 *   `AWS::Route53::HostedZone`, `cluster names` for a cluster whose rendered manifests ask
 *   external-dns for a name (an Ingress rule's `host`, or a `LoadBalancer` Service with the
 *   `external-dns.alpha.kubernetes.io/hostname` annotation) while its account declares a hosted
 *   zone to publish it in. That is what the simulated fleet publishes and its health checks resolve.
 */
export const COVERAGE_KINDS = ['stack', 'component', 'resource type', 'DNS'] as const
/** One of {@link COVERAGE_KINDS}. */
export type CoverageKind = (typeof COVERAGE_KINDS)[number]

/** One item reaching production before any non-production stage received it. */
export interface CoverageGap {
  readonly kind: CoverageKind
  readonly item: string
  /** The first stage with production targets in which a target receives the item. */
  readonly stage: string
  /** The targets of that stage that receive it, in fleet order. */
  readonly targets: readonly Target[]
}

/** What {@link findCoverageGaps} reads: the loaded rollout, stages and rendered desired state. */
export interface CoverageInput {
  readonly rollout: LoadedRollout
  /** Stage name per target id (decommissioned targets have none). */
  readonly stageOf: ReadonlyMap<string, string>
  /** Every target's rendered desired state, by target id; accounts and clusters alike. */
  readonly desired: ReadonlyMap<string, DesiredState>
}

const ZONE_TYPE = 'AWS::Route53::HostedZone'
const HOSTNAME_ANNOTATION = 'external-dns.alpha.kubernetes.io/hostname'

/**
 * A target of a production stage is first-tested somewhere before it, or production is the test.
 *
 * The rule: stages are taken in rollout.yaml order. A stage is a **production stage** when any
 * target assigned to it is in environment `production` or in group `ops` (monitoring and ops
 * tooling are production: they are what an outage is seen and fixed with). For every item (see
 * {@link COVERAGE_KINDS}) that a target of a production stage receives, take the first such
 * stage: some target of a **non-production stage ordered before it** must receive the same item.
 * If none does, that is a gap: the item's first test would be production. Later production
 * stages need nothing more, as every stage before the first one is before them too.
 *
 * Only rendered desired state counts, so targets that receive nothing (decommissioned, requested,
 * being created or taken down) neither need nor give coverage.
 *
 * @returns the gaps, in stage order, then by kind and item
 */
export function findCoverageGaps(input: CoverageInput): CoverageGap[] {
  const { rollout, stageOf, desired } = input
  const stageIndex = new Map(rollout.stages.map((s, i) => [s.name, i]))
  const productionStage = productionStages(input)
  const zoneAccounts = new Set<string>()
  for (const [id, state] of desired) if (state.stacks.some(declaresZone)) zoneAccounts.add(id)

  const seen = new ItemStages()
  for (const [id, state] of desired) {
    const stage = stageOf.get(id)
    const index = stage === undefined ? undefined : stageIndex.get(stage)
    if (index === undefined) continue
    const receive = (kind: CoverageKind, item: string) =>
      seen.receive(kind, item, state, index, productionStage[index]!)
    for (const stack of state.stacks) {
      receive('stack', stack.stackName)
      for (const type of declaredTypes(stack)) receive('resource type', type)
    }
    if (state.target.kind === 'account' && zoneAccounts.has(id)) receive('DNS', 'hosted zone')
    let asksForNames = false
    for (const manifest of state.manifests) {
      receive('component', manifest.component)
      const kind = manifest.object.kind
      if (typeof kind === 'string') receive('resource type', kind)
      asksForNames ||= asksExternalDns(manifest)
    }
    if (asksForNames && zoneAccounts.has(state.target.account)) receive('DNS', 'cluster names')
  }

  const gaps: CoverageGap[] = []
  for (const kind of COVERAGE_KINDS) {
    for (const [item, entry] of seen.of(kind)) {
      if (entry.production === NEVER || entry.nonProduction < entry.production) continue
      gaps.push({ kind, item, stage: rollout.stages[entry.production]!.name, targets: entry.targets })
    }
  }
  const order = (g: CoverageGap) =>
    stageIndex.get(g.stage)! * COVERAGE_KINDS.length + COVERAGE_KINDS.indexOf(g.kind)
  return gaps.sort((a, b) => order(a) - order(b) || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0))
}

/**
 * Reports {@link findCoverageGaps} at each stage's `select` in rollout.yaml: one diagnostic per
 * stage and kind of item (a handful of examples and a count, never one line per target), as a
 * warning or an error as `coverage.stages` in fleet.yaml says; `off` checks nothing.
 */
export function checkStageCoverage(
  input: CoverageInput,
  level: StageCoverageLevel,
  sink: DiagnosticSink,
): void {
  if (level === 'off') return
  const gaps = findCoverageGaps(input)
  const groups = new Map<string, CoverageGap[]>()
  for (const gap of gaps) {
    const key = `${gap.stage}\0${gap.kind}`
    const group = groups.get(key)
    if (group) group.push(gap)
    else groups.set(key, [gap])
  }
  const stages = input.rollout.stages
  const production = productionStages(input)
  for (const group of groups.values()) {
    const { stage, kind } = group[0]!
    const index = stages.findIndex((s) => s.name === stage)
    const earlier = stages
      .slice(0, index)
      .filter((_, i) => !production[i])
      .map((s) => s.name)
    const at: Location = stages[index]!.selector.at
    const message = gapMessage(kind, stage, group, earlier)
    if (level === 'error') sink.error(at, 'stage-coverage', message)
    else sink.warn(at, 'stage-coverage', message)
  }
}

/** How many items and example targets a message names before it says "…". */
const EXAMPLES = 3

function gapMessage(
  kind: CoverageKind,
  stage: string,
  gaps: readonly CoverageGap[],
  earlier: string[],
): string {
  const one = gaps.length === 1
  const names = gaps.slice(0, EXAMPLES).map((g) => itemText(kind, g.item))
  const list = `${names.join(', ')}${gaps.length > EXAMPLES ? ` and ${gaps.length - EXAMPLES} more` : ''}`
  const subject =
    kind === 'DNS'
      ? `publishing DNS (${list})`
      : `${one ? kind : kind === 'resource type' ? 'resource types' : `${kind}s`} ${list}`
  const example = gaps[0]!.targets[0]!
  const count = gaps[0]!.targets.length
  const first = `${subject} ${one || kind === 'DNS' ? 'reaches' : 'reach'} production first in stage "${stage}" (e.g. ${example.kind} "${example.id}" (${example.name})${count > 1 ? ` and ${count - 1} more` : ''})`
  const before =
    earlier.length === 0
      ? `no stage before "${stage}" is free of production targets, so production would be the first test: add a stage of test or staging targets before it`
      : `no target of an earlier non-production stage (${earlier.join(', ')}) ${kind === 'DNS' ? 'publishes DNS' : `receives ${one ? 'it' : 'them'}`}, so production would be the first test: ${advice(kind, one)}`
  return `${first}; ${before}`
}

function advice(kind: CoverageKind, one: boolean): string {
  const it = one ? 'it' : 'them'
  switch (kind) {
    case 'stack':
      return `let a target of one of those stages receive ${it} (widen the stack's Metadata.Select, or move a test or staging account into such a stage)`
    case 'component':
      return `let a cluster of one of those stages receive ${it} (widen the select of its component.yaml, or add a test or staging cluster to such a stage)`
    case 'resource type':
      return `give a target of one of those stages a stack or component that declares ${it}`
    case 'DNS':
      return 'give one of those stages a staging account with a hosted zone, and a cluster in it whose ingress names external-dns publishes, so that a change meets DNS before production'
  }
}

const DNS_ITEMS: Readonly<Record<string, string>> = {
  'hosted zone': "an account's hosted zone",
  'cluster names': "a cluster's names in its account's zone",
}

function itemText(kind: CoverageKind, item: string): string {
  return kind === 'DNS' ? (DNS_ITEMS[item] ?? item) : `"${item}"`
}

/** Monitoring and ops tooling count as production, whatever environment they are written with. */
function isProduction(target: Target): boolean {
  return target.environment === 'production' || target.group === OPS_GROUP
}

/** Per stage, in rollout.yaml order: whether any target assigned to it is production. */
function productionStages(input: CoverageInput): boolean[] {
  const index = new Map(input.rollout.stages.map((s, i) => [s.name, i]))
  const production = input.rollout.stages.map(() => false)
  for (const [id, stage] of input.stageOf) {
    const target = input.desired.get(id)?.target
    const at = index.get(stage)
    if (target && at !== undefined && isProduction(target)) production[at] = true
  }
  return production
}

const NEVER = Number.POSITIVE_INFINITY

/** Where one item is received: the first non-production stage, and the first production stage with its receivers. */
interface ItemEntry {
  nonProduction: number
  production: number
  targets: Target[]
  /** The desired state that last received it: a target receiving an item twice counts once. */
  last: DesiredState | undefined
}

/** Items by kind and name, with the stages receiving them; plain maps, no keys built per target. */
class ItemStages {
  readonly #byKind = new Map<CoverageKind, Map<string, ItemEntry>>(COVERAGE_KINDS.map((k) => [k, new Map()]))

  receive(kind: CoverageKind, item: string, state: DesiredState, stage: number, production: boolean): void {
    const items = this.#byKind.get(kind)!
    let entry = items.get(item)
    if (!entry) {
      entry = { nonProduction: NEVER, production: NEVER, targets: [], last: undefined }
      items.set(item, entry)
    }
    if (entry.last === state) return
    entry.last = state
    if (!production) entry.nonProduction = Math.min(entry.nonProduction, stage)
    else if (stage < entry.production) {
      entry.production = stage
      entry.targets = [state.target]
    } else if (stage === entry.production) entry.targets.push(state.target)
  }

  of(kind: CoverageKind): ReadonlyMap<string, ItemEntry> {
    return this.#byKind.get(kind)!
  }
}

const typesOfStack = new WeakMap<RenderedStack, readonly string[]>()

/** The resource types a rendered template declares; computed once per rendered stack (renders are shared between loads). */
function declaredTypes(stack: RenderedStack): readonly string[] {
  let types = typesOfStack.get(stack)
  if (!types) {
    const resources = (stack.template as { Resources?: unknown } | undefined)?.Resources
    const found = new Set<string>()
    if (resources && typeof resources === 'object') {
      for (const resource of Object.values(resources as Record<string, unknown>)) {
        const type = (resource as { Type?: unknown } | null)?.Type
        if (typeof type === 'string') found.add(type)
      }
    }
    types = [...found]
    typesOfStack.set(stack, types)
  }
  return types
}

function declaresZone(stack: RenderedStack): boolean {
  return declaredTypes(stack).includes(ZONE_TYPE)
}

/** Whether an object asks external-dns for a public name, as the simulated fleet's external-dns reads it. */
function asksExternalDns(manifest: RenderedManifest): boolean {
  const object = manifest.object as {
    kind?: unknown
    metadata?: { annotations?: Record<string, unknown> }
    spec?: { type?: unknown; rules?: unknown }
  }
  if (object.kind === 'Service') {
    const hostnames = object.metadata?.annotations?.[HOSTNAME_ANNOTATION]
    return object.spec?.type === 'LoadBalancer' && typeof hostnames === 'string' && hostnames.trim() !== ''
  }
  if (object.kind === 'Ingress' && Array.isArray(object.spec?.rules))
    return object.spec.rules.some((rule) => {
      const host = (rule as { host?: unknown } | null)?.host
      return typeof host === 'string' && host.trim() !== ''
    })
  return false
}
