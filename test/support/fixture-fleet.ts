import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { type FleetSource, memorySource } from '../../src/core/model/source.ts'

/**
 * A small, valid fleet repository: two teams, three accounts (one of them ops), one cluster, a
 * DNS stack, one component and a rollout. Tests start from it and override single files, so
 * each test shows only what it changes. Only production receives its stack and component, so its
 * stage coverage check is off (`coverage.stages` in fleet.yaml); the check's own tests turn it on.
 */
export const BASE_FILES: Readonly<Record<string, string>> = {
  'fleet.yaml': `apiVersion: flotilla/v1
name: test-fleet
provider: sim
requiredTags: [owner]
limits: { maxDeletes: 10, maxShrinkPercent: 10 }
coverage: { stages: off }   # only production gets the stack and component; see the doc comment
`,
  'inventory/teams.yaml': `- id: teapot
  name: Team Teapot
  costCenter: "0001"
  members: [alice]
- id: sre
  name: SRE
  members: [bob]
`,
  'inventory/accounts.yaml': `- id: "111111111111"
  name: teapot-prod
  team: teapot
  environment: production
  criticality: tier-1
  channel: stable
  regions: [eu-central-1, eu-west-1]
  tags: { owner: teapot }
  config: { dns_domain: teapot.example.org, replicas: 2 }
- id: "222222222222"
  name: teapot-test
  team: teapot
  environment: test
  criticality: tier-3
  channel: dev
  regions: [eu-central-1]
  config: { dns_domain: teapot-test.example.org, replicas: 1 }
- id: "333333333333"
  name: ops-monitoring
  team: sre
  group: ops
  environment: production
  criticality: tier-1
  channel: stable
  regions: [eu-central-1]
  config: { dns_domain: ops.example.org, replicas: 3 }
`,
  'inventory/clusters.yaml': `- id: aws:111111111111:eu-central-1:kube-1
  alias: teapot-kube-1
  account: "111111111111"
  region: eu-central-1
  environment: production
  channel: stable
  criticality: tier-1
  kubernetesVersion: "1.31"
  nodePools:
    - { name: default-worker, profile: worker, instanceTypes: [m5.xlarge], min: 3, max: 20 }
  config: { autoscaling_enabled: true }
`,
  'cluster/config-defaults.yaml': `defaults:
  log_level: info
  replicas: 2
environments:
  production: { replicas: 3 }
`,
  'stacks/dns.yaml': `AWSTemplateFormatVersion: "2010-09-09"
Metadata:
  StackName: route53-hostedzones
  Scope: { Type: global }
  Select: account.environment != 'test'
  Parameters:
    DomainName: "{{ config.dns_domain }}"
Parameters:
  DomainName:
    Type: String
Resources:
  HostedZone:
    Type: AWS::Route53::HostedZone
    Properties:
      Name: !Sub "\${DomainName}."
  Certificate:
    Type: AWS::CertificateManager::Certificate
    Properties:
      DomainName: "*.{{ config.dns_domain }}"
      ValidationMethod: DNS
`,
  'cluster/manifests/ingress/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ingress
  namespace: kube-system
spec:
  replicas: "{{ config.replicas }}"
  template:
    metadata:
      labels: { app: ingress, region: "{{ region }}" }
`,
  'rollout.yaml': `defaults: { maxParallel: 1 }
stages:
  - name: dev
    select: target.channel == 'dev'
  - name: ops
    select: target.group == 'ops'
    gates: [healthy]
  - name: stable
    select: target.channel == 'stable'
    waves: [1, 50%, 100%]
    gates: [healthy]
gates:
  healthy: { type: health }
`,
}

/** A fleet source from {@link BASE_FILES} with some files replaced (a `null` value deletes the file). */
export function fixtureSource(overrides: Readonly<Record<string, string | null>> = {}): FleetSource {
  const files: Record<string, string> = { ...BASE_FILES }
  for (const [path, text] of Object.entries(overrides)) {
    if (text === null) delete files[path]
    else files[path] = text
  }
  return memorySource(files, 'fixture')
}

/** Writes files into a new temporary directory and returns its path. */
export function writeFixtureDir(
  files: Readonly<Record<string, string>>,
  prefix = 'flotilla-fixture-',
): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}
