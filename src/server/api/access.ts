/**
 * Who am I; tokens (each user lists, mints and revokes their own; admins anyone's); and — for
 * admins — users, disabling them, and emergency access (which its holder may also end early).
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { effectiveRole, mayAdminister, type Principal, ROLES } from '../../app/access/permissions.ts'
import { LONGEST_TOKEN_DAYS } from '../../app/access/tokens-store.ts'
import { NotFoundError } from '../../core/errors.ts'
import type { ServerDeps, ServerEnv } from '../server-deps.ts'
import { changer, enforce, jsonBody, signedIn } from './http-helpers.ts'

export const userBody = z.strictObject({ name: z.string().min(1), role: z.enum(ROLES) })
export const tokenBody = z.strictObject({
  label: z.string().trim().min(1).max(100),
  expiresInDays: z
    .int()
    .min(1)
    .max(LONGEST_TOKEN_DAYS)
    .optional()
    .describe('The token expires this many days from now. Not with expiresAt.'),
  expiresAt: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('The token expires at this time (ISO 8601). Not with expiresInDays.'),
})
export const elevationBody = z.strictObject({
  reason: z.string().trim().min(10, 'say what is happening, in at least 10 characters'),
  minutes: z.int().min(1).max(480),
})

/** Whether `principal` may act on `user`'s tokens: their own, or as an admin (an elevation does not count). */
function ownOrAdmin(principal: Principal, user: string, what: string): void {
  if (principal.name === user) return
  const admin = mayAdminister(principal)
  if (!admin.allowed)
    enforce({ allowed: false, reason: `only ${user} and admins may ${what}; ${admin.reason}` })
}

/** `/api/me`, `/api/users…`, `/api/tokens…`. */
export function accessRoutes(deps: ServerDeps): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>()
  const actor = (principal: Principal, source: string) => ({ name: principal.name, source })
  app.get('/me', (c) => {
    const p = signedIn(c)
    return c.json({
      name: p.name,
      role: p.role,
      effectiveRole: effectiveRole(p),
      teams: [...p.teams].sort(),
      elevation: p.elevation ? { ...p.elevation, until: p.elevation.until.toISOString() } : null,
    })
  })
  app.get('/users', async (c) => {
    enforce(mayAdminister(signedIn(c)))
    const users = await deps.app.users.list()
    return c.json({
      users: users.map((u) => ({
        ...u,
        createdAt: u.createdAt.toISOString(),
        disabled: u.disabledAt !== null,
        disabledAt: u.disabledAt?.toISOString() ?? null,
      })),
    })
  })
  app.post('/users', async (c) => {
    const principal = changer(c)
    enforce(mayAdminister(principal))
    const body = await jsonBody(c, userBody)
    await deps.app.users.create(body.name, body.role, actor(principal, c.get('source')))
    return c.json({ name: body.name, role: body.role }, 201)
  })
  for (const action of ['disable', 'enable'] as const) {
    app.post(`/users/:name/${action}`, async (c) => {
      const principal = changer(c)
      enforce(mayAdminister(principal))
      const name = c.req.param('name')
      await deps.app.users.setDisabled(name, action === 'disable', actor(principal, c.get('source')))
      return c.json({ name, disabled: action === 'disable' })
    })
  }
  app.get('/users/:name/tokens', async (c) => {
    const principal = signedIn(c)
    const name = c.req.param('name')
    ownOrAdmin(principal, name, `list ${name}'s tokens`)
    if ((await deps.app.users.role(name)) === undefined) throw new NotFoundError(`no user ${name}`)
    const tokens = await deps.app.users.tokens(name)
    const iso = (d: Date | null) => d?.toISOString() ?? null
    return c.json({
      user: name,
      tokens: tokens.map((t) => ({
        ...t,
        createdAt: t.createdAt.toISOString(),
        lastUsedAt: iso(t.lastUsedAt),
        expiresAt: iso(t.expiresAt),
        revokedAt: iso(t.revokedAt),
      })),
    })
  })
  app.post('/users/:name/tokens', async (c) => {
    const principal = changer(c)
    const name = c.req.param('name')
    ownOrAdmin(principal, name, `mint tokens for ${name}`)
    const body = await jsonBody(c, tokenBody)
    const minted = await deps.app.users.mintToken(
      name,
      body.label,
      {
        expiresInDays: body.expiresInDays,
        expiresAt: body.expiresAt === undefined ? undefined : new Date(body.expiresAt),
      },
      deps.maxTokenDays,
      actor(principal, c.get('source')),
    )
    // Shown once: only its hash is kept.
    return c.json(
      {
        id: minted.id,
        token: minted.token,
        user: name,
        label: body.label,
        expiresAt: minted.expiresAt?.toISOString() ?? null,
      },
      201,
    )
  })
  app.delete('/tokens/:id', async (c) => {
    const principal = changer(c)
    const id = c.req.param('id')
    const owner = await deps.app.users.tokenOwner(id)
    // Someone else's token is "no such token" to a non-admin: its id tells them nothing.
    if (owner === undefined || (owner !== principal.name && !mayAdminister(principal).allowed))
      throw new NotFoundError(
        `no token ${id} of yours; GET /api/users/${principal.name}/tokens lists your tokens`,
      )
    await deps.app.users.revokeToken(id, actor(principal, c.get('source')))
    return c.body(null, 204)
  })
  app.post('/users/:name/elevations', async (c) => {
    const principal = changer(c)
    enforce(mayAdminister(principal))
    const body = await jsonBody(c, elevationBody)
    const { until } = await deps.app.users.grantElevation(
      c.req.param('name'),
      body,
      actor(principal, c.get('source')),
    )
    return c.json({ user: c.req.param('name'), until: until.toISOString(), reason: body.reason }, 201)
  })
  app.delete('/users/:name/elevations', async (c) => {
    const principal = changer(c)
    const name = c.req.param('name')
    if (name !== principal.name) enforce(mayAdminister(principal))
    await deps.app.users.endElevation(name, actor(principal, c.get('source')))
    return c.json({ user: name, elevation: null })
  })
  return app
}
