/**
 * Who owns what an approval approves. An address belongs to its target (`<targetId>/…`), and the
 * target to its team; `plan/<rule>` concerns the whole plan, so every target it changes; and
 * `governance/…` — a change to the fleet's rules — belongs to the teams `fleet.yaml` names in
 * `trust.owners`. A pattern approval concerns every address of the plan it matches. The server
 * lets only owners (and admins) approve, and counts only their approvals.
 */
import type { Fleet } from '../model/fleet-model.ts'
import type { Plan } from '../model/plan.ts'
import { type Approval, formatApproval, matchesGlob } from './approvals.ts'

/** The prefix of the addresses of plan-scope approvals (`plan/<rule>`). */
const PLAN_PREFIX = 'plan/'
/** The prefix of the addresses of changes to the fleet's rules (the `governance-change` finding). */
export const GOVERNANCE_PREFIX = 'governance/'

/** What it takes to own one address; an address may need several of these at once. */
export type AddressOwnership =
  /** Targets' addresses, or the whole plan: a member of every one of `teams`. */
  | { readonly kind: 'targets'; readonly address: string; readonly teams: readonly string[] }
  /** A change to the fleet's rules: a member of any one of `teams` (`trust.owners`; none: admins only). */
  | { readonly kind: 'rules'; readonly address: string; readonly teams: readonly string[] }
  /** An address no target of either revision has: no team owns it (admins only). */
  | { readonly kind: 'unowned'; readonly address: string }

/** What ownership is judged against. */
export interface OwnershipContext {
  /**
   * The revisions whose inventories say which team owns a target: the trusted revision's and the
   * one approved. A target's team in each must be the approver's, so a change cannot hand its
   * targets to its author's team and then approve them.
   */
  readonly fleets: readonly Pick<Fleet, 'targets'>[]
  /** `fleet.yaml` `trust.owners` of the trusted revision. */
  readonly ruleOwners: readonly string[]
  /** The plan approved: what a pattern matches, and the targets a `plan/<rule>` approval concerns. */
  readonly plan?: Pick<Plan, 'targets' | 'findings'>
}

/** Whether judging `approval` needs the plan (a pattern, or a plan-scope address). */
export function needsPlan(approval: Approval): boolean {
  return approval.kind === 'pattern' || approval.address.startsWith(PLAN_PREFIX)
}

/** Every address a plan names: its changes' and its findings' (`plan/…`, `<target>/_stage`, …). */
export function planAddresses(plan: Pick<Plan, 'targets' | 'findings'>): string[] {
  const addresses = new Set<string>()
  for (const target of plan.targets) for (const change of target.changes) addresses.add(change.address)
  for (const finding of plan.findings) for (const address of finding.addresses) addresses.add(address)
  return [...addresses].sort()
}

/** What owning `address` takes (see the module comment); a target id that is also a prefix needs both. */
export function ownershipOfAddress(address: string, context: OwnershipContext): AddressOwnership[] {
  const needs: AddressOwnership[] = []
  if (address.startsWith(GOVERNANCE_PREFIX))
    needs.push({ kind: 'rules', address, teams: [...context.ruleOwners].sort() })
  if (address.startsWith(PLAN_PREFIX)) {
    const plan = requirePlan(context, address)
    needs.push({
      kind: 'targets',
      address,
      teams: teamsOf(
        plan.targets.map((t) => t.id),
        context,
      ),
    })
  }
  const slash = address.indexOf('/')
  const target = slash < 0 ? address : address.slice(0, slash)
  const teams = teamsOf([target], context)
  if (teams.length > 0) needs.push({ kind: 'targets', address, teams })
  if (needs.length === 0) needs.push({ kind: 'unowned', address })
  return needs
}

/**
 * What owning everything an approval approves takes: its address; for a pattern, every address
 * of the plan it matches (the plan must be given, see {@link needsPlan}).
 */
export function ownershipOfApproval(approval: Approval, context: OwnershipContext): AddressOwnership[] {
  if (approval.kind === 'address') return ownershipOfAddress(approval.address, context)
  const matched = planAddresses(requirePlan(context, formatApproval(approval))).filter((a) =>
    matchesGlob(approval.glob, a),
  )
  return matched.flatMap((address) => ownershipOfAddress(address, context))
}

/** The teams owning these targets in any of the context's fleets, sorted. */
function teamsOf(targets: readonly string[], context: OwnershipContext): string[] {
  const wanted = new Set(targets)
  const teams = new Set<string>()
  for (const fleet of context.fleets)
    for (const target of fleet.targets) if (wanted.has(target.id)) teams.add(target.team)
  return [...teams].sort()
}

function requirePlan(context: OwnershipContext, what: string): Pick<Plan, 'targets' | 'findings'> {
  // A bug, not a user error: callers plan first when `needsPlan` says so.
  if (!context.plan) throw new Error(`judging "${what}" needs the plan it approves`)
  return context.plan
}
