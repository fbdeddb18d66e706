/**
 * Fleet-wide controls and recovery: the stop (anyone signed in may pull it; only an admin
 * releases it), snapshots and restore, the simulated fleet's faults, and the audit log.
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { mayChange } from '../../app/access/permissions.ts'
import { FAULT_KINDS, type FaultScope } from '../../app/simulator.ts'
import { ConflictError, InputError, NotFoundError } from '../../core/errors.ts'
import { fleetStop } from '../../rollout/rollout-store.ts'
import { appendAuditEntry } from '../../store/audit.ts'
import { stopFor, unstopFor } from '../actions.ts'
import type { ServerDeps, ServerEnv } from '../server-deps.ts'
import { changer, enforce, jsonBody, limitParam, oneOf, signedIn } from './http-helpers.ts'

export const stopBody = z.strictObject({ reason: z.string().trim().min(3, 'say why, in a few words') })
export const faultBody = z.strictObject({
  target: z.string().min(1),
  kind: z.enum(FAULT_KINDS),
  rate: z.number().min(0).max(1).optional(),
  latencyMs: z.int().min(1).max(600_000).optional(),
  forSeconds: z
    .number()
    .positive()
    .max(30 * 24 * 60 * 60)
    .optional(),
})

/** `/api/stop`, `/api/unstop`, `/api/snapshots…`, `/api/sim/faults`, `/api/audit`. */
export function fleetRoutes(deps: ServerDeps): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>()
  const targetOf = async (id: string) => {
    const { fleet } = await deps.fleets.snapshot()
    const target = fleet.targets.find((t) => t.id === id || t.name === id)
    if (!target) throw new NotFoundError(`no target ${id} in the inventory`)
    return target
  }
  const simulator = () => {
    const sim = deps.app.simulator()
    if (!sim) throw new ConflictError('this server has no simulated fleet')
    return sim
  }

  app.get('/stop', async (c) => {
    signedIn(c)
    return c.json({ stop: (await fleetStop(deps.db)) ?? null })
  })
  app.post('/stop', async (c) => {
    const principal = changer(c)
    const { reason } = await jsonBody(c, stopBody)
    const paused = await stopFor(deps, principal, c.get('source'), reason)
    return c.json({ stopped: true, paused })
  })
  app.post('/unstop', async (c) => {
    const resumed = await unstopFor(deps, changer(c), c.get('source'))
    return c.json({ stopped: false, resumed })
  })

  app.get('/snapshots', async (c) => {
    signedIn(c)
    const snapshots = await deps.app.snapshots()
    return c.json({ snapshots: snapshots.map((s) => ({ ...s, createdAt: s.createdAt.toISOString() })) })
  })
  app.post('/snapshots/:id/restore', async (c) => {
    const principal = changer(c)
    const id = c.req.param('id')
    const snapshot = await deps.app.findSnapshot(id)
    if (!snapshot) throw new NotFoundError(`no snapshot ${id}; GET /api/snapshots lists them`)
    const target = await targetOf(snapshot.target)
    enforce(mayChange(principal, [target.team], `restore snapshot ${id}`))
    const report = await deps.app.restoreSnapshot({
      snapshot,
      actor: principal.name,
      source: c.get('source'),
      audit: (report) => ({ subject: id, detail: report as never }),
    })
    return c.json(report)
  })

  app.get('/sim/faults', async (c) => {
    signedIn(c)
    return c.json({ faults: await simulator().faults() })
  })
  app.post('/sim/faults', async (c) => {
    const principal = changer(c)
    const body = await jsonBody(c, faultBody)
    const target = await targetOf(body.target)
    enforce(mayChange(principal, [target.team], `inject a fault into ${target.id}`))
    const scope: FaultScope = { kind: 'target', id: target.id }
    const result = await simulator().addFault(
      {
        scope,
        kind: body.kind,
        ...(body.rate !== undefined ? { rate: body.rate } : {}),
        ...(body.latencyMs !== undefined ? { latencyMs: body.latencyMs } : {}),
        ...(body.forSeconds !== undefined
          ? { expiresAt: new Date(Date.now() + body.forSeconds * 1000) }
          : {}),
      },
      [target],
    )
    await appendAuditEntry(deps.db, {
      actor: principal.name,
      action: 'sim-fault',
      subject: target.id,
      source: c.get('source'),
      detail: body as never,
    })
    return c.json(result, 201)
  })
  app.delete('/sim/faults', async (c) => {
    const principal = changer(c)
    const id = c.req.query('target')
    if (!id)
      throw new InputError('DELETE /api/sim/faults needs ?target=ID (the target whose faults to clear)')
    const target = await targetOf(id)
    enforce(mayChange(principal, [target.team], `clear the faults of ${target.id}`))
    const cleared = await simulator().clearFaults({ scope: { kind: 'target', id: target.id } })
    await appendAuditEntry(deps.db, {
      actor: principal.name,
      action: 'sim-fault-clear',
      subject: target.id,
      source: c.get('source'),
    })
    return c.json({ cleared })
  })

  app.get('/audit', async (c) => {
    signedIn(c)
    const q = c.req.query()
    let query = deps.db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(limitParam(q.limit, 100, 1000))
    if (q.actor) query = query.where('actor', '=', q.actor)
    if (q.action) query = query.where('action', '=', q.action)
    if (q.subject) query = query.where('subject', '=', q.subject)
    const elevated = oneOf('elevated', q.elevated, ['true', 'false'] as const)
    if (elevated) query = query.where('elevated', elevated === 'true' ? 'is not' : 'is', null)
    const rows = await query.execute()
    return c.json({ entries: rows.map((r) => ({ ...r, at: r.at.toISOString() })) })
  })
  return app
}
