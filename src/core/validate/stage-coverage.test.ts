import { describe, expect, test } from 'vitest'
import { BASE_FILES } from '../../../test/support/fixture-fleet.ts'
import { edit, errorsFor, loadValid, type Overrides } from '../../../test/support/load-fleet-helpers.ts'
import type { DesiredState, RenderedManifest, RenderedStack } from '../model/desired-state.ts'
import type { LoadedRollout, Target } from '../model/fleet-model.ts'
import { type CoverageInput, findCoverageGaps } from './stage-coverage.ts'

const FLEET = 'fleet.yaml'
const CLUSTERS = 'inventory/clusters.yaml'
const ACCOUNTS = 'inventory/accounts.yaml'
const DNS_STACK = 'stacks/dns.yaml'
const DEV_CLUSTER = 'aws:222222222222:eu-central-1:kube-1'

/** The fixture with the coverage check at its default, warn (the fixture turns it off). */
const CHECKED = edit(FLEET, 'coverage: { stages: off }', 'coverage: {}')

/**
 * The fixture with full coverage: the dev account receives the DNS stack too, and has a dev
 * cluster that receives the ingress component.
 */
const COVERED: Overrides = {
  ...CHECKED,
  ...edit(DNS_STACK, "  Select: account.environment != 'test'\n", ''),
  [CLUSTERS]: `${BASE_FILES[CLUSTERS]}- id: ${DEV_CLUSTER}
  alias: teapot-test-kube-1
  account: "222222222222"
  region: eu-central-1
  environment: test
  channel: dev
  criticality: tier-3
  kubernetesVersion: "1.31"
  nodePools:
    - { name: default-worker, profile: worker, instanceTypes: [m5.xlarge], min: 1, max: 3 }
`,
}

/** A stack file that only the accounts `select` picks receive. */
function stack(name: string, select: string, type = 'AWS::CertificateManager::Certificate'): Overrides {
  return {
    [`stacks/${name}.yaml`]: `Metadata:
  StackName: ${name}
  Scope: { Type: global }
  Select: ${JSON.stringify(select)}
Resources:
  Thing:
    Type: ${type}
    Properties: { DomainName: "{{ config.dns_domain }}" }
`,
  }
}

const REST_OF_STACK_MESSAGE =
  "so production would be the first test: let a target of one of those stages receive it (widen the stack's Metadata.Select, or move a test or staging account into such a stage)"

describe('stage coverage, as validation reports it', () => {
  test('full coverage gives no finding', () => {
    expect(loadValid(COVERED).warnings).toEqual([])
  })

  test('what only production receives is a warning at the select of the first production stage receiving it', () => {
    expect(loadValid(CHECKED).warnings).toEqual([
      `rollout.yaml:6:13: warning: publishing DNS (an account's hosted zone) reaches production first in stage "ops" (e.g. account "333333333333" (ops-monitoring)); no target of an earlier non-production stage (dev) publishes DNS, so production would be the first test: give one of those stages a staging account with a hosted zone, and a cluster in it whose ingress names external-dns publishes, so that a change meets DNS before production`,
      `rollout.yaml:6:13: warning: resource types "AWS::CertificateManager::Certificate", "AWS::Route53::HostedZone" reach production first in stage "ops" (e.g. account "333333333333" (ops-monitoring)); no target of an earlier non-production stage (dev) receives them, so production would be the first test: give a target of one of those stages a stack or component that declares them`,
      `rollout.yaml:6:13: warning: stack "route53-hostedzones" reaches production first in stage "ops" (e.g. account "333333333333" (ops-monitoring)); no target of an earlier non-production stage (dev) receives it, ${REST_OF_STACK_MESSAGE}`,
      `rollout.yaml:9:13: warning: component "ingress" reaches production first in stage "stable" (e.g. cluster "aws:111111111111:eu-central-1:kube-1" (teapot-kube-1)); no target of an earlier non-production stage (dev) receives it, so production would be the first test: let a cluster of one of those stages receive it (widen the select of its component.yaml, or add a test or staging cluster to such a stage)`,
      `rollout.yaml:9:13: warning: resource type "Deployment" reaches production first in stage "stable" (e.g. cluster "aws:111111111111:eu-central-1:kube-1" (teapot-kube-1)); no target of an earlier non-production stage (dev) receives it, so production would be the first test: give a target of one of those stages a stack or component that declares it`,
    ])
  })

  test('a stack only production receives', () => {
    const onlyProduction = stack(
      'certificates',
      "account.environment == 'production' && account.group != 'ops'",
    )
    expect(loadValid({ ...COVERED, ...onlyProduction }).warnings).toEqual([
      `rollout.yaml:9:13: warning: stack "certificates" reaches production first in stage "stable" (e.g. account "111111111111" (teapot-prod)); no target of an earlier non-production stage (dev) receives it, ${REST_OF_STACK_MESSAGE}`,
    ])
  })

  test('ops targets are production: the ops stage is no test for a later stage, and needs one itself', () => {
    // Received by ops and stable, never by dev: reported once, at ops, the first to receive it.
    const opsAndProduction = stack('certificates', "account.environment == 'production'")
    expect(loadValid({ ...COVERED, ...opsAndProduction }).warnings).toEqual([
      expect.stringMatching(
        /^rollout\.yaml:6:13: warning: stack "certificates" reaches production first in stage "ops" \(e\.g\. account "333333333333" \(ops-monitoring\)\); no target of an earlier non-production stage \(dev\)/,
      ),
    ])
    // An ops account counts as production even when written as staging.
    const opsStaging = edit(
      ACCOUNTS,
      'group: ops\n  environment: production',
      'group: ops\n  environment: staging',
    )
    expect(
      loadValid({ ...COVERED, ...opsStaging, ...stack('alerting', "account.group == 'ops'") }).warnings,
    ).toEqual([
      expect.stringMatching(
        /^rollout\.yaml:6:13: warning: stack "alerting" reaches production first in stage "ops"/,
      ),
    ])
  })

  test('a component only production receives', () => {
    const component = {
      'cluster/manifests/shop/component.yaml': "select: cluster.environment == 'production'\n",
      'cluster/manifests/shop/deployment.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: shop, namespace: default }\n',
    }
    expect(loadValid({ ...COVERED, ...component }).warnings).toEqual([
      `rollout.yaml:9:13: warning: component "shop" reaches production first in stage "stable" (e.g. cluster "aws:111111111111:eu-central-1:kube-1" (teapot-kube-1)); no target of an earlier non-production stage (dev) receives it, so production would be the first test: let a cluster of one of those stages receive it (widen the select of its component.yaml, or add a test or staging cluster to such a stage)`,
    ])
  })

  test('a Kubernetes kind only production receives, in a component every cluster receives', () => {
    const list = {
      'cluster/manifests/ingress/budget.yaml': `apiVersion: v1
kind: List
items: "{{ cluster.environment == 'production' ? [{'apiVersion': 'policy/v1', 'kind': 'PodDisruptionBudget', 'metadata': {'name': 'ingress', 'namespace': 'kube-system'} }] : [] }}"
`,
    }
    const { warnings } = loadValid({ ...COVERED, ...list })
    expect(warnings).toEqual([
      expect.stringMatching(
        /^rollout\.yaml:9:13: warning: resource type "PodDisruptionBudget" reaches production first in stage "stable"/,
      ),
    ])
  })

  test('a DNS zone published first by production: a production cluster asks external-dns for a name', () => {
    const ingress = {
      'cluster/manifests/ingress/ingress.yaml': `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: shop, namespace: kube-system }
spec:
  rules:
    - host: "{{ cluster.environment == 'production' ? 'shop.teapot.example.org' : '' }}"
`,
    }
    expect(loadValid({ ...COVERED, ...ingress }).warnings).toEqual([
      `rollout.yaml:9:13: warning: publishing DNS (a cluster's names in its account's zone) reaches production first in stage "stable" (e.g. cluster "aws:111111111111:eu-central-1:kube-1" (teapot-kube-1)); no target of an earlier non-production stage (dev) publishes DNS, so production would be the first test: give one of those stages a staging account with a hosted zone, and a cluster in it whose ingress names external-dns publishes, so that a change meets DNS before production`,
    ])
  })

  test('decommissioned targets neither need coverage nor give it, nor do targets that receive nothing yet', () => {
    const retired = `${BASE_FILES[ACCOUNTS]}- id: "444444444444"
  name: teapot-old
  team: teapot
  environment: production
  criticality: tier-3
  channel: stable
  lifecycle: decommissioned
  regions: [eu-central-1]
  config: { dns_domain: old.example.org }
`
    expect(
      loadValid({ ...COVERED, [ACCOUNTS]: retired, ...stack('legacy', "account.name == 'teapot-old'") })
        .warnings,
    ).toEqual([])
    // A dev account still being set up receives nothing: it tests nothing yet.
    const requested = edit(ACCOUNTS, 'channel: dev\n', 'channel: dev\n  lifecycle: requested\n')
    const { warnings } = loadValid({ ...COVERED, ...requested })
    expect(warnings.filter((w) => w.includes('stack "route53-hostedzones"'))).toHaveLength(1)
  })

  test('a first stage with production targets has no earlier stage to test in', () => {
    const rollout = {
      'rollout.yaml': `stages:
  - name: ops
    select: target.group == 'ops'
  - name: everything
    select: "true"
`,
    }
    expect(loadValid({ ...COVERED, ...rollout }).warnings).toContain(
      'rollout.yaml:3:13: warning: stack "route53-hostedzones" reaches production first in stage "ops" (e.g. account "333333333333" (ops-monitoring)); no stage before "ops" is free of production targets, so production would be the first test: add a stage of test or staging targets before it',
    )
  })

  test('coverage.stages in fleet.yaml: error makes a gap an error, off checks nothing', () => {
    const error = edit(FLEET, 'coverage: { stages: off }', 'coverage: { stages: error }')
    expect(
      errorsFor({
        ...COVERED,
        ...error,
        ...stack('certificates', "account.environment == 'production' && account.group != 'ops'"),
      }),
    ).toEqual([
      `rollout.yaml:9:13: stack "certificates" reaches production first in stage "stable" (e.g. account "111111111111" (teapot-prod)); no target of an earlier non-production stage (dev) receives it, ${REST_OF_STACK_MESSAGE}`,
    ])
    expect(loadValid({}).warnings).toEqual([])
    expect(errorsFor(edit(FLEET, 'coverage: { stages: off }', 'coverage: { stages: loud }'))).toEqual([
      expect.stringMatching(/^fleet\.yaml:6:21: .*warn.*error.*off/),
    ])
  })
})

describe('findCoverageGaps', () => {
  const at = { file: 'rollout.yaml', line: 1, col: 1 }
  const rollout = {
    defaults: {},
    gates: {},
    stages: ['dev', 'prod'].map((name) => ({ name, at, selector: { at, expression: {} } })),
  } as unknown as LoadedRollout

  function target(
    id: string,
    environment: 'test' | 'production',
    kind: 'account' | 'cluster' = 'account',
  ): Target {
    return {
      id,
      kind,
      name: id,
      environment,
      group: 'g',
      account: kind === 'account' ? id : `${id}-account`,
    } as Target
  }
  function stackOf(...types: string[]): RenderedStack {
    const Resources = Object.fromEntries(types.map((type, i) => [`R${i}`, { Type: type }]))
    return { stackName: 'app', template: { Resources } } as unknown as RenderedStack
  }
  function input(states: [DesiredState, string][]): CoverageInput {
    return {
      rollout,
      stageOf: new Map(states.map(([s, stage]) => [s.target.id, stage])),
      desired: new Map(states.map(([s]) => [s.target.id, s])),
    }
  }

  test('a resource type introduced only in production: the stack is covered, the type is not', () => {
    const dev = { target: target('d', 'test'), stacks: [stackOf('AWS::SQS::Queue')], manifests: [] }
    const prod = {
      target: target('p', 'production'),
      stacks: [stackOf('AWS::SQS::Queue', 'AWS::SNS::Topic')],
      manifests: [],
    }
    expect(
      findCoverageGaps(
        input([
          [dev, 'dev'],
          [prod, 'prod'],
        ]),
      ),
    ).toEqual([{ kind: 'resource type', item: 'AWS::SNS::Topic', stage: 'prod', targets: [prod.target] }])
  })

  test('a production stage before the only test stage: nothing tests it first', () => {
    const dev = { target: target('d', 'test'), stacks: [stackOf('AWS::SQS::Queue')], manifests: [] }
    const prod = { target: target('p', 'production'), stacks: [stackOf('AWS::SQS::Queue')], manifests: [] }
    const reversed = {
      ...input([
        [dev, 'prod'],
        [prod, 'dev'],
      ]),
    }
    expect(findCoverageGaps(reversed).map((g) => `${g.stage} ${g.kind} ${g.item}`)).toEqual([
      'dev stack app',
      'dev resource type AWS::SQS::Queue',
    ])
  })

  test('cluster names count as published only where the cluster account declares a hosted zone', () => {
    const service = {
      component: 'ingress',
      object: {
        kind: 'Service',
        metadata: { annotations: { 'external-dns.alpha.kubernetes.io/hostname': '*.k.example.org' } },
        spec: { type: 'LoadBalancer' },
      },
    } as unknown as RenderedManifest
    const devCluster = { target: target('dc', 'test', 'cluster'), stacks: [], manifests: [service] }
    const prodCluster = { target: target('pc', 'production', 'cluster'), stacks: [], manifests: [service] }
    const zone = stackOf('AWS::Route53::HostedZone')
    const devAccount = { target: target('dc-account', 'test'), stacks: [], manifests: [] }
    const prodAccount = { target: target('pc-account', 'production'), stacks: [zone], manifests: [] }
    const gaps = (dev: DesiredState) =>
      findCoverageGaps(
        input([
          [dev, 'dev'],
          [devCluster, 'dev'],
          [prodAccount, 'prod'],
          [prodCluster, 'prod'],
        ]),
      )
        .filter((g) => g.kind === 'DNS')
        .map((g) => g.item)
    // The dev cluster asks for the same names, but its account has no zone to publish them in.
    expect(gaps(devAccount)).toEqual(['cluster names', 'hosted zone'])
    expect(gaps({ ...devAccount, stacks: [zone] })).toEqual([])
  })
})
