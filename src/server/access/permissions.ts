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
 */

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
