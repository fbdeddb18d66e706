/**
 * The deployment policy of the example (`policies/*.yaml`): rules a platform team starts with.
 * Per-change rules see `change`, `target`, `now`; plan rules (`scope: plan`) see `plan` and `now`.
 */
export function policyFiles(): Map<string, string> {
  return new Map([
    ['policies/freeze.yaml', FREEZE],
    ['policies/protection.yaml', PROTECTION],
    ['policies/blast-radius.yaml', BLAST_RADIUS],
  ])
}

const FREEZE = `# Change freezes. A rule that fires with require-approval lets a change through only with an
# explicit approval; deny would stop it outright.
- name: cyber-week-freeze
  description: No production changes during Cyber Week without an approval
  when: >-
    target.environment == 'production'
    && now >= timestamp('2026-11-23T00:00:00Z') && now < timestamp('2026-12-01T00:00:00Z')
  effect: require-approval
- name: weekend-production-changes
  description: Production changes on a weekend need an approval (fewer people to help if it goes wrong)
  when: target.environment == 'production' && now.getDayOfWeek('Europe/Berlin') in [0, 6]
  effect: require-approval
`

const PROTECTION = `# What must never happen quietly. Flotilla's built-in safety rules (protected resources,
# stack renames, shrinking selections, delete budget) always apply; these add to them.
- name: tier-1-destructive-changes
  description: Deleting or replacing anything in a tier-1 target needs an approval
  when: target.criticality == 'tier-1' && change.action in ['delete', 'replace']
  effect: require-approval
- name: ops-dns-zones-stay
  description: The ops group's DNS zones are never deleted by a rollout; restore or move them by hand
  when: >-
    target.group == 'ops' && change.type == 'AWS::Route53::HostedZone'
    && change.action in ['delete', 'replace']
  effect: deny
- name: production-iam-changes
  description: IAM changes in production are called out in the plan
  when: target.environment == 'production' && change.type.startsWith('AWS::IAM::')
  effect: warn
`

const BLAST_RADIUS = `# Rules over the plan as a whole (scope: plan), evaluated once per plan.
- name: many-targets-at-once
  description: A plan that changes more than 100 targets at once deserves a second look
  scope: plan
  when: plan.summary.targetsChanged > 100
  effect: warn
`
