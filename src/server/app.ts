/**
 * The HTTP application: the JSON API under `/api/` and the portal, behind authentication, a
 * request size limit and security headers. Errors become statuses in one place
 * (`error-response.ts`): bad input 400, not signed in 401, not allowed 403, unknown 404, a clash
 * with the current state 409, a policy that forbids it 422, a cloud that fails for now 503 with
 * `Retry-After`; anything else is a bug — a 500 with a short id, the details in the log.
 */
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { secureHeaders } from 'hono/secure-headers'
import { accessRoutes } from './api/access.ts'
import { cliRelayRoutes } from './api/cli-relay.ts'
import { controllerRoutes } from './api/controller.ts'
import { fleetRoutes } from './api/fleet.ts'
import { inventoryRoutes } from './api/inventory.ts'
import { rolloutRoutes } from './api/rollouts.ts'
import { bootstrapRoutes } from './bootstrap-routes.ts'
import { auditElevatedRequests } from './elevated-audit.ts'
import { errorResponse } from './error-response.ts'
import { openApiDocument } from './openapi.ts'
import { portalRoutes } from './portal/portal-routes.ts'
import { authenticate } from './request-auth.ts'
import { rejectMalformedInput } from './request-guard.ts'
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
  app.use(rejectMalformedInput())
  app.use(
    authenticate(
      deps.db,
      async () => (await deps.fleets.snapshot()).fleet,
      options.peer,
      deps.localCredential,
    ),
  )
  app.use(auditElevatedRequests(deps.db))
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
  app.route('/api', cliRelayRoutes(deps))
  app.route('/', bootstrapRoutes(deps))
  app.all('/api/*', (c) =>
    c.json(
      { error: `no such endpoint: ${c.req.method} ${c.req.path}; GET /api/openapi.json lists them` },
      404,
    ),
  )
  app.route('/', portalRoutes(deps))
  app.onError((error, c) => errorResponse(c, error, options.log))
  return app
}
