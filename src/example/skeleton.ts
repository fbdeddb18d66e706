/**
 * The smallest useful fleet repository, for `flotilla init DIR` without `--example`: fleet
 * settings, one team, empty inventories, and a rollout whose stages already keep ops tooling apart
 * from production. It validates as it is; accounts, clusters and stacks are added by hand.
 */
export function skeletonFleet(name: string): Map<string, string> {
  return new Map([
    [
      'fleet.yaml',
      `apiVersion: flotilla/v1
name: ${name}
provider: sim
requiredTags: [owner, cost-center, environment]
limits: { maxDeletes: 10, maxShrinkPercent: 10 }
`,
    ],
    [
      'inventory/teams.yaml',
      `# Teams own accounts and clusters; members are user names used by access control.
- id: platform
  name: Platform Team
  members: []
`,
    ],
    ['inventory/accounts.yaml', '# Accounts: see docs/repository-format.md. An empty list is valid.\n[]\n'],
    ['inventory/clusters.yaml', '# Clusters: see docs/repository-format.md. An empty list is valid.\n[]\n'],
    [
      'rollout.yaml',
      `# A target belongs to the first stage that selects it; every target needs a stage.
defaults: { maxParallel: 1, failureTolerance: 0, bake: 0s, onFailure: rollback }
stages:
  - name: dev
    select: target.channel == 'dev' && target.group != 'ops'
  - name: ops              # monitoring & ops tooling: a stage of its own
    select: target.group == 'ops'
    gates: [healthy]
  - name: alpha
    select: target.channel == 'alpha'
  - name: beta
    select: target.channel == 'beta'
  - name: stable
    select: target.channel == 'stable'
    waves: [1, 10%, 50%, 100%]
    approval: required
    gates: [healthy]
gates:
  healthy: { type: health }
`,
    ],
    [
      'stacks/README.md',
      'CloudFormation templates with Flotilla keys in Metadata (StackName, Scope, Select, Parameters).\n',
    ],
    ['policies/README.md', 'Deployment policy rules: name, description, scope, when (CEL), effect.\n'],
  ])
}
