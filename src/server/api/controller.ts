/** The repository follower: the commits it decided on, and a webhook that makes it look now. */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { RepositoryFollower } from '../../controller/follower.ts'
import { ConflictError, InputError } from '../../core/errors.ts'
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
    const signature = c.req.header('x-hub-signature-256')
    // A push hook signs its body with the shared secret instead of sending a token.
    if (signature === undefined) changer(c)
    else verifyWebhook(deps.webhookSecret, await c.req.text(), signature)
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

/**
 * Checks a push webhook's `X-Hub-Signature-256` (`sha256=` and the hex HMAC-SHA256 of the body
 * under the shared secret, as GitHub, GitLab's and Gitea's hooks send it), in constant time.
 */
export function verifyWebhook(secret: string | undefined, body: string, signature: string): void {
  if (secret === undefined)
    throw new InputError(
      "the webhook is signed (X-Hub-Signature-256) but this server has no webhook secret: start it with FLOTILLA_WEBHOOK_SECRET set to the hook's secret, or send a token instead",
    )
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`)
  const given = Buffer.from(signature)
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new HTTPException(401, {
      message:
        'the webhook signature (X-Hub-Signature-256) does not match the body: check that the hook and FLOTILLA_WEBHOOK_SECRET have the same secret',
    })
}
