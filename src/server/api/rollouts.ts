/**
 * Plans and rollouts: a revision's plan against the observed fleet, starting rollouts (with
 * approvals), their status, the operator controls, and their events as a Server-Sent Events
 * stream. Members act only on rollouts whose every target belongs to one of their teams.
 */
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { z } from 'zod'
import { InputError, NotFoundError } from '../../core/errors.ts'
import type { Fleet } from '../../core/model/fleet-model.ts'
import type { Plan } from '../../core/plan/plan-model.ts'
import { parseApproval } from '../../core/policy/approvals.ts'
import { resolveCommit } from '../../core/source/git.ts'
import { planAgainstObserved } from '../../operations/observed-fleet.ts'
import { rolloutStatus } from '../../rollout/engine.ts'
import { FINAL_STATES, ROLLOUT_STATES } from '../../rollout/rollout-model.ts'
import { listRollouts, loadRollout } from '../../rollout/rollout-store.ts'
import { listRolloutEvents } from '../../store/events.ts'
import { approvalsOf, approveFor, operate, startFor } from '../actions.ts'
import type { ServerDeps, ServerEnv } from '../server-deps.ts'
import { changer, jsonBody, limitParam, oneOf, signedIn } from './http-helpers.ts'

export const startBody = z.strictObject({
  rev: z
    .string()
    .min(1)
    .optional()
    .describe('The git revision to roll out; the branch the server follows by default.'),
  approvals: z.array(z.string().min(1)).default([]).describe('Approvals, as for flotilla plan --approve.'),
  now: z.iso.datetime({ offset: true }).optional().describe('The time policies see, in ISO 8601.'),
})
export const targetBody = z.strictObject({ target: z.string().min(1) })
export const approvalsBody = z.strictObject({
  rev: z
    .string()
    .min(1)
    .optional()
    .describe('The git revision approved; the branch the server follows by default.'),
  approvals: z
    .array(z.string().min(1))
    .min(1)
    .describe('Addresses, or "PATTERN (expected N)", as the plan lists them.'),
})

/** How often the event stream looks for new events. */
const STREAM_POLL_MS = 500

/**
 * The plan of a revision against the observed fleet, as `flotilla plan` without `--base` makes it;
 * with `only`, of that one target (`--target`).
 */
export async function planRevision(
  deps: ServerDeps,
  rev: string,
  approvals: readonly string[],
  now: Date | undefined,
  only?: string,
): Promise<{ commit: string; fleet: Fleet; plan: Plan }> {
  const commit = await resolveCommit(deps.fleets.repoDir, rev)
  const fleet = await deps.engine.loadRevision(commit)
  await deps.sim.seed(fleet.targets, fleet.clusters)
  const include = only === undefined ? () => true : (t: { id: string }) => t.id === only
  const policyNow = now ?? deps.policyNow
  const { outcome } = await planAgainstObserved(fleet, deps.registry, deps.db, {
    include,
    approvals: approvals.map(parseApproval),
    ...(policyNow ? { now: policyNow } : {}),
  })
  if (!outcome.ok) throw new InputError(`revision ${commit.slice(0, 12)} cannot be planned`, outcome.errors)
  return { commit, fleet, plan: outcome.plan }
}

/** `/api/plans`, `/api/rollouts…`. */
export function rolloutRoutes(deps: ServerDeps): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>()
  app.get('/plans', async (c) => {
    signedIn(c)
    const q = c.req.queries()
    const now = c.req.query('now')
    const { plan, commit } = await planRevision(
      deps,
      c.req.query('rev') ?? deps.fleets.ref,
      q.approve ?? [],
      now ? parseInstant(now) : undefined,
    )
    return c.json({ revision: commit, base: 'observed', plan })
  })

  app.get('/approvals', async (c) => {
    signedIn(c)
    const commit = await resolveCommit(deps.fleets.repoDir, c.req.query('rev') ?? deps.fleets.ref)
    const approvals = await approvalsOf(deps, commit)
    return c.json({ revision: commit, approvals: approvals.map((a) => ({ ...a, at: a.at.toISOString() })) })
  })
  app.post('/approvals', async (c) => {
    const principal = changer(c)
    const body = await jsonBody(c, approvalsBody)
    const commit = await approveFor(
      deps,
      principal,
      c.get('source'),
      body.rev ?? deps.fleets.ref,
      body.approvals,
    )
    return c.json({ revision: commit, approvals: body.approvals, givenBy: principal.name }, 201)
  })

  app.get('/rollouts', async (c) => {
    signedIn(c)
    const state = oneOf('state', c.req.query('state'), ROLLOUT_STATES)
    const limit = limitParam(c.req.query('limit'), 50, 500)
    return c.json({ rollouts: await listRollouts(deps.db, { state, limit }) })
  })

  app.post('/rollouts', async (c) => {
    const principal = changer(c)
    const body = await jsonBody(c, startBody)
    const started = await startFor(deps, principal, c.get('source'), {
      rev: body.rev,
      approvals: body.approvals,
      now: body.now ? parseInstant(body.now) : undefined,
    })
    return c.json({ id: started.id, state: started.state, queuedBehind: started.queuedBehind }, 201)
  })

  app.get('/rollouts/:id', async (c) => {
    signedIn(c)
    return c.json(await rolloutStatus(deps.db, c.req.param('id')))
  })

  for (const action of ['pause', 'resume', 'abort', 'approve', 'retry', 'skip'] as const) {
    app.post(`/rollouts/:id/${action}`, async (c) => {
      const principal = changer(c)
      const id = c.req.param('id')
      const target =
        action === 'retry' || action === 'skip' ? (await jsonBody(c, targetBody)).target : undefined
      await operate(deps, principal, c.get('source'), id, action, target)
      return c.json(await rolloutStatus(deps.db, id))
    })
  }

  app.get('/rollouts/:id/events', async (c) => {
    signedIn(c)
    const id = c.req.param('id')
    if (!(await loadRollout(deps.db, id))) throw new NotFoundError(`no rollout ${id}`)
    const resumeFrom = Number(c.req.header('last-event-id') ?? c.req.query('after') ?? 0)
    return streamSSE(c, async (stream) => {
      let last = Number.isFinite(resumeFrom) ? resumeFrom : 0
      let open = true
      stream.onAbort(() => {
        open = false
      })
      while (open) {
        const state = (await loadRollout(deps.db, id))?.state
        for (const event of await listRolloutEvents(deps.db, id, { afterId: last })) {
          last = event.id
          await stream.writeSSE({ id: String(event.id), event: 'rollout-event', data: JSON.stringify(event) })
        }
        if (!state || FINAL_STATES.has(state)) {
          await stream.writeSSE({ event: 'end', data: JSON.stringify({ state: state ?? null }) })
          break
        }
        await stream.sleep(STREAM_POLL_MS)
      }
    })
  })
  return app
}

/** An ISO 8601 instant from a query or body; a 400 otherwise. */
export function parseInstant(text: string): Date {
  const date = new Date(text)
  if (Number.isNaN(date.getTime()))
    throw new InputError(`now=${JSON.stringify(text)} is not an ISO 8601 time such as 2026-11-10T10:00:00Z`)
  return date
}
