import { type ExampleInventory, HOME_REGION } from './inventory.ts'

/** Above this many changed targets the example's `many-targets-at-once` policy warns. */
const MANY_TARGETS = 100

/**
 * The example's policy tests (`policies/tests/*.yaml`), one file per policy file: what each
 * policy must find in a small plan, so that a team can change a policy and see at once what it
 * now lets through. They pass against `policyFiles()` for every size and seed: they name the ops
 * accounts (the same in every example) and, where they need another kind of account, the first
 * one of the generated inventory that fits.
 */
export function policyTestFiles(inventory: ExampleInventory): Map<string, string> {
  const ops = inventory.opsAccountIds
  const active = inventory.accounts.filter((a) => a.file !== 'ops' && a.entry.lifecycle === 'active')
  const firstOf = (environment: 'test' | 'staging') =>
    (active.find((a) => a.entry.environment === environment) ??
      inventory.accounts.find((a) => a.entry.environment === environment))!.entry
  const testAccount = firstOf('test')
  const stagingAccount = firstOf('staging')
  const alertTopic = `${ops['ops-tooling']}/${HOME_REGION}/ops-monitoring/AlertTopic`
  const targets = inventory.accounts.length + inventory.clusters.length

  const freeze = `# Tests of policies/freeze.yaml, run by "flotilla policy test". Each test is a small plan:
# its changes, the time policies see as now, and every finding the rules must give
# (built-in safety rules included; [] for none). Targets are named as in the inventory.
- name: a production change during Cyber Week needs an approval
  now: 2026-11-25T10:00:00Z   # a Wednesday
  changes: &alert-topic-update
    - target: ops-tooling
      address: "${alertTopic}"
      action: update
      type: AWS::SNS::Topic
      properties:
        - { path: DisplayName, before: Fleet alerts, after: Fleet alerts (ops) }
  expect:
    - { rule: cyber-week-freeze, effect: require-approval }
  verdict: requires-approval
- name: with its approval, the change goes ahead during Cyber Week
  now: 2026-11-25T10:00:00Z
  changes: *alert-topic-update
  approvals: ["${alertTopic}"]
  expect:
    - { rule: cyber-week-freeze, effect: require-approval }
  verdict: allowed
- name: the week after, the same change needs nothing
  now: 2026-12-02T10:00:00Z   # a Wednesday
  changes: *alert-topic-update
  expect: []
  verdict: allowed
- name: test accounts are not frozen
  now: 2026-11-25T10:00:00Z
  changes:
    - { target: ${testAccount.name}, action: update, type: AWS::EC2::FlowLog }
  expect: []
- name: a production change on a Saturday needs an approval
  now: 2026-12-05T10:00:00Z   # a Saturday, in Berlin too
  changes: *alert-topic-update
  expect:
    - { rule: weekend-production-changes, effect: require-approval }
`

  const opsZone = `${ops['ops-dns']}/global/route53-hostedzones/HostedZone`
  const stagingZone = `${stagingAccount.id}/global/route53-hostedzones/HostedZone`
  const subscription = `${ops['ops-tooling']}/${HOME_REGION}/ops-monitoring/PagingSubscription`
  const deployRole = `${ops['ops-tooling']}/global/iam-roles/DeploymentRole`
  const protection = `# Tests of policies/protection.yaml, and of the built-in protected-destroy rule next to it.
- name: deleting anything in a tier-1 account needs an approval
  now: 2026-12-02T10:00:00Z
  changes:
    - { target: ops-tooling, address: "${subscription}", action: delete, type: AWS::SNS::Subscription }
  expect:
    - { rule: tier-1-destructive-changes, effect: require-approval, addresses: ["${subscription}"] }
  verdict: requires-approval
- name: the ops DNS zone is never deleted by a rollout
  now: 2026-12-02T10:00:00Z
  changes: &ops-zone-delete
    - { target: ops-dns, address: "${opsZone}", action: delete, type: AWS::Route53::HostedZone }
  expect: &ops-zone-findings
    - { rule: ops-dns-zones-stay, effect: deny }
    - { rule: tier-1-destructive-changes, effect: require-approval }
    - { rule: protected-destroy, effect: require-approval }   # built in: a hosted zone is protected
  verdict: denied
- name: approving the ops DNS zone's deletion does not lift the deny
  now: 2026-12-02T10:00:00Z
  changes: *ops-zone-delete
  approvals: ["${opsZone}"]
  expect: *ops-zone-findings
  verdict: denied
- name: deleting a staging zone needs the built-in approval only
  now: 2026-12-02T10:00:00Z
  changes: &staging-zone-delete
    - { target: ${stagingAccount.name}, address: "${stagingZone}", action: delete, type: AWS::Route53::HostedZone }
  expect:
    - { rule: protected-destroy, effect: require-approval, addresses: ["${stagingZone}"] }
  verdict: requires-approval
- name: with that approval, the staging zone may go
  now: 2026-12-02T10:00:00Z
  changes: *staging-zone-delete
  approvals: ["${stagingZone}"]
  expect:
    - { rule: protected-destroy, effect: require-approval }
  verdict: allowed
- name: IAM changes in production are called out
  now: 2026-12-02T10:00:00Z
  changes:
    - target: ops-tooling
      address: "${deployRole}"
      action: update
      type: AWS::IAM::Role
      properties:
        - { path: MaxSessionDuration, before: 3600, after: 7200 }
  expect:
    - { rule: production-iam-changes, effect: warn }
  verdict: allowed
`

  const everything = [
    `    - { select: "target.kind == 'account'", action: update, type: AWS::CloudFormation::Stack }`,
    ...(inventory.clusters.length > 0
      ? [`    - { select: "target.kind == 'cluster'", action: update, type: apps/v1/Deployment }`]
      : []),
  ].join('\n')
  const blastRadius = `# Tests of policies/blast-radius.yaml. "select" puts the same change into every target it selects.
- name: a change to the four ops accounts is not flagged
  now: 2026-12-02T10:00:00Z
  changes:
    - { select: "target.group == 'ops' && target.kind == 'account'", action: update, type: AWS::SNS::Topic }
  expect: []
${
  targets > MANY_TARGETS
    ? `- name: a change to all ${targets} targets at once is flagged
  now: 2026-12-02T10:00:00Z
  changes:
${everything}
  expect:
    - { rule: many-targets-at-once, effect: warn }
`
    : ''
}`

  return new Map([
    ['policies/tests/blast-radius.yaml', blastRadius],
    ['policies/tests/freeze.yaml', freeze],
    ['policies/tests/protection.yaml', protection],
  ])
}
