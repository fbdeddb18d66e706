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
import type { Plan } from '../../core/model/plan.ts'
import type { TrustedFleet } from '../../core/plan/judgement.ts'
import { parseApproval } from '../../core/policy/approvals.ts'
import { type PolicyTime, systemClock } from '../../core/policy/policy-time.ts'
import { rolloutStatus } from '../../rollout/engine.ts'
import { previewRollout } from '../../rollout/preview.ts'
import { FINAL_STATES, ROLLOUT_STATES } from '../../rollout/rollout-model.ts'
import { listRollouts, loadRollout } from '../../rollout/rollout-store.ts'
import { resolveCommit } from '../../source/git.ts'
import { listRolloutEvents } from '../../store/events.ts'
import { approvalsCountingFor, approvalsOf, approveFor, operate, startFor } from '../actions.ts'
import type { PlanCache } from '../plan-cache.ts'
import { INT32_MAX, intParam } from '../request-guard.ts'
import { LimitFull } from '../request-limits.ts'
import type { ServerDeps, ServerEnv } from '../server-deps.ts'
import { serverTrust, trustedFleetOf } from '../trusted-branch.ts'
import { changer, jsonBody, limitParam, oneOf, RetryLater, signedIn } from './http-helpers.ts'

export const startBody = z.strictObject({
  rev: z
    .string()
    .min(1)
    .optional()
    .describe('The git revision to roll out; the branch the server follows by default.'),
  approvals: z.array(z.string().min(1)).default([]).describe('Approvals, as for flotilla plan --approve.'),
  commit: z
    .string()
    .regex(/^[0-9a-f]{40}$/, {
      message: 'a full commit id (40 hex digits), as GET /api/rollouts/preview returns it',
    })
    .optional()
    .describe(
      'The commit the caller previewed (GET /api/rollouts/preview): the start is refused (409) when rev has moved since.',
    ),
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

/** What `Retry-After` says when plans are busy. */
const PLAN_RETRY_SECONDS = 5

/**
 * The plan of a revision against the observed fleet, as `flotilla plan` without `--base` makes it;
 * with `only`, of that one target (`--target`). Policies see the server's clock; `whatIf` — a
 * time a reader chose (`?now=`) — makes a read-only preview, marked `what-if`, that nothing is
 * ever started from (a rollout plans again, at the clock's time).
 */
export async function planRevision(
  deps: ServerDeps,
  rev: string,
  approvals: readonly string[],
  whatIf: Date | undefined,
  only?: string,
): Promise<{ commit: string; fleet: Fleet; plan: Plan }> {
  // Planning observes the whole fleet: bounded, so that readers cannot starve the server.
  return observingWork(deps, () => computePlan(deps, rev, approvals, whatIf, only))
}

/**
 * Runs work that observes the whole fleet (a plan, a drift check) under the server's limit on
 * such work: a 503 with `Retry-After` when as many run and wait as may.
 */
export async function observingWork<T>(deps: ServerDeps, work: () => Promise<T>): Promise<T> {
  try {
    return await deps.planLimit.run(work)
  } catch (error) {
    if (!(error instanceof LimitFull)) throw error
    const { running, queued } = deps.planLimit.settings
    throw new RetryLater(
      503,
      PLAN_RETRY_SECONDS,
      `the server is computing as many plans and drift checks as it may (${running} at once, ${queued} waiting); retry in ${PLAN_RETRY_SECONDS} seconds`,
    )
  }
}

async function computePlan(
  deps: ServerDeps,
  rev: string,
  approvals: readonly string[],
  whatIf: Date | undefined,
  only: string | undefined,
): Promise<{ commit: string; fleet: Fleet; plan: Plan }> {
  const commit = await resolveCommit(deps.fleets.repoDir, rev)
  const time = policyTimeOf(deps, whatIf)
  const trusted = trustedFleetOf(await serverTrust(deps))
  const { fleet, plan } = await deps.app.planCommit(
    commit,
    {
      approvals: approvals.map(parseApproval),
      time,
      ...(only === undefined ? {} : { only }),
      ...(trusted ? { trusted } : {}),
    },
    deps.engine,
  )
  return { commit, fleet, plan }
}

/** The time a plan's policies see: a what-if time, or the server's policy clock. */
function policyTimeOf(deps: ServerDeps, whatIf: Date | undefined): PolicyTime {
  return whatIf
    ? { at: whatIf.toISOString(), source: 'what-if' as const }
    : (deps.engine.policyClock ?? systemClock)()
}

/**
 * The whole fleet's plan of `rev` from the server's plan cache (`plan-cache.ts`): computed at
 * most once per head, observed state, approvals and (when policies read it) time.
 */
export async function cachedPlanRevision(
  deps: ServerDeps,
  rev: string,
  approvals: readonly string[],
  whatIf: Date | undefined,
): Promise<{ commit: string; fleet: Fleet; plan: Plan }> {
  const commit = await deps.fleets.resolve(rev)
  const plan = await deps.plans.plan(commit, approvals, policyTimeOf(deps, whatIf))
  return { commit, fleet: await deps.engine.loadRevision(commit), plan }
}

/**
 * The plan of `commit` when the cache has it, or what is being computed (started now if nothing
 * was): for the portal, which shows progress instead of waiting.
 */
export function peekPlan(
  deps: ServerDeps,
  commit: string,
  approvals: readonly string[],
  whatIf: Date | undefined,
): ReturnType<PlanCache['peek']> {
  return deps.plans.peek(commit, approvals, policyTimeOf(deps, whatIf))
}

/**
 * Computes a whole-fleet plan for the cache, under the server's limit on such work, judged by the
 * trusted revision's rules too (a change that deletes its own guard is shown held, as its start
 * would be).
 */
export function planForCache(
  deps: ServerDeps,
  commit: string,
  approvals: readonly string[],
  time: PolicyTime,
  trusted: TrustedFleet | undefined,
): Promise<Plan> {
  return observingWork(deps, async () => {
    const { plan } = await deps.app.planCommit(
      commit,
      { approvals: approvals.map(parseApproval), time, ...(trusted ? { trusted } : {}) },
      deps.engine,
    )
    return plan
  })
}

/** `/api/plans`, `/api/rollouts…`. */
export function rolloutRoutes(deps: ServerDeps): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>()
  app.get('/plans', async (c) => {
    signedIn(c)
    const q = c.req.queries()
    const now = c.req.query('now')
    const { plan, commit } = await cachedPlanRevision(
      deps,
      c.req.query('rev') ?? deps.fleets.ref,
      q.approve ?? [],
      now ? parseInstant(now) : undefined,
    )
    return c.json({ revision: commit, base: 'observed', plan })
  })

  // What a rollout would do, as the portal shows it before its confirmation; starts nothing.
  app.get('/rollouts/preview', async (c) => {
    const principal = signedIn(c)
    const rev = c.req.query('rev') ?? deps.fleets.ref
    const { commit, fleet, plan: unapproved } = await cachedPlanRevision(deps, rev, [], undefined)
    const counted = await approvalsCountingFor(deps, principal, commit, unapproved)
    const plan =
      counted.length > 0 ? (await cachedPlanRevision(deps, commit, counted, undefined)).plan : unapproved
    return c.json({ ref: rev, commit, preview: previewRollout(fleet, plan) })
  })

  app.get('/approvals', async (c) => {
    signedIn(c)
    const commit = await deps.fleets.resolve(c.req.query('rev') ?? deps.fleets.ref)
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
      confirmedCommit: body.commit,
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
    const lastEventId = c.req.header('last-event-id')
    const resumeFrom = intParam(
      lastEventId === undefined ? 'query parameter after' : 'header Last-Event-ID',
      lastEventId ?? c.req.query('after'),
      { min: 0, max: INT32_MAX, fallback: 0 },
    )
    if (!(await loadRollout(deps.db, id))) throw new NotFoundError(`no rollout ${id}`)
    return streamSSE(c, async (stream) => {
      let last = resumeFrom
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
  // The store keeps times from 4713 BC on; a time policies see is one of this era in any case.
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999)
    throw new InputError(`now=${JSON.stringify(text)} is not an ISO 8601 time such as 2026-11-10T10:00:00Z`)
  return date
}
