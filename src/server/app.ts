/**
 * The HTTP application: the JSON API under `/api/` and the portal, behind authentication, a
 * request size limit and security headers. Errors become statuses in one place: bad input 400,
 * not signed in 401, not allowed 403, unknown 404, a clash with the current state 409, a policy
 * that forbids it 422; anything else is a bug — a 500 with a short id, the details in the log.
 */
import { randomBytes } from 'node:crypto'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { secureHeaders } from 'hono/secure-headers'
import { FlotillaError } from '../core/errors.ts'
import { accessRoutes } from './api/access.ts'
import { controllerRoutes } from './api/controller.ts'
import { fleetRoutes } from './api/fleet.ts'
import { ERROR_STATUS } from './api/http-helpers.ts'
import { inventoryRoutes } from './api/inventory.ts'
import { rolloutRoutes } from './api/rollouts.ts'
import { openApiDocument } from './openapi.ts'
import { portalRoutes } from './portal/portal-routes.ts'
import { authenticate } from './request-auth.ts'
import type { ServerDeps, ServerEnv } from './server-deps.ts'

/** The largest request body accepted. */
export const MAX_BODY_BYTES = 256 * 1024

/** Options of {@link createApp}. */
export interface AppOptions {
  /** The peer address of a request, for the audit log. */
  readonly peer: (c: import('hono').Context) => string
  /** Where bugs are reported (with their id). */
  readonly log: (message: string) => void
}

/** Builds the application over the server's dependencies. */
export function createApp(deps: ServerDeps, options: AppOptions): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>()
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    }),
  )
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json({ error: `the request body is larger than ${MAX_BODY_BYTES / 1024} KiB` }, 413),
    }),
  )
  app.use(authenticate(deps.db, async () => (await deps.fleets.snapshot()).fleet, options.peer))
  app.get('/api/openapi.json', (c) => c.json(openApiDocument()))
  // For Prometheus: counts and durations, no secrets; like /api/openapi.json, open to read.
  app.get('/metrics', async (c) =>
    c.body(await deps.metrics.scrape(), 200, { 'content-type': deps.metrics.contentType }),
  )
  app.route('/api', accessRoutes(deps))
  app.route('/api', inventoryRoutes(deps))
  app.route('/api', rolloutRoutes(deps))
  app.route('/api', fleetRoutes(deps))
  app.route('/api', controllerRoutes(deps))
  app.all('/api/*', (c) =>
    c.json(
      { error: `no such endpoint: ${c.req.method} ${c.req.path}; GET /api/openapi.json lists them` },
      404,
    ),
  )
  app.route('/', portalRoutes(deps))
  app.onError((error, c) => {
    const api = c.req.path.startsWith('/api/')
    const reply = (status: number, message: string) =>
      api ? c.json({ error: message }, status as 400) : c.text(message, status as 400)
    if (error instanceof HTTPException) return reply(error.status, error.message)
    if (error instanceof FlotillaError) return reply(ERROR_STATUS[error.kind], error.message)
    const id = randomBytes(4).toString('hex')
    options.log(`error ${id} on ${c.req.method} ${c.req.path}: ${error.stack ?? error.message}`)
    return reply(500, `internal error ${id}: a bug in Flotilla; the server log has the details`)
  })
  return app
}
