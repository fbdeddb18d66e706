/**
 * The portal: server-rendered pages over the same data as the API, and forms for the actions a
 * signed-in user may take. Signing in takes an API token once and opens a session (an HttpOnly,
 * SameSite=Strict cookie); every form carries the session's CSRF secret. Every URL is stable: the
 * accounts table's filters and sorting are query parameters, so a link shows what its sender saw.
 */
import type { Context } from 'hono'
import { Hono } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import { html } from 'hono/html'
import { FlotillaError, NotFoundError } from '../../core/errors.ts'
import { timePoliciesInForce } from '../../core/policy/in-force.ts'
import { resolveCommit } from '../../core/source/git.ts'
import { rolloutStatus } from '../../rollout/engine.ts'
import { fleetStop, listRollouts, loadRollout } from '../../rollout/rollout-store.ts'
import { appendAuditEntry } from '../../store/audit.ts'
import { listRolloutEvents } from '../../store/events.ts'
import { effectiveRole } from '../access/permissions.ts'
import { closeSession, openSession, SESSION_TTL_MS, tokenUser } from '../access/users-store.ts'
import {
  approvalsOf,
  approveFor,
  mayOperate,
  operate,
  type RolloutAction,
  startFor,
  stopFor,
  unstopFor,
} from '../actions.ts'
import { ERROR_STATUS, requireCsrf } from '../api/http-helpers.ts'
import { parseInstant, planRevision } from '../api/rollouts.ts'
import { ACCOUNT_SORTS, type AccountFilters, filterAccounts, filterClusters } from '../inventory-view.ts'
import { csrfValid, SESSION_COOKIE } from '../request-auth.ts'
import type { ServerDeps, ServerEnv } from '../server-deps.ts'
import { appliedRevision, pendingChanges, targetRollouts } from '../target-history.ts'
import { PORTAL_CSS, PORTAL_JS } from './assets.ts'
import { type Frame, type Html, page } from './layout.ts'
import { accountPage, accountsPage, clusterPage, clustersPage } from './pages-inventory.ts'
import { auditPage, planPage, rolloutPage, rolloutStatusFragment, rolloutsPage } from './pages-rollouts.ts'

type C = Context<ServerEnv>

/** What was applied to a target, and what the branch served would change in it. */
async function stateOf(deps: ServerDeps, target: string) {
  const report = deps.drift.last()
  const drift =
    report.checkedAt === null ? null : (report.targets.find((t) => t.id === target)?.addresses ?? [])
  const revert = report.reverts.find((r) => r.targets.includes(target)) ?? null
  return {
    applied: await appliedRevision(deps, target),
    pending: await pendingChanges(deps, target),
    drift,
    revert,
  }
}

/** The portal's routes. */
export function portalRoutes(deps: ServerDeps): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>()

  const frame = async (c: C, title: string, section: Frame['section']): Promise<Frame> => ({
    title,
    section,
    principal: c.get('principal'),
    csrf: c.get('csrf'),
    stop: await fleetStop(deps.db),
    inForce: timePoliciesInForce((await deps.fleets.snapshot()).fleet, deps.policyNow ?? new Date()),
  })
  /** Renders a page for a signed-in user; others are sent to the sign-in page. */
  const render = async (
    c: C,
    title: string,
    section: Frame['section'],
    content: () => Promise<Html> | Html,
  ) => {
    if (!c.get('principal'))
      return c.redirect(`/login?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search ?? ''))}`)
    return c.html(page(await frame(c, title, section), await content()))
  }
  /**
   * A form post: signed in, with the session's CSRF secret; then back to where the handler says,
   * or a page that says why it was refused (with the status the API would give).
   */
  const form =
    (
      handler: (
        c: C,
        field: (name: string) => string | undefined,
        fields: (name: string) => string[],
      ) => Promise<string>,
    ) =>
    async (c: C) => {
      const body = await c.req.parseBody({ all: true })
      const fields = (name: string) => ([] as unknown[]).concat(body[name] ?? []).map(String)
      const field = (name: string) => fields(name)[0]
      if (!c.get('principal')) return c.redirect('/login')
      requireCsrf(c, field('_csrf') ?? '')
      try {
        return c.redirect(await handler(c, field, fields), 303)
      } catch (error) {
        if (!(error instanceof FlotillaError)) throw error
        return c.html(
          page(
            await frame(c, 'Refused', 'none'),
            html`<h1>Refused</h1><div class="error" role="alert">${error.message}</div><p><a href="${c.req.header('referer') ?? '/'}">Back</a></p>`,
          ),
          ERROR_STATUS[error.kind],
        )
      }
    }

  app.get('/assets/portal.css', (c) =>
    c.body(PORTAL_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' }),
  )
  app.get('/assets/portal.js', (c) =>
    c.body(PORTAL_JS, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'max-age=300',
    }),
  )
  app.get('/', (c) => c.redirect('/accounts'))

  app.get('/login', async (c) => {
    const next = c.req.query('next') ?? '/accounts'
    const failed = c.req.query('failed') !== undefined
    return c.html(
      page(
        await frame(c, 'Sign in', 'none'),
        html`<h1>Sign in</h1>
          ${failed ? html`<div class="error" role="alert">That token is not valid (or was revoked).</div>` : ''}
          <form method="post" action="/login">
            <input type="hidden" name="next" value="${next}" />
            <label for="token">API token</label><br />
            <input id="token" name="token" type="password" autocomplete="off" required size="60" />
            <button class="primary" type="submit">Sign in</button>
          </form>
          <p class="muted">flotilla serve prints the first admin's token when it starts for the first time.</p>`,
      ),
    )
  })
  app.post('/login', async (c) => {
    const body = await c.req.parseBody()
    const user = await tokenUser(deps.db, String(body.token ?? '').trim())
    const next = String(body.next ?? '/accounts')
    const safeNext = next.startsWith('/') && !next.startsWith('//') ? next : '/accounts'
    if (!user) return c.redirect(`/login?failed&next=${encodeURIComponent(safeNext)}`, 303)
    const session = await openSession(deps.db, user)
    await appendAuditEntry(deps.db, {
      actor: user,
      action: 'sign-in',
      subject: user,
      source: c.get('source').replace(/^api /, 'portal '),
    })
    setCookie(c, SESSION_COOKIE, session.cookie, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      maxAge: SESSION_TTL_MS / 1000,
    })
    return c.redirect(safeNext, 303)
  })
  app.post('/logout', async (c) => {
    const id = c.get('sessionId')
    const body = await c.req.parseBody()
    if (id && csrfValid(c, String(body._csrf ?? ''))) await closeSession(deps.db, id)
    deleteCookie(c, SESSION_COOKIE, { path: '/' })
    return c.redirect('/login', 303)
  })

  app.get('/accounts', (c) =>
    render(c, 'Accounts', 'accounts', async () => {
      const { accounts } = await deps.fleets.snapshot()
      const q = c.req.query()
      const filters: AccountFilters = Object.fromEntries(
        (['environment', 'criticality', 'costCenter', 'team', 'q'] as const)
          .filter((k) => q[k])
          .map((k) => [k, q[k]!]),
      )
      const sort = (ACCOUNT_SORTS as readonly string[]).includes(q.sort ?? '')
        ? (q.sort as (typeof ACCOUNT_SORTS)[number])
        : 'name'
      const desc = q.order === 'desc'
      return accountsPage(accounts, filterAccounts(accounts, filters, sort, desc), filters, sort, desc)
    }),
  )
  app.get('/accounts/:id', (c) =>
    render(c, 'Account', 'accounts', async () => {
      const { accounts, fleet } = await deps.fleets.snapshot()
      const account = accounts.find((a) => a.id === c.req.param('id') || a.name === c.req.param('id'))
      if (!account) throw new NotFoundError(`no account ${c.req.param('id')}`)
      const stacks = (fleet.desired.get(account.id)?.stacks ?? []).map((s) => ({
        address: s.address,
        stackName: s.stackName,
        region: s.region,
        resources: Object.keys((s.template as { Resources?: object }).Resources ?? {}),
      }))
      return accountPage(
        account,
        stacks,
        await targetRollouts(deps, account.id),
        await stateOf(deps, account.id),
      )
    }),
  )
  app.get('/clusters', (c) =>
    render(c, 'Clusters', 'clusters', async () => {
      const { clusters } = await deps.fleets.snapshot()
      const q = c.req.query('q')
      return clustersPage(filterClusters(clusters, { q }), q, (id) => deps.health.get(id))
    }),
  )
  app.get('/clusters/:id', (c) =>
    render(c, 'Cluster', 'clusters', async () => {
      const { clusters, fleet } = await deps.fleets.snapshot()
      const cluster = clusters.find((r) => r.id === c.req.param('id') || r.alias === c.req.param('id'))
      if (!cluster) throw new NotFoundError(`no cluster ${c.req.param('id')}`)
      const target = fleet.targets.find((t) => t.id === cluster.id)!
      const health = await deps.registry
        .forTarget(target)
        .health(target)
        .catch(() => undefined)
      return clusterPage(
        cluster,
        (fleet.desired.get(cluster.id)?.manifests ?? []).map((m) => m.address),
        health,
        await targetRollouts(deps, cluster.id),
        await stateOf(deps, cluster.id),
      )
    }),
  )
  app.get('/plans', (c) =>
    render(c, 'Plan', 'plans', async () => {
      const rev = c.req.query('rev') || deps.fleets.ref
      const now = c.req.query('now')
      const commit = await resolveCommit(deps.fleets.repoDir, rev)
      const recorded = await approvalsOf(deps, commit)
      const given = [...(c.req.queries('approve') ?? []), ...recorded.map((r) => r.approval)]
      const { plan } = await planRevision(deps, commit, given, now ? parseInstant(now) : undefined)
      const principal = c.get('principal')!
      return planPage(plan, commit, rev, c.get('csrf'), effectiveRole(principal) !== 'viewer', recorded)
    }),
  )
  app.get('/rollouts', (c) =>
    render(c, 'Rollouts', 'rollouts', async () => {
      return rolloutsPage(await listRollouts(deps.db, { limit: 100 }), c.get('csrf'), true)
    }),
  )
  const fragment = async (c: C, id: string) => {
    const principal = c.get('principal')!
    const status = await rolloutStatus(deps.db, id)
    const operable = (await mayOperate(deps, principal, id, 'operate')).allowed
    return {
      status,
      html: rolloutStatusFragment(
        status,
        { operate: operable, approve: operable && principal.name !== status.createdBy },
        c.get('csrf'),
      ),
    }
  }
  app.get('/rollouts/:id', (c) =>
    render(c, 'Rollout', 'rollouts', async () => {
      const id = c.req.param('id')
      if (!(await loadRollout(deps.db, id))) throw new NotFoundError(`no rollout ${id}`)
      const { status, html: live } = await fragment(c, id)
      const last = (await listRolloutEvents(deps.db, id)).at(-1)?.id ?? 0
      return rolloutPage(status, live, last)
    }),
  )
  app.get('/rollouts/:id/status', async (c) => {
    if (!c.get('principal')) return c.text('sign in', 401)
    return c.html((await fragment(c, c.req.param('id'))).html)
  })
  app.get('/audit', (c) =>
    render(c, 'Audit', 'audit', async () => {
      const actor = c.req.query('actor') || undefined
      const action = c.req.query('action') || undefined
      let query = deps.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(200)
      if (actor) query = query.where('actor', '=', actor)
      if (action) query = query.where('action', '=', action)
      return auditPage(await query.execute(), { ...(actor ? { actor } : {}), ...(action ? { action } : {}) })
    }),
  )

  app.post(
    '/rollouts',
    form(async (c, field) => {
      const approvals = (field('approvals') ?? '')
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean)
      const started = await startFor(deps, c.get('principal')!, c.get('source'), {
        rev: field('rev') || undefined,
        approvals,
      })
      return `/rollouts/${started.id}`
    }),
  )
  for (const action of [
    'pause',
    'resume',
    'abort',
    'approve',
    'retry',
    'skip',
  ] as const satisfies readonly RolloutAction[]) {
    app.post(
      `/rollouts/:id/${action}`,
      form(async (c, field) => {
        const id = c.req.param('id')!
        await operate(deps, c.get('principal')!, c.get('source'), id, action, field('target'))
        return `/rollouts/${id}`
      }),
    )
  }
  app.post(
    '/approvals',
    form(async (c, field, fields) => {
      const rev = field('rev') ?? deps.fleets.ref
      const commit = await approveFor(deps, c.get('principal')!, c.get('source'), rev, fields('approval'))
      return `/plans?rev=${commit}`
    }),
  )
  app.post(
    '/stop',
    form(async (c, field) => {
      await stopFor(
        deps,
        c.get('principal')!,
        c.get('source'),
        (field('reason') ?? '').trim() || 'stopped from the portal',
      )
      return c.req.header('referer') && new URL(c.req.header('referer')!).host === new URL(c.req.url).host
        ? new URL(c.req.header('referer')!).pathname
        : '/rollouts'
    }),
  )
  app.post(
    '/unstop',
    form(async (c) => {
      await unstopFor(deps, c.get('principal')!, c.get('source'))
      return '/rollouts'
    }),
  )
  return app
}
