/**
 * The API's OpenAPI 3.1 document, served at `/api/openapi.json` and checked in as
 * `schema/openapi.json` (a test keeps the two equal and the paths equal to the routes). Request
 * bodies come from the same zod schemas that validate them.
 */
import { z } from 'zod'
import { elevationBody, tokenBody, userBody } from './api/access.ts'
import { cliRelayBody } from './api/cli-relay.ts'
import { faultBody, stopBody } from './api/fleet.ts'
import { approvalsBody, startBody, targetBody } from './api/rollouts.ts'

type Operation = {
  summary: string
  parameters?: object[]
  requestBody?: object
  responses: Record<string, object>
}

const json = (schema: z.ZodType) => ({
  required: true,
  content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) } },
})
const ok = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
})
const errors = {
  '400': { $ref: '#/components/responses/BadRequest' },
  '401': { $ref: '#/components/responses/Unauthorized' },
}
const changes = {
  ...errors,
  '403': { $ref: '#/components/responses/Forbidden' },
  '409': { $ref: '#/components/responses/Conflict' },
}
const notFound = { '404': { $ref: '#/components/responses/NotFound' } }
const header = (name: string, description: string, schema: object = { type: 'string' }) => ({
  name,
  in: 'header',
  required: false,
  description,
  schema,
})
const path = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
})
const query = (name: string, description: string) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type: 'string' },
})
const rolloutId = path('id', 'rollout id, r-YYYYMMDD-xxxxxx')

const controls = Object.fromEntries(
  (['pause', 'resume', 'abort', 'approve', 'retry', 'skip'] as const).map((action) => [
    `/api/rollouts/{id}/${action}`,
    {
      post: {
        summary: `${action} a rollout${action === 'retry' || action === 'skip' ? "'s failed target" : ''}`,
        parameters: [rolloutId],
        ...(action === 'retry' || action === 'skip' ? { requestBody: json(targetBody) } : {}),
        responses: {
          '200': ok('the rollout status'),
          ...changes,
          '404': { $ref: '#/components/responses/NotFound' },
        },
      } satisfies Operation,
    },
  ]),
)

/** The document. */
export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Flotilla API',
      version: '1',
      description:
        'The fleet, its plans and rollouts. Authenticate with "Authorization: Bearer <token>". Errors are {"error": "<message>"} with 400 bad input (also a NUL byte anywhere in a request, or a number out of range), 401 not signed in, 403 not allowed, 404 unknown, 409 conflict with the current state, 413 body too large, 422 forbidden by policy, 429 too many requests and 503 busy (both with Retry-After).',
    },
    security: [{ bearer: [] }],
    paths: {
      '/api/me': {
        get: {
          summary: 'who is signed in: role, teams, emergency access',
          responses: { '200': ok('the principal'), ...errors },
        },
      },
      '/api/teams': {
        get: { summary: 'the teams of the inventory', responses: { '200': ok('teams'), ...errors } },
      },
      '/api/accounts': {
        get: {
          summary: 'accounts, filtered and sorted',
          parameters: [
            'environment',
            'criticality',
            'costCenter',
            'team',
            'channel',
            'group',
            'q',
            'sort',
            'order',
          ].map((name) =>
            query(
              name,
              name === 'q'
                ? 'text search in name, id, team, cost center'
                : name === 'order'
                  ? 'asc or desc'
                  : `filter or sort key: ${name}`,
            ),
          ),
          responses: { '200': ok('accounts'), ...errors },
        },
      },
      '/api/accounts/{id}': {
        get: {
          summary: 'one account: its stacks and recent rollouts',
          parameters: [path('id', 'account id or name')],
          responses: {
            '200': ok('the account'),
            ...errors,
            '404': { $ref: '#/components/responses/NotFound' },
          },
        },
      },
      '/api/clusters': {
        get: {
          summary: 'clusters, filtered',
          parameters: ['environment', 'channel', 'team', 'q'].map((n) => query(n, `filter: ${n}`)),
          responses: { '200': ok('clusters'), ...errors },
        },
      },
      '/api/clusters/{id}': {
        get: {
          summary: 'one cluster: manifests, health, recent rollouts',
          parameters: [path('id', 'cluster id or alias')],
          responses: {
            '200': ok('the cluster'),
            ...errors,
            '404': { $ref: '#/components/responses/NotFound' },
          },
        },
      },
      '/api/plans': {
        get: {
          summary: 'the plan of a revision against the observed fleet',
          parameters: [
            query('rev', 'git revision (default: the branch served)'),
            query('approve', 'an approval (repeatable)'),
            query(
              'now',
              "a what-if time for the policies (ISO 8601): a read-only preview marked what-if, never started (without it, the server's clock)",
            ),
          ],
          responses: {
            '200': ok('{ revision, base, plan }'),
            ...errors,
            '503': { $ref: '#/components/responses/Busy' },
          },
        },
      },
      '/api/approvals': {
        get: {
          summary: "the approvals recorded for a revision's plan, with who gave them",
          parameters: [query('rev', 'git revision (default: the branch served)')],
          responses: { '200': ok('approvals'), ...errors },
        },
        post: {
          summary:
            "approve (part of) a revision's plan; a protected destruction needs an approval by someone other than the rollout's author",
          requestBody: json(approvalsBody),
          responses: { '201': ok('the approvals recorded'), ...changes },
        },
      },
      '/api/rollouts': {
        get: {
          summary: 'rollouts, newest first',
          parameters: [query('state', 'a rollout state'), query('limit', '1 to 500 (default 50)')],
          responses: { '200': ok('rollouts'), ...errors },
        },
        post: {
          summary:
            "start a rollout (it runs in the server); its policies see the server's clock, and a body or query naming a time (now) is a 400",
          requestBody: json(startBody),
          responses: {
            '201': ok('{ id, state, queuedBehind }'),
            ...changes,
            '422': { $ref: '#/components/responses/Policy' },
          },
        },
      },
      '/api/rollouts/preview': {
        get: {
          summary:
            'what a rollout of a revision would do, as the portal asks to confirm it: the targets that change (in production), the actions, the stages in order with their targets, waves, bake, gates and approval; starts nothing. POST /api/rollouts with its commit starts exactly that commit',
          parameters: [query('rev', 'git revision (default: the branch served)')],
          responses: { '200': ok('{ ref, commit, preview }'), ...errors },
        },
      },
      '/api/rollouts/{id}': {
        get: {
          summary: 'a rollout status (plan.md)',
          parameters: [rolloutId],
          responses: {
            '200': ok('the status'),
            ...errors,
            '404': { $ref: '#/components/responses/NotFound' },
          },
        },
      },
      ...controls,
      '/api/rollouts/{id}/events': {
        get: {
          summary:
            'the events of a rollout as Server-Sent Events (event: rollout-event, id: the event id; then event: end); resumes after Last-Event-ID',
          parameters: [
            rolloutId,
            query('after', 'resume after this event id (0 to 2147483647)'),
            header('Last-Event-ID', 'resume after this event id (0 to 2147483647); wins over after'),
          ],
          responses: {
            '200': {
              description: 'text/event-stream',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...errors,
          },
        },
      },
      '/api/bootstrap': {
        get: {
          summary:
            "npm start's apply of the example under way in the server's process: { bootstrap: { state, revision, total, done, failed, perSecond, startedAt, endedAt, error, summary } | null, shown }",
          responses: { '200': ok('{ bootstrap, shown }'), ...errors },
        },
      },
      '/api/stop': {
        get: { summary: 'the fleet-wide stop, if pulled', responses: { '200': ok('{ stop }'), ...errors } },
        post: {
          summary: 'pull the emergency brake: every running rollout pauses (anyone signed in)',
          requestBody: json(stopBody),
          responses: { '200': ok('{ stopped, paused }'), ...changes },
        },
      },
      '/api/unstop': {
        post: {
          summary: 'release the fleet-wide stop (admins)',
          responses: { '200': ok('{ stopped, resumed }'), ...changes },
        },
      },
      '/api/snapshots': {
        get: {
          summary: 'snapshots of destroyed protected resources',
          responses: { '200': ok('snapshots'), ...errors },
        },
      },
      '/api/snapshots/{id}/restore': {
        post: {
          summary:
            'restore a snapshot; 409 while the fleet-wide stop is on or a rollout holds its target (the message names which)',
          parameters: [path('id', 'snapshot id')],
          responses: {
            '200': ok('what was restored'),
            ...changes,
            '404': { $ref: '#/components/responses/NotFound' },
          },
        },
      },
      '/api/sim/faults': {
        get: { summary: 'faults of the simulated fleet', responses: { '200': ok('faults'), ...errors } },
        post: {
          summary: 'inject a fault into a simulated target',
          requestBody: json(faultBody),
          responses: { '201': ok('the fault'), ...changes },
        },
        delete: {
          summary: "clear a target's faults",
          parameters: [query('target', 'target id')],
          responses: { '200': ok('{ cleared }'), ...changes },
        },
      },
      '/api/audit': {
        get: {
          summary: 'the audit log, newest first',
          description:
            'Each entry has id, at, actor, action, subject, source, detail, and elevated: {reason, grantedBy, until} when it was made under emergency access, else null.',
          parameters: [
            ...['actor', 'action', 'subject'].map((n) => query(n, `filter: ${n}`)),
            query('elevated', 'true: only entries made under emergency access; false: only the others'),
            query('limit', '1 to 1000 (default 100)'),
          ],
          responses: { '200': ok('entries'), ...errors },
        },
      },
      '/api/revisions': {
        get: {
          summary:
            'the commits the repository follower decided on (serve --follow), newest first: rolling-out, waiting-approval, denied, invalid, no-changes, superseded',
          parameters: [query('limit', '1 to 500 (default 50)')],
          responses: { '200': ok('{ following, revisions }'), ...errors },
        },
      },
      '/api/drift': {
        get: {
          summary:
            'the last drift check: targets whose observed state differs from what Flotilla last applied',
          responses: { '200': ok('{ checkedAt, targets, reverts }'), ...errors },
        },
      },
      '/api/drift/check': {
        post: {
          summary: 'check drift now (and, with --revert-drift, revert it)',
          responses: { '200': ok('{ checkedAt, targets, reverts }'), ...changes },
        },
      },
      '/api/cli': {
        post: {
          summary:
            'run a CLI command of the store in the server (what flotilla does while a server holds the store, or with --server)',
          description:
            'The body is {"argv": ["rollout", "status"], "actor"?: "..."} (actor only with the local credential of the store folder). The answer streams application/x-ndjson lines: {"run": ID}, then {"stdout": TEXT} and {"stderr": TEXT} as the command writes, and {"exit": CODE} last — the exit codes of the CLI. Commands of the store only (plan, apply, rollout, stop, unstop, snapshots, restore, sim, users), on the server\'s repository: --repo, --data and --server are refused, --approvals too unless the caller is on this machine. Reads and stop: everyone signed in; changes: admins and elevated members; users: admins.',
          requestBody: json(cliRelayBody),
          responses: { '200': ok("the command's output, as NDJSON lines"), ...changes },
        },
      },
      '/api/cli/runs/{id}/interrupt': {
        post: {
          summary: "Ctrl-C for a command run through POST /api/cli (its caller's only)",
          parameters: [path('id', 'the run id of the first line of POST /api/cli')],
          responses: { '200': ok('{ interrupted }'), ...changes, ...notFound },
        },
      },
      '/api/webhook': {
        post: {
          summary: 'make the repository follower fetch and decide now (a push webhook)',
          description:
            'Takes a token, or instead a body signed with FLOTILLA_WEBHOOK_SECRET: X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>. A signed delivery must carry its id (X-GitHub-Delivery, X-Gitea-Delivery or X-Gitlab-Event-UUID); each id is accepted once, a replay is a 409. Deliveries are rate-limited (a burst, then a few a minute): beyond, 429 with Retry-After.',
          parameters: [
            header('X-Hub-Signature-256', 'the signature of the body', {
              type: 'string',
              pattern: '^sha256=[0-9a-f]{64}$',
            }),
            ...['X-GitHub-Delivery', 'X-Gitea-Delivery', 'X-Gitlab-Event-UUID'].map((name) =>
              header(name, 'the delivery id (required with a signature)'),
            ),
          ],
          responses: {
            '200': ok('the newest decision'),
            '202': ok('passed on to the leading replica'),
            ...changes,
            '429': { $ref: '#/components/responses/TooMany' },
          },
        },
      },
      '/api/users': {
        get: {
          summary: 'users, with whether each is disabled (admins)',
          responses: { '200': ok('users'), ...changes },
        },
        post: {
          summary: 'create a user (admins)',
          requestBody: json(userBody),
          responses: { '201': ok('the user'), ...changes },
        },
      },
      '/api/users/{name}/disable': {
        post: {
          summary:
            'disable a user: no sign-in, no token, and their sessions end at once; never the last enabled admin (admins; audited)',
          parameters: [path('name', 'user name')],
          responses: { '200': ok('{ name, disabled }'), ...changes, ...notFound },
        },
      },
      '/api/users/{name}/enable': {
        post: {
          summary: 'enable a disabled user again: their tokens work again (admins; audited)',
          parameters: [path('name', 'user name')],
          responses: { '200': ok('{ name, disabled }'), ...changes, ...notFound },
        },
      },
      '/api/users/{name}/tokens': {
        get: {
          summary:
            "a user's tokens, never their secrets: id, label, createdAt, lastUsedAt, expiresAt, revokedAt, state (the user, or admins)",
          parameters: [path('name', 'user name')],
          responses: { '200': ok('{ user, tokens }'), ...errors, '403': changes['403'], ...notFound },
        },
        post: {
          summary:
            'mint an API token, shown once, with an optional expiry (the server may cap it); at most 20 active per user (the user for themselves, or admins)',
          parameters: [path('name', 'user name')],
          requestBody: json(tokenBody),
          responses: { '201': ok('{ id, token, user, label, expiresAt }'), ...changes, ...notFound },
        },
      },
      '/api/tokens/{id}': {
        delete: {
          summary: 'revoke a token; the portal sessions opened with it end at once (its owner, or admins)',
          parameters: [path('id', 'token id')],
          responses: { '204': { description: 'revoked' }, ...changes, ...notFound },
        },
      },
      '/api/users/{name}/elevations': {
        post: {
          summary: 'grant emergency access: admin rights until it expires, with a reason (admins; audited)',
          parameters: [path('name', 'user name')],
          requestBody: json(elevationBody),
          responses: { '201': ok('{ user, until, reason }'), ...changes },
        },
        delete: {
          summary: 'end emergency access before it expires (its holder, or admins; audited)',
          parameters: [path('name', 'user name')],
          responses: { '200': ok('{ user, elevation: null }'), ...changes, ...notFound },
        },
      },
      '/api/openapi.json': {
        get: { summary: 'this document', security: [], responses: { '200': ok('OpenAPI 3.1') } },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token, flt_…' } },
      responses: Object.fromEntries(
        [
          ['BadRequest', 'bad input: the message names the field or parameter and what it should be'],
          ['Unauthorized', 'not signed in'],
          ['Forbidden', 'not allowed: the message says why'],
          ['NotFound', 'unknown id'],
          ['Conflict', 'clashes with the current state'],
          ['Policy', 'a deployment policy forbids it, or approvals are missing'],
          ['TooMany', 'too many requests: retry after the seconds in Retry-After'],
          ['Busy', 'the server is busy: retry after the seconds in Retry-After'],
        ].map(([name, description]) => [
          name,
          {
            description,
            content: {
              'application/json': {
                schema: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
              },
            },
          },
        ]),
      ),
    },
  }
}
