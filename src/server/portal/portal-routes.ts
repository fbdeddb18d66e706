/**
 * The portal: server-rendered pages over the same data as the API, and forms for the actions a
 * signed-in user may take. Signing in takes an API token once and opens a session (see
 * `sign-in.ts`); every form carries the session's CSRF secret. Every URL is stable: the accounts
 * table's filters and sorting are query parameters, so a link shows what its sender saw.
 */

import type { Context } from 'hono'
import { Hono } from 'hono'
import { html } from 'hono/html'
import { effectiveRole } from '../../app/access/permissions.ts'
import {
  ACCOUNT_SORTS,
  type AccountFilters,
  CLUSTER_SORTS,
  type ClusterFilters,
  type ClusterSort,
  filterAccounts,
  filterClusters,
  sortClusters,
} from '../../app/inventory-view.ts'
import { RepositoryFollower } from '../../controller/follower.ts'
import { isFlotillaError, NotFoundError } from '../../core/errors.ts'
import { timePoliciesInForce } from '../../core/policy/in-force.ts'
import { systemClock } from '../../core/policy/policy-time.ts'
import { rolloutStatus } from '../../rollout/engine.ts'
import { previewRollout } from '../../rollout/preview.ts'
import { fleetStop, listRollouts, loadRollout } from '../../rollout/rollout-store.ts'
import { rolloutProgress } from '../../rollout/target-rows-store.ts'
import { commitSubjects } from '../../source/git.ts'
import { listRolloutEvents } from '../../store/events.ts'
import {
  approvalsCountingFor,
  approvalsOf,
  approveFor,
  mayApproveStage,
  mayOperate,
  operate,
  type RolloutAction,
  startFor,
  stopFor,
  unstopFor,
} from '../actions.ts'
import {
  ERROR_STATUS,
  errorHeaders,
  errorMessage,
  refuseClockFields,
  requireCsrf,
} from '../api/http-helpers.ts'
import { parseInstant, peekPlan } from '../api/rollouts.ts'
import { approvableBy, countApprovals } from '../approval-rights.ts'
import { bootstrapBanner } from '../bootstrap-routes.ts'
import type { ServerDeps, ServerEnv } from '../server-deps.ts'
import { appliedRevision, pendingChanges, targetRollouts } from '../target-history.ts'
import { FAVICON_SVG, PORTAL_CSS, PORTAL_JS } from './assets.ts'
import { type Frame, type Html, page } from './layout.ts'
import { accountPage, accountsPage, clusterPage, clustersPage } from './pages-inventory.ts'
import { PROGRESS_REFRESH_SECONDS, planPage, planProgressPage } from './pages-plan.ts'
import {
  auditPage,
  rolloutConfirmPage,
  rolloutPage,
  rolloutStatusFragment,
  rolloutsPage,
  targetEventsPage,
} from './pages-rollouts.ts'
import { sameSitePath } from './redirects.ts'
import { signInRoutes } from './sign-in.ts'

type C = Context<ServerEnv>

/** The path of the page a form was sent from, when it is a page of this site. */
function sameSiteReferer(c: C): string | undefined {
  const referer = c.req.header('referer')
  if (!referer || !URL.canParse(referer)) return undefined
  const url = new URL(referer)
  if (url.host !== new URL(c.req.url).host) return undefined
  const path = sameSitePath(url.pathname + url.search)
  return path === url.pathname + url.search ? path : undefined
}

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

/** A plan being computed: its progress, on a page that reloads itself until the plan is there. */
function computing(c: C, progress: Parameters<typeof planProgressPage>[0], commit: string) {
  c.header('Refresh', String(PROGRESS_REFRESH_SECONDS))
  return planProgressPage(progress, commit, PROGRESS_REFRESH_SECONDS)
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
    inForce: timePoliciesInForce(
      (await deps.fleets.snapshot()).fleet,
      new Date((deps.engine.policyClock ?? systemClock)().at),
    ),
    notices: bootstrapBanner(deps.bootstrap),
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
        refuseClockFields([...Object.keys(body), ...Object.keys(c.req.query())], 'form field')
        return c.redirect(await handler(c, field, fields), 303)
      } catch (error) {
        if (!isFlotillaError(error)) throw error
        return c.html(
          page(
            await frame(c, 'Refused', 'none'),
            html`<h1>Refused</h1><div class="error" role="alert">${errorMessage(error)}</div><p><a href="${sameSiteReferer(c) ?? '/'}">Back</a></p>`,
          ),
          ERROR_STATUS[error.kind],
          errorHeaders(error),
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
  const favicon = (c: C) =>
    c.body(FAVICON_SVG, 200, { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=86400' })
  app.get('/favicon.svg', favicon)
  app.get('/favicon.ico', favicon)
  app.get('/', (c) => c.redirect('/accounts'))

  app.route('/', signInRoutes(deps, frame))

  app.get('/accounts', (c) =>
    render(c, 'Accounts', 'accounts', async () => {
      const { accounts } = await deps.fleets.snapshot()
      const q = c.req.query()
      const filters: AccountFilters = Object.fromEntries(
        (['environment', 'criticality', 'costCenter', 'team', 'channel', 'group', 'q'] as const)
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
        resources: Object.entries(
          (s.template as { Resources?: Record<string, { Type?: unknown }> }).Resources ?? {},
        ).map(([logicalId, r]) => ({ logicalId, type: String(r?.Type ?? '') })),
      }))
      const target = fleet.targets.find((t) => t.id === account.id)!
      const health = await deps.app.registry
        .forTarget(target)
        .health(target)
        .catch(() => undefined)
      return accountPage(
        account,
        stacks,
        health,
        await targetRollouts(deps, account.id),
        await stateOf(deps, account.id),
      )
    }),
  )
  app.get('/clusters', (c) =>
    render(c, 'Clusters', 'clusters', async () => {
      const { clusters } = await deps.fleets.snapshot()
      const q = c.req.query()
      const filters: ClusterFilters = Object.fromEntries(
        (['environment', 'channel', 'team', 'q'] as const).filter((k) => q[k]).map((k) => [k, q[k]!]),
      )
      const sort = (CLUSTER_SORTS as readonly string[]).includes(q.sort ?? '')
        ? (q.sort as ClusterSort)
        : 'alias'
      const desc = q.order === 'desc'
      return clustersPage(
        clusters,
        sortClusters(filterClusters(clusters, filters), sort, desc),
        filters,
        sort,
        desc,
        (id) => deps.health.get(id),
      )
    }),
  )
  app.get('/clusters/:id', (c) =>
    render(c, 'Cluster', 'clusters', async () => {
      const { clusters, fleet } = await deps.fleets.snapshot()
      const cluster = clusters.find((r) => r.id === c.req.param('id') || r.alias === c.req.param('id'))
      if (!cluster) throw new NotFoundError(`no cluster ${c.req.param('id')}`)
      const target = fleet.targets.find((t) => t.id === cluster.id)!
      const provider = deps.app.registry.forTarget(target)
      // Its health and its nodes as the provider sees them now (one cluster: cheap).
      const [health, observed] = await Promise.all([
        provider.health(target).catch(() => undefined),
        provider
          .observe([target])
          .then((m) => m.get(target.id)?.nodes)
          .catch(() => undefined),
      ])
      return clusterPage(
        cluster,
        (fleet.desired.get(cluster.id)?.manifests ?? []).map((m) => m.address),
        health,
        observed,
        await targetRollouts(deps, cluster.id),
        await stateOf(deps, cluster.id),
      )
    }),
  )
  app.get('/plans', (c) =>
    render(c, 'Plan', 'plans', async () => {
      const rev = c.req.query('rev') || deps.fleets.ref
      const now = c.req.query('now')
      const commit = await deps.fleets.resolve(rev)
      const at = now ? parseInstant(now) : undefined
      const principal = c.get('principal')!
      const recorded = await approvalsOf(deps, commit)
      const asked = c.req.queries('approve') ?? []
      // The verdict as it would be if the signed-in user started the rollout: only approvals that
      // count for them (not their own, only their owners'). Plans come from the server's cache;
      // one not computed yet is started and the page says so, and reloads, instead of waiting.
      const first = await peekPlan(deps, commit, [], at)
      if ('computing' in first) return computing(c, first.computing, commit)
      const unapproved = first.plan
      const judged = await countApprovals(deps, commit, unapproved, recorded, principal.name)
      const counted = judged.counted.map((a) => a.approval)
      let plan = unapproved
      if (asked.length > 0 || counted.length > 0) {
        const approved = await peekPlan(deps, commit, [...asked, ...counted], at)
        if ('computing' in approved) return computing(c, approved.computing, commit)
        plan = approved.plan
      }
      const why = new Map(judged.discounted.map((d) => [`${d.givenBy} ${d.approval}`, d.why]))
      const view = {
        rev,
        page: Math.max(1, Number.parseInt(c.req.query('page') ?? '1', 10) || 1),
        ...(c.req.query('approvals') ? { allApprovalsOf: c.req.query('approvals')! } : {}),
        keep: now ? { now } : {},
      }
      return planPage(
        plan,
        commit,
        view,
        c.get('csrf'),
        effectiveRole(principal) !== 'viewer',
        {
          recorded: recorded.map((r) => {
            const reason = why.get(`${r.givenBy} ${r.approval}`)
            return { ...r, ...(reason ? { why: reason } : {}) }
          }),
          approvable: await approvableBy(deps, principal, commit, unapproved, plan.approvalsRequired),
        },
        await RepositoryFollower.testOf(deps.db, commit),
      )
    }),
  )
  // Before anything moves: what a rollout of the revision would do, and a button to confirm it.
  app.get('/rollouts/new', (c) =>
    render(c, 'Start a rollout', 'rollouts', async () => {
      const rev = c.req.query('rev') || deps.fleets.ref
      const commit = await deps.fleets.resolve(rev)
      const first = await peekPlan(deps, commit, [], undefined)
      if ('computing' in first) return computing(c, first.computing, commit)
      const counted = await approvalsCountingFor(deps, c.get('principal')!, commit, first.plan)
      const approved = counted.length > 0 ? await peekPlan(deps, commit, counted, undefined) : first
      if ('computing' in approved) return computing(c, approved.computing, commit)
      const preview = previewRollout(await deps.engine.loadRevision(commit), approved.plan)
      return rolloutConfirmPage(preview, rev, commit, c.get('csrf'))
    }),
  )
  app.get('/rollouts', (c) =>
    render(c, 'Rollouts', 'rollouts', async () => {
      const rows = await listRollouts(deps.db, { limit: 100 })
      const ids = rows.map((r) => r.id)
      const [progress, subjects] = await Promise.all([
        rolloutProgress(deps.db, ids),
        commitSubjects(
          deps.fleets.repoDir,
          rows.map((r) => r.revision),
        ),
      ])
      return rolloutsPage(
        rows.map((r) => ({ ...r, progress: progress.get(r.id), subject: subjects.get(r.revision) })),
        true,
      )
    }),
  )
  /** Every target's name by id (accounts by name, clusters by alias), from the branch served. */
  const targetNames = async (): Promise<Map<string, string>> => {
    const { accounts, clusters } = await deps.fleets.snapshot()
    return new Map([
      ...accounts.map((a) => [a.id, a.name] as const),
      ...clusters.map((r) => [r.id, r.alias] as const),
    ])
  }
  const fragment = async (c: C, id: string) => {
    const principal = c.get('principal')!
    const status = await rolloutStatus(deps.db, id)
    const operable = (await mayOperate(deps, principal, id, 'operate')).allowed
    const approvable =
      status.state === 'waiting-approval' && (await mayApproveStage(deps, principal, id)).allowed
    return {
      status,
      html: rolloutStatusFragment(
        status,
        { operate: operable, approve: approvable },
        c.get('csrf'),
        await targetNames(),
        new Date(),
      ),
    }
  }
  app.get('/rollouts/:id', (c) =>
    render(c, 'Rollout', 'rollouts', async () => {
      const id = c.req.param('id')
      if (!(await loadRollout(deps.db, id))) throw new NotFoundError(`no rollout ${id}`)
      // The last event before the status: an event between the two reads is then sent again (a
      // harmless refresh), never skipped — a rollout paused just then would show running for good.
      const last = (await listRolloutEvents(deps.db, id)).at(-1)?.id ?? 0
      const { status, html: live } = await fragment(c, id)
      return rolloutPage(status, live, last)
    }),
  )
  app.get('/rollouts/:id/targets/:target', (c) =>
    render(c, 'Target events', 'rollouts', async () => {
      const id = c.req.param('id')
      const target = c.req.param('target')
      if (!(await loadRollout(deps.db, id))) throw new NotFoundError(`no rollout ${id}`)
      const events = await listRolloutEvents(deps.db, id, { target })
      return targetEventsPage(id, target, (await targetNames()).get(target), events)
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
      // Nothing starts unconfirmed: a form without the confirmation goes to the page that asks.
      if (field('confirm') !== 'yes')
        return `/rollouts/new?rev=${encodeURIComponent(field('rev') || deps.fleets.ref)}`
      // The starter's own approvals never count: approvals are recorded on the plan page instead.
      const started = await startFor(deps, c.get('principal')!, c.get('source'), {
        rev: field('rev') || undefined,
        approvals: [],
        confirmedCommit: field('commit') || undefined,
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
      return sameSiteReferer(c) ?? '/rollouts'
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
