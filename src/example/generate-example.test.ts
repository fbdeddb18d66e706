import { describe, expect, test } from 'vitest'
import { parse } from 'yaml'
import { formatDiagnostic } from '../core/diagnostics.ts'
import { InputError } from '../core/errors.ts'
import { loadFleet } from '../core/load/load-fleet.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import { memorySource } from '../core/model/source.ts'
import { BUILTIN_PROTECTED_TYPES } from '../core/plan/protected.ts'
import { findCoverageGaps } from '../core/validate/stage-coverage.ts'
import { type ExampleOptions, generateExampleFleet } from './generate-example.ts'

/** Generates and loads an example, failing with every diagnostic printed when it is not clean. */
function loadExample(options: ExampleOptions = {}): { files: Map<string, string>; fleet: Fleet } {
  const files = generateExampleFleet(options)
  const result = loadFleet(memorySource(files))
  expect(result.ok ? [] : result.errors.map(formatDiagnostic)).toEqual([])
  expect(result.warnings.map(formatDiagnostic)).toEqual([])
  if (!result.ok) throw new Error('unreachable')
  return { files, fleet: result.fleet }
}

// The default example is large; it is generated and loaded once and only read by the tests below.
const example = loadExample()
const { fleet } = example

function paths(prefix: string): string[] {
  return [...example.files.keys()].filter((p) => p.startsWith(prefix))
}

function desiredOf(targetId: string) {
  const desired = fleet.desired.get(targetId)
  if (!desired) throw new Error(`no desired state for ${targetId}`)
  return desired
}

describe('generateExampleFleet: the default example', () => {
  test('has 300 accounts, 250 clusters and about one team per five accounts', () => {
    expect(fleet.accounts.size).toBe(300)
    expect(fleet.clusters.size).toBe(250)
    expect(fleet.teams.size).toBe(60)
    expect(fleet.teams.get('sre')?.members.length).toBeGreaterThanOrEqual(4)
  })

  test('splits the accounts into files per environment plus ops, and keeps clusters in one file', () => {
    expect(paths('inventory/')).toEqual([
      'inventory/accounts/ops.yaml',
      'inventory/accounts/production.yaml',
      'inventory/accounts/staging.yaml',
      'inventory/accounts/test.yaml',
      'inventory/clusters.yaml',
      'inventory/teams.yaml',
    ])
    const opsFile = parse(example.files.get('inventory/accounts/ops.yaml')!) as { group: string }[]
    expect(opsFile.map((a) => a.group)).toEqual(['ops', 'ops', 'ops', 'ops'])
  })

  test('uses every environment, criticality, channel and the lifecycles a lifecycle job must handle', () => {
    const accounts = [...fleet.accounts.values()]
    const values = (key: 'environment' | 'criticality' | 'channel' | 'lifecycle') =>
      [...new Set(accounts.map((a) => a[key]))].sort()
    expect(values('environment')).toEqual(['production', 'staging', 'test'])
    expect(values('criticality')).toEqual(['tier-1', 'tier-2', 'tier-3'])
    expect(values('channel')).toEqual(['alpha', 'beta', 'dev', 'stable'])
    expect(values('lifecycle')).toEqual(['active', 'decommission-requested', 'decommissioned', 'requested'])
    const clusterLifecycles = new Set([...fleet.clusters.values()].map((c) => c.lifecycle))
    expect(clusterLifecycles).toEqual(new Set(['ready', 'creating', 'requested', 'decommission-requested']))
  })

  test('has few dev and mostly stable targets', () => {
    const count = (channel: string) =>
      [...fleet.accounts.values()].filter((a) => a.channel === channel).length
    expect(count('dev')).toBeGreaterThan(0)
    expect(count('dev')).toBeLessThan(count('alpha'))
    expect(count('stable')).toBeGreaterThan(count('beta'))
    expect(count('stable')).toBeGreaterThan(300 * 0.35)
  })

  test('has an ops group of production accounts owned by the SRE team, with clusters', () => {
    const ops = [...fleet.accounts.values()].filter((a) => a.group === 'ops')
    expect(ops.map((a) => a.name)).toEqual(['ops-monitoring', 'ops-logging', 'ops-tooling', 'ops-dns'])
    expect(new Set(ops.map((a) => `${a.team} ${a.environment} ${a.criticality}`))).toEqual(
      new Set(['sre production tier-1']),
    )
    const opsClusters = [...fleet.clusters.values()].filter((c) => c.group === 'ops')
    expect(opsClusters.map((c) => c.alias)).toEqual(['ops-monitoring-kube-1', 'ops-tooling-kube-1'])
  })

  test('gives accounts unique 12-digit ids, a DNS domain and non-overlapping VPC ranges', () => {
    const accounts = [...fleet.accounts.values()]
    expect(accounts.every((a) => /^\d{12}$/.test(a.id))).toBe(true)
    expect(new Set(accounts.map((a) => a.id)).size).toBe(accounts.length)
    expect(accounts.every((a) => a.config.dns_domain === `${a.name}.example.org`)).toBe(true)
    const ranges = accounts.flatMap((a) => [a.config.vpc_cidr, a.config.vpc_cidr_secondary].filter(Boolean))
    expect(ranges.length).toBe(accounts.reduce((sum, a) => sum + a.regions.length, 0))
    expect(new Set(ranges).size).toBe(ranges.length)
  })

  test('puts most accounts in eu-central-1 only and some in a second region', () => {
    const accounts = [...fleet.accounts.values()]
    expect(accounts.every((a) => a.regions[0] === 'eu-central-1')).toBe(true)
    const twoRegions = accounts.filter((a) => a.regions.length === 2).length
    expect(twoRegions).toBeGreaterThan(0)
    expect(twoRegions).toBeLessThan(accounts.length * 0.2)
  })

  test('leaves tag compliance realistic: most accounts carry every required tag, not all', () => {
    const accounts = [...fleet.accounts.values()]
    const compliant = accounts.filter((a) => fleet.settings.requiredTags.every((tag) => tag in a.tags))
    expect(compliant.length).toBeLessThan(accounts.length)
    expect(compliant.length).toBeGreaterThan(accounts.length * 0.8)
  })

  test('gives clusters ids of their account and region, node pools and config overrides', () => {
    const clusters = [...fleet.clusters.values()]
    for (const c of clusters) {
      const account = fleet.accounts.get(c.account)!
      expect(c.id).toBe(`aws:${c.account}:${c.region}:kube-1`)
      expect(account.regions).toContain(c.region)
      expect([c.environment, c.channel, c.criticality]).toEqual([
        account.environment,
        account.channel,
        account.criticality,
      ])
    }
    expect(new Set(clusters.map((c) => c.kubernetesVersion))).toEqual(new Set(['1.30', '1.31', '1.32']))
    const profiles = new Set(clusters.flatMap((c) => c.nodePools.map((p) => p.profile)))
    expect([...profiles].sort()).toEqual(['system', 'worker', 'worker-spot', 'worker-stateful'])
    expect(clusters.some((c) => c.config.autoscaling_enabled === false)).toBe(true)
    expect(clusters.some((c) => typeof c.config.ingress_replicas === 'number')).toBe(true)
  })

  test('has stacks of both scopes, selected and unselected', () => {
    const stacks = fleet.stacks.map((s) => `${s.stackName} ${s.scope} ${s.select?.expression.source ?? '-'}`)
    expect(stacks).toEqual([
      'iam-roles global -',
      'logging region -',
      "ops-monitoring region account.group == 'ops' || has(config.ops_staging)",
      "route53-hostedzones global account.environment != 'test'",
      'vpc region -',
    ])
  })

  test('rehearses the ops stacks in one staging account of the alpha stage, and gives every stage coverage', () => {
    const rehearsing = [...fleet.accounts.values()].filter((a) => a.config.ops_staging === true)
    expect(rehearsing.map((a) => [a.environment, a.channel, a.lifecycle, fleet.stageOf.get(a.id)])).toEqual([
      ['staging', 'alpha', 'active', 'alpha'],
    ])
    const stacks = desiredOf(rehearsing[0]!.id).stacks.map((s) => s.stackName)
    expect(stacks).toContain('ops-monitoring')
    expect(findCoverageGaps(fleet)).toEqual([])
  })

  test('deploys hosted zones to production and staging accounts, never to test accounts', () => {
    for (const account of fleet.accounts.values()) {
      if (account.lifecycle !== 'active') continue
      const zones = desiredOf(account.id).stacks.filter((s) => s.stackName === 'route53-hostedzones')
      expect(zones.length, account.name).toBe(account.environment === 'test' ? 0 : 1)
    }
  })

  test('renders one VPC per account region, with its own range and a typed whole-value expression', () => {
    const account = [...fleet.accounts.values()].find(
      (a) => a.regions.length === 2 && a.lifecycle === 'active',
    )!
    const vpcs = desiredOf(account.id).stacks.filter((s) => s.stackName === 'vpc')
    expect(vpcs.map((s) => s.region)).toEqual(account.regions)
    expect(vpcs.map((s) => s.parameters.VpcCidr)).toEqual([
      account.config.vpc_cidr,
      account.config.vpc_cidr_secondary,
    ])
    const flowLog = (
      vpcs[0]!.template as { Resources: Record<string, { Properties: Record<string, unknown> }> }
    ).Resources.FlowLog!
    expect(flowLog.Properties.MaxAggregationInterval).toBe(account.environment === 'production' ? 60 : 600)
  })

  test('passes CloudFormation dynamic references through untouched', () => {
    const monitoring = [...fleet.accounts.values()].find((a) => a.name === 'ops-monitoring')!
    const stack = desiredOf(monitoring.id).stacks.find((s) => s.stackName === 'ops-monitoring')!
    expect(JSON.stringify(stack.template)).toContain('"{{resolve:ssm:/platform/alerting/paging-endpoint}}"')
  })

  test('protects in fleet.yaml what is not built in and what its stacks use: the NAT addresses', () => {
    expect(fleet.settings.protect).toEqual(['AWS::EC2::EIP'])
    const used = new Set(
      [...fleet.desired.values()].flatMap((d) =>
        d.stacks.flatMap((s) =>
          Object.values((s.template as { Resources: Record<string, { Type: string }> }).Resources).map(
            (r) => r.Type,
          ),
        ),
      ),
    )
    for (const type of fleet.settings.protect) {
      expect(BUILTIN_PROTECTED_TYPES, `${type} is built in already`).not.toContain(type)
      expect(used, `no stack of the example uses ${type}`).toContain(type)
    }
  })

  test('has about ten components, one with interpolate: false and several selected', () => {
    expect(fleet.components.length).toBeGreaterThanOrEqual(10)
    expect(fleet.components.filter((c) => !c.interpolate).map((c) => c.name)).toEqual(['prometheus-rules'])
    expect(fleet.components.filter((c) => c.select).map((c) => c.name)).toEqual([
      'cluster-autoscaler',
      'external-dns',
    ])
    expect(
      fleet.components.some((c) => new Set(c.documents.map((d) => d.file)).size < c.documents.length),
    ).toBe(true)
  })

  test('renders manifests with cluster, account, config and region, keeping Prometheus templates', () => {
    const cluster = [...fleet.clusters.values()].find(
      (c) => c.environment === 'production' && c.lifecycle === 'ready' && c.group !== 'ops',
    )!
    const account = fleet.accounts.get(cluster.account)!
    const objects = new Map(
      desiredOf(cluster.id).manifests.map((m) => [m.address.split('/').slice(1).join('/'), m.object]),
    )
    const field = (address: string, ...path: (string | number)[]): unknown =>
      path.reduce<unknown>(
        (value, key) => (value as Record<string | number, unknown>)[key],
        objects.get(address),
      )

    expect(field('ingress-nginx/Deployment/ingress-nginx-controller', 'spec', 'replicas')).toBe(
      cluster.config.ingress_replicas ?? 3,
    )
    expect(field('kube-system/ConfigMap/coredns', 'data', 'Corefile')).toContain(
      `${account.config.dns_domain}:53 {`,
    )
    expect(
      field('kube-system/Deployment/external-dns', 'spec', 'template', 'spec', 'containers', 0, 'args'),
    ).toContain(`--domain-filter=${account.config.dns_domain}`)
    const nodeAlerts = String(field('monitoring/ConfigMap/node-alerts', 'data', 'node-alerts.yaml'))
    expect(nodeAlerts).toContain(
      `Node {{ $labels.instance }} in ${cluster.alias} has less than 10% disk left`,
    )
    expect(nodeAlerts).toContain(`(${cluster.region}) is not ready`)
    const rules = String(field('monitoring/ConfigMap/platform-alert-rules', 'data', 'platform-alerts.yaml'))
    expect(rules).toContain('{{ $labels.namespace }}/{{ $labels.pod }}')
    expect(objects.has(`_/Namespace/${cluster.team}`)).toBe(true)
  })

  test('selects external-dns and cluster-autoscaler by environment and config', () => {
    const components = (id: string) => new Set(desiredOf(id).manifests.map((m) => m.component))
    for (const cluster of fleet.clusters.values()) {
      if (cluster.lifecycle !== 'ready') continue
      const rendered = components(cluster.id)
      expect(rendered.has('external-dns'), cluster.alias).toBe(cluster.environment !== 'test')
      expect(rendered.has('cluster-autoscaler'), cluster.alias).toBe(
        cluster.config.autoscaling_enabled !== false,
      )
    }
  })

  test('has change and plan policies, including a freeze window on now', () => {
    const rules = fleet.policies.map((p) => `${p.scope} ${p.effect} ${p.name}`)
    expect(rules).toContain('change require-approval cyber-week-freeze')
    expect(rules).toContain('change require-approval tier-1-destructive-changes')
    expect(rules).toContain('plan warn many-targets-at-once')
    expect(fleet.policies.find((p) => p.name === 'cyber-week-freeze')?.when).toContain('now >= timestamp(')
    expect(new Set(fleet.policies.map((p) => p.effect))).toEqual(
      new Set(['deny', 'require-approval', 'warn']),
    )
  })

  test('rolls out dev → alpha → ops → beta → stable, with waves, an approval and every gate type', () => {
    const { stages, gates } = fleet.rollout
    expect(stages.map((s) => s.name)).toEqual(['dev', 'alpha', 'ops', 'beta', 'stable'])
    const stable = stages.at(-1)!
    expect(stable.waves).toEqual([1, '10%', '50%', '100%'])
    expect(stable.approval).toBe('required')
    expect(
      Object.values(gates)
        .map((g) => g.type)
        .sort(),
    ).toEqual(['command', 'dns', 'health', 'prometheus'])
    const used = new Set(stages.flatMap((s) => s.gates ?? []))
    expect([...used].sort()).toEqual(Object.keys(gates).sort())
  })

  test('stages every target that is not decommissioned, and keeps the ops group in its own stage', () => {
    for (const target of fleet.targets) {
      const stage = fleet.stageOf.get(target.id)
      if (target.lifecycle === 'decommissioned') expect(stage).toBeUndefined()
      else expect(stage === 'ops', target.id).toBe(target.group === 'ops')
    }
    const stageSizes = new Map<string, number>()
    for (const stage of fleet.stageOf.values()) stageSizes.set(stage, (stageSizes.get(stage) ?? 0) + 1)
    expect([...stageSizes.keys()].sort()).toEqual(['alpha', 'beta', 'dev', 'ops', 'stable'])
  })

  test('has a README and the e2e script next to the files Flotilla reads', () => {
    expect(example.files.get('README.md')).toContain('--accounts 300 --clusters 250 --seed 1')
    expect(example.files.get('e2e/run.sh')).toMatch(/^#!\/bin\/sh\n/)
    expect(fleet.rollout.gates.e2e).toMatchObject({ type: 'command', run: 'sh e2e/run.sh {{ target.id }}' })
  })
})

describe('generateExampleFleet: sizes and seeds', () => {
  test.each([
    { accounts: 20, clusters: 15 },
    { accounts: 10, clusters: 0 },
    { accounts: 10, clusters: 30 },
    { accounts: 57, clusters: 80, seed: 'demo' },
    { accounts: 120, clusters: 100, seed: 42 },
  ])('$accounts accounts and $clusters clusters load cleanly', (options) => {
    const { fleet: small } = loadExample(options)
    expect(small.accounts.size).toBe(options.accounts)
    expect(small.clusters.size).toBe(options.clusters)
  })

  // Production must never be the first test of anything the example rolls out, however small:
  // the smallest sizes draw too few accounts for every channel and environment by chance.
  test.each([
    { accounts: 10, clusters: 0 },
    { accounts: 10, clusters: 1 },
    { accounts: 10, clusters: 2 },
    { accounts: 10, clusters: 5 },
    { accounts: 11, clusters: 3, seed: 2 },
    { accounts: 13, clusters: 7 },
    { accounts: 16, clusters: 8 },
    { accounts: 23, clusters: 4, seed: 'x' },
    { accounts: 40, clusters: 30 },
    { accounts: 77, clusters: 50, seed: 3 },
  ])(
    '$accounts accounts and $clusters clusters (seed $seed) leave production the first test of nothing',
    (options) => {
      const { fleet: small } = loadExample(options)
      expect(findCoverageGaps(small)).toEqual([])
      if (options.clusters === 0) return
      // A staging cluster of alpha (its account has a public zone) publishes DNS before the ops stage.
      const alphaStaging = [...small.clusters.values()].filter(
        (c) =>
          small.stageOf.get(c.id) === 'alpha' &&
          c.environment === 'staging' &&
          small.desired.get(c.id)!.manifests.length > 0,
      )
      expect(alphaStaging.length).toBeGreaterThan(0)
    },
  )

  test('is deterministic: the same options give byte-identical files, in path order', () => {
    const first = generateExampleFleet({ accounts: 40, clusters: 30, seed: 7 })
    const second = generateExampleFleet({ accounts: 40, clusters: 30, seed: '7' })
    expect([...second]).toEqual([...first])
    expect([...first.keys()]).toEqual([...first.keys()].sort())
  })

  test('a different seed gives a different fleet', () => {
    const first = generateExampleFleet({ accounts: 40, clusters: 30, seed: 1 })
    const second = generateExampleFleet({ accounts: 40, clusters: 30, seed: 2 })
    expect(second.get('inventory/accounts/production.yaml')).not.toBe(
      first.get('inventory/accounts/production.yaml'),
    )
    expect(second.get('inventory/teams.yaml')).not.toBe(first.get('inventory/teams.yaml'))
  })

  test('changing the number of clusters leaves teams and accounts as they were', () => {
    const few = generateExampleFleet({ accounts: 40, clusters: 5 })
    const many = generateExampleFleet({ accounts: 40, clusters: 60 })
    for (const path of [...few.keys()].filter(
      (p) => p.startsWith('inventory/accounts/') || p.endsWith('teams.yaml'),
    )) {
      expect(many.get(path), path).toBe(few.get(path))
    }
    expect(many.get('inventory/clusters.yaml')).not.toBe(few.get('inventory/clusters.yaml'))
  })

  test.each([
    [{ accounts: 9 }, '--accounts must be a whole number from 10 to 5000, not 9'],
    [{ accounts: 12.5 }, '--accounts must be a whole number from 10 to 5000, not 12.5'],
    [{ clusters: -1 }, '--clusters must be a whole number from 0 to 5000, not -1'],
    [{ clusters: Number.NaN }, '--clusters must be a whole number from 0 to 5000, not NaN'],
  ])('rejects %o', (options, message) => {
    expect(() => generateExampleFleet(options)).toThrow(new InputError(message))
  })
})
