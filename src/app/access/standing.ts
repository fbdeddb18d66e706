/**
 * A user's standing — role and active emergency elevation — read in the same query as the token
 * or session that authenticates a request, so that authenticating costs one query on the event
 * loop that serves every request, not three.
 */
import { type ExpressionBuilder, sql } from 'kysely'
import type { Database } from '../../store/tables.ts'
import type { Role } from './permissions.ts'

/** A user's role and active elevation, as read with a token or a session in the same query. */
export interface Standing {
  readonly role: Role
  readonly elevation: { readonly reason: string; readonly until: Date; readonly grantedBy: string } | null
}

/**
 * The columns of a query joining `users` that give the user's {@link Standing} at `now`: the role,
 * and the active elevation (the one lasting longest) as JSON. Authenticating a request then costs
 * one query, not three (token, role, elevation), on the event loop that serves every request.
 */
export function standingColumns(now: Date) {
  return (eb: ExpressionBuilder<Database, 'users'>) => [
    eb.ref('users.role').as('role'),
    eb
      .selectFrom('elevations')
      .select(
        sql<{
          reason: string
          until: string
          grantedBy: string
        } | null>`jsonb_build_object('reason', elevations.reason, 'until', elevations.expires_at, 'grantedBy', elevations.granted_by)`.as(
          'elevation',
        ),
      )
      .whereRef('elevations.user_name', '=', 'users.name')
      .where('elevations.revoked_at', 'is', null)
      .where('elevations.expires_at', '>', now)
      .orderBy('elevations.expires_at', 'desc')
      .limit(1)
      .as('elevation'),
  ]
}

/** The {@link Standing} of a row read with {@link standingColumns}. */
export function standingOf(row: {
  role: string
  elevation: { reason: string; until: string; grantedBy: string } | null
}): Standing {
  const { elevation } = row
  return {
    role: row.role as Role,
    elevation: elevation
      ? { reason: elevation.reason, until: new Date(elevation.until), grantedBy: elevation.grantedBy }
      : null,
  }
}
