import type {
  Change,
  ChangeAction,
  Finding,
  Plan,
  PlanSide,
  PlanSummary,
  PropertyChange,
  Replacement,
  TargetPlan,
  Verdict,
} from '../../src/core/model/plan.ts'
import { summarisePlan } from '../../src/core/plan/summary.ts'

/**
 * Builders of `Plan` objects for renderer tests: plans are plain data, so tests build exactly
 * the plan they need instead of running the planner over a fleet repository.
 */

/** One property change; `null` stands for "absent", as in the planner's output. */
export function prop(
  path: string,
  before: unknown,
  after: unknown,
  forcesReplacement: Replacement = false,
): PropertyChange {
  return { path, before, after, forcesReplacement }
}

/** A change; `protected` defaults to false and `properties` to none. */
export function change(
  action: ChangeAction,
  address: string,
  type: string,
  extra: {
    protected?: boolean
    movedFrom?: string
    mayReplace?: boolean
    properties?: PropertyChange[]
  } = {},
): Change {
  return {
    address,
    action,
    type,
    protected: extra.protected ?? false,
    ...(extra.movedFrom === undefined ? {} : { movedFrom: extra.movedFrom }),
    ...(extra.mayReplace === undefined ? {} : { mayReplace: extra.mayReplace }),
    properties: extra.properties ?? [],
  }
}

type TargetInfo = Partial<Omit<TargetPlan, 'id' | 'kind' | 'changes'>>

/** An account's plan; unset fields get plausible values derived from the id. */
export function accountPlan(id: string, changes: Change[], info: TargetInfo = {}): TargetPlan {
  return {
    id,
    kind: 'account',
    name: `account-${id.slice(-4)}`,
    team: 'teapot',
    environment: 'production',
    criticality: 'tier-2',
    group: 'workloads',
    stage: 'prod',
    ...info,
    changes,
  }
}

/** A cluster's plan; cluster ids contain colons but no slashes. */
export function clusterPlan(id: string, changes: Change[], info: TargetInfo = {}): TargetPlan {
  return { ...accountPlan(id, changes, info), kind: 'cluster', name: info.name ?? id.split(':').at(-1)! }
}

/** A 12-digit account id, distinct for each `n`. */
export function accountId(n: number): string {
  return String(100_000_000_000 + n)
}

/** A cluster id, distinct for each `n`. */
export function clusterId(n: number): string {
  return `eks:eu-central-1:k8s-${String(n).padStart(4, '0')}`
}

/** The blast radius of the given targets, counted the way the planner does (stack entries excluded). */
export function summaryOf(targets: readonly TargetPlan[], totalTargets: number): PlanSummary {
  return summarisePlan(targets, totalTargets)
}

/** A plan of the given targets; the verdict follows from the findings unless given. */
export function planOf(
  targets: TargetPlan[],
  extra: {
    findings?: Finding[]
    approvalsRequired?: string[]
    verdict?: Verdict
    totalTargets?: number
    base?: PlanSide
    head?: PlanSide
  } = {},
): Plan {
  const findings = extra.findings ?? []
  const verdict: Verdict =
    extra.verdict ??
    (findings.some((f) => f.effect === 'deny')
      ? 'denied'
      : findings.some((f) => f.effect === 'require-approval')
        ? 'requires-approval'
        : targets.length === 0
          ? 'no-changes'
          : 'allowed')
  return {
    version: 1,
    base: extra.base ?? {
      kind: 'revision',
      ref: 'HEAD~1',
      commit: '3f2a9c1d0b7e4f5a6c8d9e0f1a2b3c4d5e6f7a8b',
    },
    head: extra.head ?? { kind: 'revision', ref: 'HEAD', commit: '8b1d2e07c6a5f4e3d2c1b0a9f8e7d6c5b4a39281' },
    verdict,
    summary: summaryOf(targets, extra.totalTargets ?? targets.length),
    findings,
    approvalsRequired: extra.approvalsRequired ?? [],
    targets: [...targets].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  }
}

/**
 * The incident, at fleet scale: a stack rename in 300 accounts deletes each account's protected
 * HostedZone (the same change everywhere), plus a few account-specific updates.
 */
export function hostedZoneRenamePlan(accounts = 300): Plan {
  const environments = ['production', 'staging', 'test'] as const
  const targets = Array.from({ length: accounts }, (_, i) => {
    const id = accountId(i)
    const changes: Change[] = [
      change('delete', `${id}/eu-central-1/route53-hostedzones/HostedZone`, 'AWS::Route53::HostedZone', {
        protected: true,
        properties: [prop('Name', 'example.org.', null)],
      }),
    ]
    // A handful of accounts also get their own, different bucket update.
    if (i % 100 === 7) {
      changes.push(
        change('update', `${id}/eu-central-1/storage/Logs`, 'AWS::S3::Bucket', {
          properties: [prop(`Tags.retention-${i}`, `${i}d`, `${i + 30}d`)],
        }),
      )
    }
    return accountPlan(id, changes, {
      name: `acct-${i}`,
      environment: environments[i % 3]!,
      criticality: i % 25 === 0 ? 'tier-1' : 'tier-2',
      team: `team-${i % 12}`,
    })
  })
  const zones = targets.map((t) => `${t.id}/eu-central-1/route53-hostedzones/HostedZone`)
  return planOf(targets, {
    totalTargets: 550,
    findings: [
      {
        rule: 'protected-destroy',
        effect: 'require-approval',
        message: `${accounts} protected resources would be deleted.`,
        addresses: zones,
      },
      {
        rule: 'stack-rename',
        effect: 'deny',
        message:
          'stack route53-hostedzones disappears and dns-zones appears with the same resources; add MovedFrom: route53-hostedzones to dns-zones.',
        addresses: zones,
      },
      { rule: 'big-change', effect: 'warn', message: 'more than 100 targets change at once', addresses: [] },
    ],
    approvalsRequired: zones,
  })
}

/**
 * A change that touches every target of a large fleet, differently in each: every account's
 * trail gets its own property, every cluster its own deployment — so that nothing groups.
 */
export function fleetWidePlan(accounts = 3000, clusters = 2500): Plan {
  const targets: TargetPlan[] = []
  for (let i = 0; i < accounts; i++) {
    const id = accountId(i)
    targets.push(
      accountPlan(
        id,
        [
          change('update', `${id}/eu-central-1/baseline/Trail`, 'AWS::CloudTrail::Trail', {
            properties: [prop(`S3KeyPrefix${i}`, `trail/${i}`, `audit/${i}`)],
          }),
          change('update', `${id}/eu-central-1/baseline/Topic`, 'AWS::SNS::Topic', {
            properties: [prop('DisplayName', 'alerts', 'alerts-v2')],
          }),
        ],
        { environment: i % 2 ? 'production' : 'staging', team: `team-${i % 40}` },
      ),
    )
  }
  for (let i = 0; i < clusters; i++) {
    const id = clusterId(i)
    targets.push(
      clusterPlan(id, [
        change('update', `${id}/kube-system/Deployment/coredns-${i}`, 'apps/v1/Deployment', {
          properties: [
            prop('spec.template.spec.containers[0].image', `coredns:1.11.${i}`, `coredns:1.12.${i}`),
          ],
        }),
      ]),
    )
  }
  return planOf(targets, {
    findings: [{ rule: 'big-change', effect: 'warn', message: 'every target changes', addresses: [] }],
  })
}
