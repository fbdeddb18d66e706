/** The repository follower: the commits it decided on, and a webhook that makes it look now. */
import { Hono } from 'hono'
import { RepositoryFollower } from '../../controller/follower.ts'
import { ConflictError } from '../../core/errors.ts'
import type { ServerDeps, ServerEnv } from '../server-deps.ts'
import { changer, limitParam, signedIn } from './http-helpers.ts'

/** `GET /api/revisions`, `POST /api/webhook`. */
export function controllerRoutes(deps: ServerDeps): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>()
  app.get('/revisions', async (c) => {
    signedIn(c)
    return c.json({
      following: deps.follower ? deps.fleets.ref.replace(/^refs\/heads\//, '') : null,
      leads: deps.follower?.leads() ?? null,
      revisions: await RepositoryFollower.history(deps.db, limitParam(c.req.query('limit'), 50, 500)),
    })
  })
  app.get('/drift', (c) => {
    signedIn(c)
    return c.json(deps.drift.last())
  })
  app.post('/drift/check', async (c) => {
    changer(c)
    return c.json(await deps.drift.check())
  })
  app.post('/webhook', async (c) => {
    changer(c)
    if (!deps.follower)
      throw new ConflictError('this server follows no repository; start it with flotilla serve --follow REPO')
    const outcome = await deps.follower.poke()
    return c.json(
      { outcome, revisions: await RepositoryFollower.history(deps.db, 1) },
      outcome === 'polled' ? 200 : 202,
    )
  })
  return app
}
