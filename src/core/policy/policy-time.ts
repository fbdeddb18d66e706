/**
 * The time policies see (`now` in a rule), and who set it. A change is judged at the clock's time
 * of the machine that plans it — the server's for the API, the portal and the controller — never
 * at a time the change's requester chose: a freeze a request could step out of by naming another
 * day would guard nothing. The time used is kept with every plan, rollout and audit entry.
 */

import type { PolicyTime } from '../model/plan.ts'

// The value is part of the plan model; re-exported here beside the clocks that make it, for the
// many callers that take a clock and name its time.
export { POLICY_TIME_SOURCES, type PolicyTime, type PolicyTimeSource } from '../model/plan.ts'

/** Where a plan that changes the fleet takes its time from. */
export type PolicyClock = () => PolicyTime

/** The real clock. */
export const systemClock: PolicyClock = () => ({ at: new Date().toISOString(), source: 'clock' })

/** A clock an operator fixed at `at` (`flotilla serve --now`). */
export function operatorClock(at: Date): PolicyClock {
  const fixed: PolicyTime = { at: at.toISOString(), source: 'operator' }
  return () => fixed
}

/** `2026-11-10T10:00:00.000Z (the server's clock)`, for status pages and messages. */
export function describePolicyTime(time: PolicyTime): string {
  const by = {
    clock: 'the clock of the machine that planned',
    operator: 'set by the operator: flotilla serve --now',
    'what-if': 'a what-if time chosen for a preview',
  }[time.source]
  return `${time.at} (${by})`
}

/**
 * The words a request that names its own time is refused with: a 400 of the API, a refused
 * portal form, a CLI usage error.
 */
export const SERVER_CLOCK_ONLY =
  'policies see the server\'s clock: a request that changes the fleet cannot choose the time it is judged at. --now exists for offline "flotilla plan" and "flotilla drill" only (GET /api/plans?now= previews another time without starting anything)'
