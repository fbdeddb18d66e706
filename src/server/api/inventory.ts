/** Read-only routes over the inventory: teams, accounts and clusters, with filters. */
import { Hono } from 'hono'
import { ACCOUNT_SORTS, filterAccounts, filterClusters } from '../../app/inventory-view.ts'
import { NotFoundError } from '../../core/errors.ts'
import { ENVIRONMENTS } from '../../core/model/common.ts'
import type { ServerDeps, ServerEnv } from '../server-deps.ts'
import { appliedRevision, pendingChanges, targetRollouts } from '../target-history.ts'
import { oneOf, signedIn } from './http-helpers.ts'

/** `GET /api/teams`, `/api/accounts`, `/api/accounts/:id`, `/api/clusters`, `/api/clusters/:id`. */
export function inventoryRoutes(deps: ServerDeps): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>()
  app.get('/teams', async (c) => {
    signedIn(c)
    const { fleet, commit } = await deps.fleets.snapshot()
    return c.json({
      revision: commit,
      teams: [...fleet.teams.values()].map((t) => ({
        id: t.id,
        name: t.name,
        costCenter: t.costCenter ?? null,
        members: t.members,
      })),
    })
  })
  app.get('/accounts', async (c) => {
    signedIn(c)
    const { accounts, commit } = await deps.fleets.snapshot()
    const q = c.req.query()
    const rows = filterAccounts(
      accounts,
      {
        ...(q.environment ? { environment: oneOf('environment', q.environment, ENVIRONMENTS)! } : {}),
        ...(q.criticality ? { criticality: q.criticality } : {}),
        ...(q.costCenter ? { costCenter: q.costCenter } : {}),
        ...(q.team ? { team: q.team } : {}),
        ...(q.channel ? { channel: q.channel } : {}),
        ...(q.group ? { group: q.group } : {}),
        ...(q.q ? { q: q.q } : {}),
      },
      oneOf('sort', q.sort, ACCOUNT_SORTS) ?? 'name',
      oneOf('order', q.order, ['asc', 'desc'] as const) === 'desc',
    )
    return c.json({ revision: commit, total: accounts.length, count: rows.length, accounts: rows })
  })
  app.get('/accounts/:id', async (c) => {
    signedIn(c)
    const { accounts, fleet, commit } = await deps.fleets.snapshot()
    const id = c.req.param('id')
    const row = accounts.find((a) => a.id === id || a.name === id)
    if (!row) throw new NotFoundError(`no account ${id} in revision ${commit.slice(0, 12)}`)
    const desired = fleet.desired.get(row.id)
    const recent = await targetRollouts(deps, row.id)
    return c.json({
      revision: commit,
      account: row,
      stacks: (desired?.stacks ?? []).map((s) => ({
        address: s.address,
        stackName: s.stackName,
        region: s.region,
        source: s.source,
        resources: Object.keys((s.template as { Resources?: object }).Resources ?? {}),
      })),
      rollouts: recent,
      applied: await appliedRevision(deps, row.id),
      pending: await pendingChanges(deps, row.id),
    })
  })
  app.get('/clusters', async (c) => {
    signedIn(c)
    const { clusters, commit } = await deps.fleets.snapshot()
    const q = c.req.query()
    const rows = filterClusters(clusters, {
      environment: q.environment,
      channel: q.channel,
      team: q.team,
      q: q.q,
    })
    return c.json({
      revision: commit,
      total: clusters.length,
      count: rows.length,
      clusters: rows.map((r) => {
        const h = deps.health.get(r.id)
        return { ...r, health: { ...h, at: h.at?.toISOString() ?? null } }
      }),
    })
  })
  app.get('/clusters/:id', async (c) => {
    signedIn(c)
    const { clusters, fleet, commit } = await deps.fleets.snapshot()
    const id = c.req.param('id')
    const row = clusters.find((r) => r.id === id || r.alias === id)
    if (!row) throw new NotFoundError(`no cluster ${id} in revision ${commit.slice(0, 12)}`)
    const health = await deps.app.registry
      .forTarget(fleet.targets.find((t) => t.id === row.id)!)
      .health(fleet.targets.find((t) => t.id === row.id)!)
    return c.json({
      revision: commit,
      cluster: row,
      manifests: (fleet.desired.get(row.id)?.manifests ?? []).map((m) => m.address),
      health,
      rollouts: await targetRollouts(deps, row.id),
      applied: await appliedRevision(deps, row.id),
      pending: await pendingChanges(deps, row.id),
    })
  })
  return app
}
