/** Who am I, and — for admins — users, tokens and emergency access. */
import { Hono } from 'hono'
import { z } from 'zod'
import { effectiveRole, mayAdminister, ROLES } from '../access/permissions.ts'
import { createUser, grantElevation, listUsers, mintToken, revokeToken } from '../access/users-store.ts'
import type { ServerDeps, ServerEnv } from '../server-deps.ts'
import { changer, enforce, jsonBody, signedIn } from './http-helpers.ts'

export const userBody = z.strictObject({ name: z.string().min(1), role: z.enum(ROLES) })
export const tokenBody = z.strictObject({ label: z.string().trim().min(1).max(100) })
export const elevationBody = z.strictObject({
  reason: z.string().trim().min(10, 'say what is happening, in at least 10 characters'),
  minutes: z.int().min(1).max(480),
})

/** `/api/me`, `/api/users…`. */
export function accessRoutes(deps: ServerDeps): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>()
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
    const users = await listUsers(deps.db)
    return c.json({ users: users.map((u) => ({ ...u, createdAt: u.createdAt.toISOString() })) })
  })
  app.post('/users', async (c) => {
    const principal = changer(c)
    enforce(mayAdminister(principal))
    const body = await jsonBody(c, userBody)
    await createUser(deps.db, body.name, body.role, { name: principal.name, source: c.get('source') })
    return c.json({ name: body.name, role: body.role }, 201)
  })
  app.post('/users/:name/tokens', async (c) => {
    const principal = changer(c)
    const name = c.req.param('name')
    if (name !== principal.name) enforce(mayAdminister(principal))
    const { label } = await jsonBody(c, tokenBody)
    const minted = await mintToken(deps.db, name, label, { name: principal.name, source: c.get('source') })
    // Shown once: only its hash is kept.
    return c.json({ id: minted.id, token: minted.token, user: name, label }, 201)
  })
  app.delete('/tokens/:id', async (c) => {
    const principal = changer(c)
    enforce(mayAdminister(principal))
    await revokeToken(deps.db, c.req.param('id'), { name: principal.name, source: c.get('source') })
    return c.body(null, 204)
  })
  app.post('/users/:name/elevations', async (c) => {
    const principal = changer(c)
    enforce(mayAdminister(principal))
    const body = await jsonBody(c, elevationBody)
    const { until } = await grantElevation(deps.db, c.req.param('name'), body, {
      name: principal.name,
      source: c.get('source'),
    })
    return c.json({ user: c.req.param('name'), until: until.toISOString(), reason: body.reason }, 201)
  })
  return app
}
