/**
 * Who may do what: pure decisions over a signed-in principal and the teams a change touches.
 *
 * - `viewer`: reads everything, changes nothing — except pulling the fleet-wide stop;
 * - `member`: starts and operates rollouts, restores snapshots and injects simulated faults only
 *   where every target concerned belongs to one of their teams (`inventory/teams.yaml` members);
 * - `admin`: everything, including users, tokens, emergency access and releasing the stop.
 *
 * Anyone signed in may pull the stop: the emergency brake must never wait for a permission. An
 * active emergency elevation makes its holder an admin until it expires.
 *
 * Approvals are owned: a member approves only addresses of their teams' targets (every team of a
 * pattern's or a plan-scope approval's targets), and a change to the fleet's rules only as a
 * member of a team of `fleet.yaml` `trust.owners`; an admin approves anything.
 */
import type { AddressOwnership } from '../../core/policy/approval-owners.ts'

/** The roles, weakest first. */
export const ROLES = ['viewer', 'member', 'admin'] as const
export type Role = (typeof ROLES)[number]

/** Someone signed in, as the server sees them for one request. */
export interface Principal {
  readonly name: string
  /** The role stored for the user. */
  readonly role: Role
  /** The teams that list the user as a member, in the inventory the server follows. */
  readonly teams: ReadonlySet<string>
  /** An active emergency elevation, if any. */
  readonly elevation: { readonly reason: string; readonly until: Date; readonly grantedBy: string } | null
}

/** A decision, with the reason when it is no. */
export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string }

const YES: Decision = { allowed: true }
const no = (reason: string): Decision => ({ allowed: false, reason })

/** The role in effect: admin while an elevation lasts. */
export function effectiveRole(principal: Principal): Role {
  return principal.elevation ? 'admin' : principal.role
}

/** Whether the principal may change targets owned by `teams` (start, operate, restore, faults). */
export function mayChange(principal: Principal, teams: Iterable<string>, what: string): Decision {
  const role = effectiveRole(principal)
  if (role === 'admin') return YES
  if (role === 'viewer')
    return no(`${principal.name} is a viewer and cannot ${what}; ask a member of the team or an admin`)
  const foreign = [...new Set(teams)].filter((team) => !principal.teams.has(team)).sort()
  if (foreign.length === 0) return YES
  return no(
    `${principal.name} cannot ${what}: it touches ${foreign.length === 1 ? 'team' : 'teams'} ${foreign.join(', ')}, and ${principal.name} is a member of ${principal.teams.size > 0 ? [...principal.teams].sort().join(', ') : 'no team'}`,
  )
}

/**
 * Whether the principal may approve `approval`, which takes `needs` to own (see
 * `core/policy/approval-owners.ts`). The refusal names the teams that own it and what to do.
 */
export function mayApprove(
  principal: Principal,
  approval: string,
  needs: readonly AddressOwnership[],
): Decision {
  const role = effectiveRole(principal)
  if (role === 'admin') return YES
  const who = principal.name
  if (role === 'viewer')
    return no(
      `${who} is a viewer and cannot approve "${approval}"; ask a member of the team that owns it, or an admin`,
    )
  const foreign = new Set<string>()
  const problems: string[] = []
  for (const need of needs) {
    if (need.kind === 'targets') {
      for (const team of need.teams) if (!principal.teams.has(team)) foreign.add(team)
    } else if (need.kind === 'rules') {
      if (!need.teams.some((team) => principal.teams.has(team)))
        problems.push(
          `${need.address} changes the fleet's rules, which only admins${need.teams.length > 0 ? ` and members of ${need.teams.join(', ')}` : ''} may approve (fleet.yaml trust.owners)`,
        )
    } else {
      problems.push(
        `${need.address} belongs to no target of this revision or of the trusted branch, so only an admin may approve it`,
      )
    }
  }
  if (foreign.size > 0) {
    const teams = [...foreign].sort()
    problems.unshift(
      `it concerns ${teams.length === 1 ? 'team' : 'teams'} ${teams.join(', ')}, and ${who} is a member of ${principal.teams.size > 0 ? [...principal.teams].sort().join(', ') : 'no team'}; ask a member of ${teams.join(' and of ')}, or an admin, to approve it`,
    )
  }
  if (problems.length === 0) return YES
  return no(`${who} cannot approve "${approval}": ${[...new Set(problems)].join('; ')}`)
}

/** Whether the principal may release the fleet-wide stop (pulling it is open to everyone). */
export function mayUnstop(principal: Principal): Decision {
  return effectiveRole(principal) === 'admin'
    ? YES
    : no(`only an admin may release the fleet-wide stop; ${principal.name} is a ${principal.role}`)
}

/** Whether the principal may manage users, tokens and emergency access (an elevation does not count). */
export function mayAdminister(principal: Principal): Decision {
  return principal.role === 'admin'
    ? YES
    : no(
        `only an admin may manage users, tokens and emergency access; ${principal.name} is a ${principal.role}`,
      )
}
