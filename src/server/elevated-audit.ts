/**
 * Emergency access leaves a trail: every audit entry its holder makes while it lasts carries the
 * elevation (`elevated: {reason, grantedBy, until}`), and a request of theirs that changes
 * something but wrote no entry of its own (a drift check, a refused attempt) gets one,
 * `elevated-request`, with the method, the path and the status.
 */
import type { MiddlewareHandler } from 'hono'
import type { Kysely } from 'kysely'
import { type AuditScope, appendAuditEntry, auditScope } from '../store/audit.ts'
import type { Database } from '../store/tables.ts'
import type { ServerEnv } from './server-deps.ts'

/** Methods that only read. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The middleware (after authentication). */
export function auditElevatedRequests(db: Kysely<Database>): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const principal = c.get('principal')
    if (!principal?.elevation) return next()
    const { reason, grantedBy, until } = principal.elevation
    const scope: AuditScope = {
      actor: principal.name,
      elevated: { reason, grantedBy, until: until.toISOString() },
      appended: 0,
    }
    await auditScope(scope, () => next())
    if (READS.has(c.req.method) || scope.appended > 0) return
    await appendAuditEntry(db, {
      actor: principal.name,
      action: 'elevated-request',
      subject: c.req.path,
      source: c.get('source'),
      detail: { method: c.req.method, status: c.res.status },
      elevated: scope.elevated,
    })
  }
}
