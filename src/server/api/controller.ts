/**
 * The repository follower: the commits it decided on, and a webhook that makes it look now. A
 * webhook delivery is taken once (by the id its sender gives it) and at a bounded rate.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Context } from 'hono'
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { Kysely } from 'kysely'
import { mayChange } from '../../app/access/permissions.ts'
import { RepositoryFollower } from '../../controller/follower.ts'
import { ConflictError, InputError } from '../../core/errors.ts'
import type { Database } from '../../store/tables.ts'
import type { ServerDeps, ServerEnv } from '../server-deps.ts'
import { changer, enforce, limitParam, RetryLater, signedIn } from './http-helpers.ts'
import { observingWork } from './rollouts.ts'

/** The headers a delivery's id comes in, in the order they are read (Gitea also sends GitHub's). */
export const DELIVERY_HEADERS = ['x-github-delivery', 'x-gitea-delivery', 'x-gitlab-event-uuid'] as const

/** How long delivery ids are kept: a replay older than this is no longer recognised. */
const DELIVERY_MEMORY_MS = 30 * 24 * 60 * 60 * 1000

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
    // It observes the whole fleet: members only (a viewer changes nothing), and bounded like plans.
    enforce(mayChange(changer(c), [], 'check drift'))
    return c.json(await observingWork(deps, () => deps.drift.check()))
  })
  app.post('/webhook', async (c) => {
    const signature = c.req.header('x-hub-signature-256')
    // A push hook signs its body with the shared secret instead of sending a token.
    if (signature === undefined) enforce(mayChange(changer(c), [], 'poke the repository follower'))
    else verifyWebhook(deps.webhookSecret, await c.req.text(), signature)
    const delivery = deliveryId(c)
    if (signature !== undefined && delivery === undefined)
      throw new InputError(
        `a signed webhook delivery needs its id (${DELIVERY_HEADERS.join(', ')}), so that a replay of it can be refused`,
      )
    // Only deliveries that authenticated count: a stranger cannot use up the hook's allowance.
    const taken = deps.webhookBucket.take()
    if (!taken.ok)
      throw new RetryLater(
        429,
        taken.retryAfterMs / 1000,
        'too many webhook deliveries: the follower fetches at most a few times a minute (it also polls by itself); retry after the time in Retry-After',
      )
    if (!deps.follower)
      throw new ConflictError('this server follows no repository; start it with flotilla serve --follow REPO')
    if (delivery !== undefined) await recordDelivery(deps.db, delivery)
    const outcome = await deps.follower.poke()
    return c.json(
      { outcome, revisions: await RepositoryFollower.history(deps.db, 1) },
      outcome === 'polled' ? 200 : 202,
    )
  })
  return app
}

/** The delivery id of a webhook request, and the header it came in; a 400 when it is malformed. */
function deliveryId(c: Context<ServerEnv>): { id: string; header: string } | undefined {
  for (const header of DELIVERY_HEADERS) {
    const id = c.req.header(header)?.trim()
    if (id === undefined || id === '') continue
    if (!/^[\x21-\x7e]{1,200}$/.test(id))
      throw new InputError(
        `${header} must be 1 to 200 printable ASCII characters (a delivery id, e.g. a UUID)`,
      )
    return { id, header }
  }
  return undefined
}

/** Records a delivery as taken; a 409 when it was taken before (a replay). Forgets old ones. */
async function recordDelivery(db: Kysely<Database>, delivery: { id: string; header: string }): Promise<void> {
  const inserted = await db
    .insertInto('webhook_deliveries')
    .values({ id: delivery.id, header: delivery.header })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst()
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0)
    throw new ConflictError(
      `webhook delivery ${delivery.id} (${delivery.header}) was accepted before; a delivery is taken once`,
    )
  await db
    .deleteFrom('webhook_deliveries')
    .where('received_at', '<', new Date(Date.now() - DELIVERY_MEMORY_MS))
    .execute()
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
