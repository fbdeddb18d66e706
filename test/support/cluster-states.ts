import type { DesiredState, RenderedManifest } from '../../src/core/model/desired-state.ts'
import type { Target } from '../../src/core/model/fleet-model.ts'
import type { Plan } from '../../src/core/model/plan.ts'
import { type PlanOutcome, planFleet } from '../../src/core/plan/plan-fleet.ts'
import type { FleetState } from '../../src/core/policy/plan-context.ts'
import { isClusterScoped } from '../../src/core/render/kubernetes-kinds.ts'

/**
 * Builders of cluster fleet states for planner tests about Kubernetes objects: a plan side is
 * plain data, so a test writes down which component renders which object into which cluster,
 * in as many clusters as it needs, instead of rendering a repository.
 */

/** One object as a test writes it: `component: Kind/name` or `component: namespace/Kind/name`. */
export interface ObjectSpec {
  readonly component: string
  readonly kind: string
  readonly name: string
  readonly namespace?: string
  readonly apiVersion?: string
  /** Extra top-level fields (`spec`, …). */
  readonly fields?: Readonly<Record<string, unknown>>
  /** The document's line in its file (the file is the component's `<component>.yaml`). @default 1 */
  readonly line?: number
}

/** A cluster target with plausible fields; `lifecycle` and others can be overridden. */
export function clusterTarget(id: string, extra: Partial<Target> = {}): Target {
  return {
    id,
    kind: 'cluster',
    name: id.split(':').at(-1)!,
    team: 'teapot',
    environment: 'production',
    criticality: 'tier-2',
    channel: 'stable',
    group: 'workloads',
    lifecycle: 'active',
    provider: 'sim',
    account: '111111111111',
    regions: ['eu-central-1'],
    tags: {},
    config: {},
    at: { file: 'inventory/clusters.yaml', line: 1, col: 3 },
    ...extra,
  }
}

/** A rendered object of a cluster, addressed as the renderer does (cluster-scoped kinds under `_`). */
export function manifest(cluster: string, spec: ObjectSpec): RenderedManifest {
  const namespace = isClusterScoped(spec.kind) ? '_' : (spec.namespace ?? 'default')
  const file = `cluster/manifests/${spec.component}/${spec.component}.yaml`
  return {
    address: `${cluster}/${namespace}/${spec.kind}/${spec.name}`,
    component: spec.component,
    source: file,
    at: { file, line: spec.line ?? 1, col: 1 },
    object: {
      apiVersion: spec.apiVersion ?? 'v1',
      kind: spec.kind,
      metadata: {
        name: spec.name,
        ...(isClusterScoped(spec.kind) || spec.namespace === undefined ? {} : { namespace: spec.namespace }),
      },
      ...spec.fields,
    },
  }
}

/** A plan side of clusters: cluster id → its objects (a target without objects still exists). */
export function clusterState(
  clusters: Readonly<Record<string, readonly ObjectSpec[]>>,
  targets: Readonly<Record<string, Partial<Target>>> = {},
): FleetState {
  const desired = new Map<string, DesiredState>()
  for (const [id, specs] of Object.entries(clusters)) {
    const target = clusterTarget(id, targets[id])
    desired.set(id, { target, stacks: [], manifests: specs.map((s) => manifest(id, s)) })
  }
  return {
    side: { kind: 'observed' },
    targets: new Map([...desired].map(([id, d]) => [id, d.target])),
    desired,
    stageOf: new Map(),
    stages: [],
  }
}

/** Plans head against base with the built-in rules and the default limits (10 deletes, 10 %). */
export function planStates(
  base: FleetState,
  head: FleetState,
  limits = { maxDeletes: 10, maxShrinkPercent: 10 },
): PlanOutcome {
  return planFleet({ base, head, limits, protect: [], now: new Date('2026-11-10T10:00:00Z') })
}

/** The plan, or a failure listing the errors. */
export function validPlan(outcome: PlanOutcome): Plan {
  if (!outcome.ok)
    throw new Error(outcome.errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`).join('\n'))
  return outcome.plan
}

/** `n` cluster ids, `aws:111111111111:eu-central-1:kube-<i>`. */
export function clusterIds(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => `aws:111111111111:eu-central-1:kube-${String(i + 1).padStart(2, '0')}`,
  )
}
