import { evaluateStack } from '../cloudformation/evaluate-stack.ts'
import type { DiagnosticSink, Location } from '../diagnostics.ts'
import type { ClusterNodes, DesiredState, RenderedManifest, RenderedStack } from '../model/desired-state.ts'
import type { FleetSettings } from '../model/fleet.ts'
import type { Component, LoadedAccount, LoadedCluster, StackTemplate, Target } from '../model/fleet-model.ts'
import { rotationLimits } from '../model/node-rotation.ts'
import {
  accountVariable,
  clusterVariable,
  configVariable,
  fleetVariable,
  targetVariable,
} from './contexts.ts'
import { RenderError, renderNode } from './evaluate.ts'
import { isClusterScoped } from './kubernetes-kinds.ts'
import { RenderProblems } from './problems.ts'

/**
 * What rendering keeps between loads of revisions of one repository (`load/load-cache.ts`'s
 * `LoadCache` is one): results by template and a key of their inputs, and stable ids of objects.
 * Declared here, by its user, so that rendering does not depend on loading.
 */
export interface RenderCache {
  /** The result of rendering `template` from inputs summarised by `key`, if rendered before. */
  getRender(template: object, key: string): unknown
  /** Remembers a successful render. */
  setRender(template: object, key: string, value: unknown): void
  /** A number that stays the same for the same object across loads. */
  idOf(object: object): number
}

/** What rendering needs: the valid parts of a loaded repository. */
export interface RenderInput {
  readonly settings: FleetSettings
  readonly accounts: ReadonlyMap<string, LoadedAccount>
  readonly clusters: ReadonlyMap<string, LoadedCluster>
  readonly targets: readonly Target[]
  readonly stacks: readonly StackTemplate[]
  readonly components: readonly Component[]
}

/** Lifecycle states in which a target receives its desired state. */
const RECEIVING = new Set(['active', 'ready'])

/**
 * Renders every target's desired state — or, with `include`, only the targets it selects (the
 * others are left out of the map, not rendered at all). A failing expression is reported once per
 * position with the number of targets it failed for, rather than once per target: the same typo
 * in 300 accounts is one problem.
 */
export function renderFleet(
  input: RenderInput,
  sink: DiagnosticSink,
  cache?: RenderCache,
  include?: (target: Target) => boolean,
): Map<string, DesiredState> {
  const problems = new RenderProblems()
  const fleet = fleetVariable(input.settings)
  const fleetKey = inputsKey(input.settings)
  const componentsKey = cache ? componentSetKey(input.components, cache) : ''
  const out = new Map<string, DesiredState>()
  for (const target of input.targets) {
    if (include && !include(target)) continue
    if (!RECEIVING.has(target.lifecycle)) {
      out.set(target.id, { target, stacks: [], manifests: [] })
    } else if (target.kind === 'account') {
      const account = input.accounts.get(target.id)!
      const key = cache ? `${fleetKey}\0${inputsKey(account)}\0${inputsKey(target)}` : ''
      const context = lazy(() => ({
        account: accountVariable(account),
        target: targetVariable(target),
        config: configVariable(target),
        fleet,
      }))
      const stacks = input.stacks.flatMap((stack) =>
        cached(cache, stack, key, problems, () => renderStack(stack, account, target, context(), problems)),
      )
      out.set(target.id, { target, stacks, manifests: [] })
    } else {
      const cluster = input.clusters.get(target.id)!
      const account = input.accounts.get(cluster.account)!
      const key = cache
        ? `${componentsKey}\0${fleetKey}\0${inputsKey(cluster)}\0${inputsKey(account)}\0${inputsKey(target)}`
        : ''
      const manifests = cached(cache, cache ?? {}, key, problems, () =>
        renderManifests(input.components, cluster, account, target, fleet, problems),
      )
      out.set(target.id, {
        target,
        stacks: [],
        manifests,
        nodes: clusterNodes(input.settings, cluster, target),
      })
    }
  }
  problems.report(sink)
  return out
}

/** A cluster's version and node pools as its inventory entry declares them, with its rotation limits. */
function clusterNodes(settings: FleetSettings, cluster: LoadedCluster, target: Target): ClusterNodes {
  return {
    kubernetesVersion: cluster.kubernetesVersion,
    pools: cluster.nodePools.map(({ name, profile, instanceTypes, min, max }) => ({
      name,
      profile,
      instanceTypes,
      min,
      max,
    })),
    rotation: rotationLimits(settings.nodeRotation, target.environment),
  }
}

/**
 * A render result from the cache, or rendered now and remembered when it raised no problem. The
 * same object comes back for the same inputs, so a plan's differ can skip it by identity.
 */
function cached<T>(
  cache: RenderCache | undefined,
  template: object,
  key: string,
  problems: RenderProblems,
  render: () => T,
): T {
  if (!cache) return render()
  const hit = cache.getRender(template, key) as T | undefined
  if (hit !== undefined) return hit
  const before = problems.count
  const value = render()
  if (problems.count === before) cache.setRender(template, key, value)
  return value
}

const inputsKeys = new WeakMap<object, string>()

/**
 * Everything about an object that rendering can read, as a string: its location (`at`, of the
 * object itself; a config item may be called `at` too) is left out. Computed once per object: an
 * account is part of the key of each of its clusters.
 */
function inputsKey(value: object): string {
  let key = inputsKeys.get(value)
  if (key === undefined) {
    const { at: _at, ...rest } = value as { at?: unknown }
    key = JSON.stringify(rest)
    inputsKeys.set(value, key)
  }
  return key
}

/** The identity of the set of components (their compiled documents and selectors), stable across loads. */
function componentSetKey(components: readonly Component[], cache: RenderCache): string {
  return components
    .map(
      (c) =>
        `${c.name}|${c.interpolate}|${c.select?.expression.source ?? ''}|${c.documents.map((d) => cache.idOf(d.body)).join(',')}`,
    )
    .join(';')
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined
  return () => {
    value ??= make()
    return value
  }
}

/** One stack for one account: nothing when its Select excludes the account, else one per region. */
function renderStack(
  stack: StackTemplate,
  account: LoadedAccount,
  target: Target,
  context: Record<string, unknown>,
  problems: RenderProblems,
): RenderedStack[] {
  if (!problems.selects(stack.select, context, target.id)) return []
  const rendered: RenderedStack[] = []
  const regions = stack.scope === 'region' ? account.regions : account.regions.slice(0, 1)
  for (const region of regions) {
    try {
      const regional = { ...context, region }
      const parameters = renderNode(stack.parameters, regional) as Record<string, unknown>
      const one: RenderedStack = {
        address: `${account.id}/${stack.scope === 'region' ? region : 'global'}/${stack.stackName}`,
        stackName: stack.stackName,
        region,
        scope: stack.scope,
        source: stack.file,
        ...(stack.movedFrom === undefined ? {} : { movedFrom: stack.movedFrom }),
        ...(stack.movedFromAt === undefined ? {} : { movedFromAt: stack.movedFromAt }),
        parameters: parameterStrings(parameters),
        template: renderNode(stack.body, regional),
      }
      // What CloudFormation would reject for this account and region (an undefined condition, a
      // mapping without the region's key) is found now, not half-way through a rollout.
      for (const problem of evaluateStack(one).problems) {
        const error = new RenderError(problem.message, stack.locate(problem.path))
        if (problem.severity === 'error') problems.add(error, target.id, 'cloudformation')
        else problems.warn(error, target.id, 'cloudformation')
      }
      rendered.push(one)
    } catch (error) {
      problems.add(error, target.id)
    }
  }
  return rendered
}

/** CloudFormation takes every parameter value as a string; lists become comma-separated. */
function parameterStrings(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(values)) {
    out[name] = Array.isArray(value) ? value.map(String).join(',') : String(value)
  }
  return out
}

function renderManifests(
  components: readonly Component[],
  cluster: LoadedCluster,
  account: LoadedAccount,
  target: Target,
  fleet: unknown,
  problems: RenderProblems,
): RenderedManifest[] {
  const context = {
    cluster: clusterVariable(cluster, target.config),
    account: accountVariable(account),
    target: targetVariable(target),
    config: configVariable(target),
    fleet,
    region: cluster.region,
  }
  const objects: { component: string; source: string; at: Location; object: Record<string, unknown> }[] = []
  for (const component of components) {
    if (!problems.selects(component.select, context, target.id)) continue
    for (const doc of component.documents) {
      let value: unknown
      try {
        value = renderNode(doc.body, context)
      } catch (error) {
        problems.add(error, target.id)
        continue
      }
      for (const object of expandLists(value)) {
        const problem = objectProblem(object)
        if (problem) problems.add(new RenderError(problem, doc.at), target.id)
        else
          objects.push({
            component: component.name,
            source: doc.file,
            at: doc.at,
            object: object as Record<string, unknown>,
          })
      }
    }
  }
  const clusterScopedCustomKinds = customClusterScopedKinds(objects.map((o) => o.object))
  const seen = new Map<string, string>()
  const rendered: RenderedManifest[] = []
  for (const { component, source, at, object } of objects) {
    const kind = object.kind as string
    const metadata = object.metadata as Record<string, unknown>
    const clusterScoped = isClusterScoped(kind) || clusterScopedCustomKinds.has(kind)
    const namespace = clusterScoped ? '_' : ((metadata.namespace as string | undefined) ?? 'default')
    const address = `${cluster.id}/${namespace}/${kind}/${metadata.name as string}`
    const first = seen.get(address)
    if (first) {
      problems.add(
        new RenderError(
          `${kind} "${metadata.name as string}" in namespace ${namespace} is rendered twice (also by ${first}); each object must come from one place`,
          at,
        ),
        target.id,
      )
      continue
    }
    seen.set(address, source)
    rendered.push({ address, component, source, at, object })
  }
  return rendered
}

/** `kind: List` (and `RoleList`, …) holds objects in `items`; kubectl applies each, and so does Flotilla. */
function expandLists(value: unknown): unknown[] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>
    if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items))
      return v.items.flatMap(expandLists)
  }
  return [value]
}

function objectProblem(object: unknown): string | undefined {
  if (object === null || typeof object !== 'object' || Array.isArray(object))
    return 'a manifest must render to a mapping (a Kubernetes object)'
  const o = object as Record<string, unknown>
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '')
    return 'a Kubernetes object needs apiVersion (a string)'
  if (typeof o.kind !== 'string' || o.kind === '') return 'a Kubernetes object needs kind (a string)'
  const metadata = o.metadata as Record<string, unknown> | undefined
  if (
    metadata === null ||
    typeof metadata !== 'object' ||
    typeof metadata.name !== 'string' ||
    metadata.name === ''
  ) {
    return `${o.kind} needs metadata.name (a string); generateName is not supported because the object would be created again on every apply`
  }
  if (metadata.namespace !== undefined && typeof metadata.namespace !== 'string')
    return `${o.kind} "${metadata.name}": metadata.namespace must be a string`
  return undefined
}

/** Kinds that a CustomResourceDefinition rendered into the same cluster declares cluster-scoped. */
function customClusterScopedKinds(objects: readonly Record<string, unknown>[]): Set<string> {
  const kinds = new Set<string>()
  for (const o of objects) {
    if (o.kind !== 'CustomResourceDefinition') continue
    const spec = o.spec as { scope?: unknown; names?: { kind?: unknown } } | undefined
    if (spec?.scope === 'Cluster' && typeof spec.names?.kind === 'string') kinds.add(spec.names.kind)
  }
  return kinds
}

/** Names the kind of a CEL result for messages: `a string`, `a number`, `a list`, … */
