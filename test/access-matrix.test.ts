/**
 * The role × endpoint × team matrix, checked against a running server: every route of the
 * OpenAPI document the server serves, called by every kind of caller (no token, a viewer who is
 * listed in the owning team, a member of the owning team, of another team, of no team, an admin,
 * and an elevated member of no team), with a valid request naming real things of the owning team.
 * A caller the table (`src/server/access/route-access.ts`) refuses must get 401 (no token) or 403,
 * and must change nothing; a caller it allows must not be refused; nobody gets a 5xx. Refused
 * callers go first on each route, so the allowed ones find the state they need; the rollout
 * controls get a rollout in the state each needs, brought there through the API.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { mintToken, revokeToken, tokenUser } from '../src/app/access/tokens-store.ts'
import { activeElevation, createUser } from '../src/app/access/users-store.ts'
import type { Target } from '../src/core/model/fleet-model.ts'
import { parseApproval } from '../src/core/policy/approvals.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { applyFleet } from '../src/operations/apply-fleet.ts'
import { simSchemaOf } from '../src/providers/sim/sim-database.ts'
import { loadCommit } from '../src/rollout/runner.ts'
import {
  CALLERS,
  type Caller,
  mayCall,
  ROUTE_ACCESS,
  type RouteAccess,
} from '../src/server/access/route-access.ts'
import { openSession } from '../src/server/access/sessions-store.ts'
import { SESSION_COOKIE } from '../src/server/request-auth.ts'
import type { Database } from '../src/store/tables.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import { commitAll, setLogExpiry, stageNamed } from './support/rollout-fleet.ts'
import {
  moveZoneOfTeam,
  type ServerFleet,
  serverFleet,
  type TestUser,
  testUser,
} from './support/server-fleet.ts'
import { NOW, pollUntil } from './support/sim-cli.ts'

const WEBHOOK_SECRET = 'access-matrix-webhook-secret'
/** The user the admin-only routes act on (tokens, emergency access): none of the callers. */
const SPARE = 'matrix.spare'
/** The user the walk disables and enables. */
const DISABLED = 'matrix.disabled'

/** One call of a route, as one caller. */
interface Call {
  readonly caller: Caller
  /** The caller's user name (for anonymous: {@link SPARE}). */
  readonly name: string
  /** For `self-or-admin` routes: whether the request names the caller. */
  readonly forSelf: boolean
}

/** One attempt at a route: who, with which credentials, and what the table says of it. */
interface Attempt {
  readonly label: string
  /** For the route's example (whose ids, and whether the request names the caller). */
  readonly call: Call
  readonly credentials: Record<string, string>
  /** Overrides the route's example. */
  readonly request?: Request
  /** Overrides the path of the route's example (its body stays). */
  readonly path?: string
  /**
   * `allowed`: a 2xx, or a 404, 409 or 422 of the moment; a refusal: 401 for no (valid)
   * credentials, 403 (or the route's own refusal) for a signed-in caller; `missing`: the path names nothing that exists, a 400
   * or a 404.
   */
  readonly expected: 'allowed' | 401 | 403 | 404 | 'missing'
}

/** A request, ready to send. */
interface Request {
  readonly path: string
  readonly body?: unknown
  readonly headers?: Record<string, string>
}

/**
 * How to call a route: the path with real ids and a valid body. It may bring the state to where
 * the call can succeed (it runs before every call, refused or not). A route without parameters
 * and body needs no entry.
 */
type Example = (w: Walk, call: Call) => Request | Promise<Request>

/** What the examples work with. */
interface Walk {
  readonly f: ServerFleet
  readonly db: Kysely<Database>
  readonly devAccount: Target
  readonly cluster: string
  readonly snapshot: string
  /** A rollout of the owning team's dev account, in `state`, started by someone who is none of the callers. */
  rollout(state: 'waiting-approval' | 'paused' | 'halted'): Promise<string>
  /** A live token of `user` (not the one they sign in with), by id. */
  tokenOf(user: string): Promise<string>
  /** Gives `user` emergency access unless they have it. */
  elevate(user: string): Promise<void>
  /** Disables or enables {@link DISABLED}, unless it is so already. */
  disable(disabled: boolean): Promise<void>
  /** A user name not taken yet. */
  newUserName(): string
  stop(on: boolean): Promise<void>
  /** Aborts every rollout that has not ended, and clears the faults. */
  tidy(): Promise<void>
  /** Waits until no rollout is running or queued: the worker changes nothing while refusals are checked. */
  settle(): Promise<void>
}

/** Once after a route's calls, to leave the fleet as the next route expects it. */
const AFTER: Partial<Record<string, (w: Walk) => Promise<void>>> = {
  'POST /api/rollouts': (w) => w.tidy(),
  'POST /api/rollouts/{id}/skip': (w) => w.tidy(),
  'POST /api/sim/faults': (w) => w.tidy(),
  'POST /api/stop': (w) => w.stop(false),
  'POST /api/unstop': (w) => w.stop(false),
  'POST /api/users/{name}/enable': (w) => w.disable(false),
  // The elevated caller ended their own emergency access.
  'DELETE /api/users/{name}/elevations': async (w) => {
    await w.elevate('matrix.elevated')
  },
}

const control =
  (state: 'waiting-approval' | 'paused' | 'halted', action: string, body?: (w: Walk) => unknown): Example =>
  async (w) => ({
    path: `/api/rollouts/${await w.rollout(state)}/${action}`,
    ...(body ? { body: body(w) } : {}),
  })

/** Requests by route (`METHOD /api/path`, as in the access table). */
const EXAMPLES: Partial<Record<string, Example>> = {
  'GET /api/accounts/{id}': (w) => ({ path: `/api/accounts/${w.devAccount.id}` }),
  'GET /api/clusters/{id}': (w) => ({ path: `/api/clusters/${encodeURIComponent(w.cluster)}` }),
  'POST /api/approvals': (w) => ({
    path: '/api/approvals',
    body: { approvals: [`${w.devAccount.id}/eu-central-1/logging`] },
  }),
  // A rollout of the owning team's change waits: the next starts of it queue behind it.
  'POST /api/rollouts': async (w) => {
    await w.rollout('waiting-approval')
    return { path: '/api/rollouts', body: {} }
  },
  'GET /api/rollouts/{id}': async (w) => ({ path: `/api/rollouts/${await w.rollout('waiting-approval')}` }),
  'POST /api/rollouts/{id}/pause': control('waiting-approval', 'pause'),
  'POST /api/rollouts/{id}/resume': control('paused', 'resume'),
  'POST /api/rollouts/{id}/abort': control('waiting-approval', 'abort'),
  'POST /api/rollouts/{id}/approve': control('waiting-approval', 'approve'),
  'POST /api/rollouts/{id}/retry': control('halted', 'retry', (w) => ({ target: w.devAccount.id })),
  'POST /api/rollouts/{id}/skip': control('halted', 'skip', (w) => ({ target: w.devAccount.id })),
  'GET /api/rollouts/{id}/events': async (w) => ({
    path: `/api/rollouts/${await w.rollout('waiting-approval')}/events`,
  }),
  'POST /api/stop': () => ({ path: '/api/stop', body: { reason: 'access matrix walk' } }),
  'POST /api/unstop': async (w) => {
    await w.stop(true)
    return { path: '/api/unstop' }
  },
  'POST /api/snapshots/{id}/restore': (w) => ({ path: `/api/snapshots/${w.snapshot}/restore` }),
  'POST /api/sim/faults': (w) => ({
    path: '/api/sim/faults',
    body: { target: w.devAccount.id, kind: 'latency', latencyMs: 1, forSeconds: 60 },
  }),
  'DELETE /api/sim/faults': (w) => ({ path: `/api/sim/faults?target=${w.devAccount.id}` }),
  'POST /api/webhook': () => ({ path: '/api/webhook', body: {} }),
  'POST /api/cli': () => ({ path: '/api/cli', body: { argv: ['rollout', 'status', '--format', 'json'] } }),
  'POST /api/cli/runs/{id}/interrupt': () => ({ path: `/api/cli/runs/${randomUUID()}/interrupt` }),
  'POST /api/users': (w) => ({ path: '/api/users', body: { name: w.newUserName(), role: 'viewer' } }),
  'POST /api/users/{name}/disable': async (w) => {
    await w.disable(false)
    return { path: `/api/users/${DISABLED}/disable` }
  },
  'POST /api/users/{name}/enable': async (w) => {
    await w.disable(true)
    return { path: `/api/users/${DISABLED}/enable` }
  },
  'GET /api/users/{name}/tokens': (_, call) => ({
    path: `/api/users/${call.forSelf ? call.name : SPARE}/tokens`,
  }),
  'POST /api/users/{name}/tokens': (_, call) => ({
    path: `/api/users/${call.forSelf ? call.name : SPARE}/tokens`,
    body: { label: 'access matrix' },
  }),
  'DELETE /api/tokens/{id}': async (w, call) => ({
    path: `/api/tokens/${await w.tokenOf(call.forSelf ? call.name : SPARE)}`,
  }),
  'POST /api/users/{name}/elevations': () => ({
    path: `/api/users/${SPARE}/elevations`,
    body: { reason: 'access matrix walk, not an incident', minutes: 5 },
  }),
  'DELETE /api/users/{name}/elevations': async (w, call) => {
    const user = call.forSelf ? call.name : SPARE
    await w.elevate(user)
    return { path: `/api/users/${user}/elevations` }
  },
}

/** The example of a route: {@link EXAMPLES}, or the route's path as it is. */
const exampleOf = (route: string): Example => EXAMPLES[route] ?? (() => ({ path: route.split(' ')[1]! }))

/**
 * Server errors the walk knows of and lets pass until they are fixed, by `ROUTE as ATTEMPT`, each
 * with the bug (e.g. `'GET /api/rollouts/{id} as the admin, naming %00': 'a NUL byte reaches the
 * store'`, as it was before NUL bytes were 400s). The walk fails when one no longer happens, so
 * that its entry goes with the bug.
 */
const KNOWN_BUGS: Partial<Record<string, string>> = {}

/**
 * Routes whose allowed callers cannot succeed on this server, with why: every other route must
 * answer at least one allowed caller with a 2xx, so an example that misses (a 400, a 404) fails.
 */
const NO_SUCCESS_HERE: Partial<Record<string, string>> = {
  'POST /api/webhook': 'the test server follows no repository: 409 for every caller let in',
  'POST /api/cli/runs/{id}/interrupt':
    'no command runs through the server during the walk: 404 for every caller let in',
}

/**
 * Calls beyond the matrix's columns: who else gets in, or is kept out, by another way than a
 * token (`expected` says which).
 */
const EXTRA_CALLS: Partial<
  Record<string, () => { label: string; request: Request; expected: 'allowed' | 401 }[]>
> = {
  'POST /api/webhook': () => {
    const body = JSON.stringify({ ref: 'refs/heads/main' })
    const signature = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`
    const forged = `sha256=${createHmac('sha256', 'another secret').update(body).digest('hex')}`
    return [
      {
        label: 'anonymous, body signed with the secret',
        request: {
          path: '/api/webhook',
          body,
          headers: { 'x-hub-signature-256': signature, 'x-github-delivery': randomUUID() },
        },
        expected: 'allowed',
      },
      {
        label: 'anonymous, body signed with another secret',
        request: {
          path: '/api/webhook',
          body,
          headers: { 'x-hub-signature-256': forged, 'x-github-delivery': randomUUID() },
        },
        expected: 401,
      },
      {
        label: 'anonymous, signature of another body',
        request: {
          path: '/api/webhook',
          body: '{}',
          headers: { 'x-hub-signature-256': signature, 'x-github-delivery': randomUUID() },
        },
        expected: 401,
      },
    ]
  },
}

/**
 * What a refused call must not change: a digest of the tables the API writes, in one query (it
 * runs twice for each of some four hundred refused calls). A refused attempt under emergency
 * access is audited as such (`elevated-request`, with its status): that entry is not a change.
 */
async function footprint(db: Kysely<Database>): Promise<string> {
  // The simulated fleet's faults are in its own schema (`sim`, or `<schema>_sim`).
  const faults = sql.table(`${await simSchemaOf(db)}.sim_faults`)
  const { rows } = await sql<Record<string, unknown>>`
    select
      (select count(*) from audit_log where action <> 'elevated-request') as audit,
      (select count(*) from approvals) as approvals,
      (select count(*) from elevations) as elevations,
      (select count(*) from sessions) as sessions,
      (select string_agg(id || ' ' || state, ',' order by id) from rollouts) as rollouts,
      (select string_agg(name || ' ' || role, ',' order by name) from users) as users,
      (select string_agg(id || ' ' || (revoked_at is null)::text, ',' order by id) from api_tokens) as tokens,
      (select string_agg(key || ' ' || value::text, ',' order by key) from fleet_controls) as controls,
      (select string_agg(id, ',' order by id) from ${faults}) as faults,
      (select string_agg(id || ' ' || coalesce(restored_at::text, '-'), ',' order by id) from snapshots) as snapshots
  `.execute(db)
  return JSON.stringify(rows[0])
}

/** What differs between two footprints. */
function changed(before: string, after: string): string {
  const [a, b] = [JSON.parse(before), JSON.parse(after)] as Record<string, unknown>[]
  return Object.keys(a!)
    .filter((key) => JSON.stringify(a![key]) !== JSON.stringify(b![key]))
    .map((key) => `${key} (${JSON.stringify(a![key])} → ${JSON.stringify(b![key])})`)
    .join(', ')
}

describe.each(testBackends)('who may call what, on %s', (backend) => {
  const testStore = useTestStore(backend)
  let f: ServerFleet
  let w: Walk
  const callers = {} as Record<Exclude<Caller, 'anonymous'>, TestUser>
  let forgedToken: string
  let revokedToken: string
  let session: { cookie: string; csrf: string }

  beforeAll(async () => {
    const db = testStore.store.db
    // The dev stage waits for an approval and halts on a failure: rollouts hold still in the
    // states the controls need.
    f = await serverFleet(db, {
      rollout: (rollout) => {
        Object.assign(stageNamed(rollout, 'dev'), { approval: 'required', onFailure: 'halt' })
      },
      webhookSecret: WEBHOOK_SECRET,
    })
    const fleet = await loadCommit(f.repo, 'HEAD')
    const team = fleet.teams.get(f.team)!
    const system = { name: 'test', source: 'test' }
    const signUp = async (name: string, role: 'viewer' | 'member') => {
      await createUser(db, name, role, system)
      return testUser(f.server.url, name, (await mintToken(db, name, 'test', system)).token)
    }
    // The viewer is listed in the owning team: the role, not the team, keeps them out.
    const listed = team.members.find((m) => ![f.alice.name, f.bob.name, f.mallory.name].includes(m))
    expect(listed, `team ${team.id} needs a third member`).toBeDefined()
    Object.assign(callers, {
      viewer: await signUp(listed!, 'viewer'),
      'owning-team': f.alice,
      'other-team': f.mallory,
      'no-team': await signUp('matrix.no-team', 'member'),
      admin: f.admin,
      elevated: await signUp('matrix.elevated', 'member'),
    })
    await createUser(db, SPARE, 'member', system)
    await createUser(db, DISABLED, 'member', system)
    forgedToken = `${f.admin.token.slice(0, -4)}AAAA`
    const revoked = await mintToken(db, f.admin.name, 'revoked', system)
    await revokeToken(db, revoked.id, system)
    revokedToken = revoked.token
    session = await openSession(db, (await tokenUser(db, f.admin.token))!)
    const granted = await f.admin.api(`/api/users/${callers.elevated.name}/elevations`, {
      method: 'POST',
      body: { reason: 'access matrix: an elevated member', minutes: 60 },
    })
    expect(granted.status).toBe(201)
    const teams = async (user: TestUser) =>
      ((await (await user.api('/api/me')).json()) as { teams: string[] }).teams
    expect(await teams(callers['owning-team'])).toContain(f.team)
    expect(await teams(callers['other-team'])).not.toContain(f.team)
    expect(await teams(callers.viewer)).toContain(f.team)
    expect(await teams(callers['no-team'])).toEqual([])
    expect(await teams(callers.elevated)).toEqual([])

    // A snapshot of a zone of the owning team, destroyed by a change applied with its approvals.
    const { commit } = await moveZoneOfTeam(f.repo, f.team)
    const moved = await loadCommit(f.repo, commit)
    const registry = new ProviderRegistry([f.sim])
    const apply = (approvals: readonly string[]) =>
      applyFleet({
        head: moved,
        registry,
        db,
        revision: commit,
        now: new Date(NOW),
        approvals: approvals.map(parseApproval),
      })
    const blocked = await apply([])
    expect((await apply(blocked.plan.approvalsRequired)).failed).toEqual(new Map())
    const targets = new Map(moved.targets.map((t) => [t.id, t]))
    const snapshot = (await f.sim.snapshots()).find((s) => targets.get(s.target)?.team === f.team)
    expect(snapshot).toBeDefined()

    const devAccount = targets.get(f.devAccount)!
    const author = f.bob // of the owning team, and none of the callers: they may approve its stages
    const stateOf = async (id: string) =>
      ((await (await f.admin.api(`/api/rollouts/${id}`)).json()) as { state: string }).state
    const settled = (id: string) =>
      pollUntil(
        () => stateOf(id),
        (state) => state !== 'running' && state !== 'queued',
        20_000,
      )
    const post = async (user: TestUser, path: string, body?: unknown) => {
      const response = await user.api(path, { method: 'POST', ...(body !== undefined ? { body } : {}) })
      if (!response.ok)
        throw new Error(`${user.name}: POST ${path}: ${response.status} ${await response.text()}`)
      return (await response.json()) as Record<string, unknown>
    }
    let current: string | undefined
    let changes = 0
    let users = 0
    const waiting = async (): Promise<string> => {
      if (current !== undefined) {
        let state = await settled(current)
        if (state === 'paused') {
          await post(author, `/api/rollouts/${current}/resume`)
          state = await settled(current)
        }
        if (state === 'waiting-approval') return current
      }
      await w.tidy()
      // A new change of the dev account each time: the last one may have been applied.
      setLogExpiry(f.repo, { [f.devAccount]: 40 + changes++ })
      await commitAll(f.repo, `Access matrix: logs for ${40 + changes} days`)
      current = (await post(author, '/api/rollouts', {})).id as string
      const state = await settled(current)
      if (state !== 'waiting-approval')
        throw new Error(`rollout ${current} is ${state}, not waiting-approval`)
      return current
    }
    w = {
      f,
      db,
      devAccount,
      cluster:
        moved.targets.find((t) => t.kind === 'cluster' && t.team === f.team)?.id ??
        moved.targets.find((t) => t.kind === 'cluster')!.id,
      snapshot: snapshot!.id,
      async rollout(state) {
        if (state === 'waiting-approval') return waiting()
        if (state === 'paused') {
          if (current !== undefined && (await settled(current)) === 'paused') return current
          const id = await waiting()
          await post(author, `/api/rollouts/${id}/pause`)
          return id
        }
        if (current !== undefined && (await settled(current)) === 'halted') return current
        // A failed target: the dev account's stacks fail to settle, and the stage halts.
        const id = await waiting()
        await f.sim.addFault({ scope: { kind: 'target', id: f.devAccount }, kind: 'resource-failure' })
        await post(f.admin, `/api/rollouts/${id}/approve`)
        const halted = await settled(id)
        if (halted !== 'halted') throw new Error(`rollout ${id} is ${halted}, not halted`)
        return id
      },
      async tokenOf(user) {
        // One token until it is revoked: a user holds a bounded number of them.
        const live = await db
          .selectFrom('api_tokens')
          .select('id')
          .where('user_name', '=', user)
          .where('revoked_at', 'is', null)
          .where('label', '=', 'to revoke')
          .executeTakeFirst()
        return live?.id ?? (await mintToken(db, user, 'to revoke', system)).id
      },
      async elevate(user) {
        if (await activeElevation(db, user)) return
        await post(f.admin, `/api/users/${user}/elevations`, {
          reason: 'access matrix: emergency access to end',
          minutes: 60,
        })
      },
      async disable(disabled) {
        const row = await db
          .selectFrom('users')
          .select('disabled_at')
          .where('name', '=', DISABLED)
          .executeTakeFirstOrThrow()
        if ((row.disabled_at !== null) !== disabled)
          await post(f.admin, `/api/users/${DISABLED}/${disabled ? 'disable' : 'enable'}`)
      },
      newUserName: () => `matrix.user-${users++}`,
      async stop(on) {
        if (on) await post(f.admin, '/api/stop', { reason: 'access matrix: the stop is on' })
        else await post(f.admin, '/api/unstop')
      },
      async tidy() {
        await f.sim.clearFaults()
        const active = (
          (await (await f.admin.api('/api/rollouts?limit=500')).json()) as {
            rollouts: { id: string; state: string }[]
          }
        ).rollouts.filter((r) => !['succeeded', 'aborted', 'rolled-back', 'failed'].includes(r.state))
        for (const { id } of active) await post(f.admin, `/api/rollouts/${id}/abort`)
      },
      async settle() {
        const busy = async () =>
          (
            (await (await f.admin.api('/api/rollouts?limit=500')).json()) as {
              rollouts: { state: string }[]
            }
          ).rollouts.filter((r) => r.state === 'running' || r.state === 'queued').length
        if ((await pollUntil(busy, (n) => n === 0, 20_000)) > 0)
          throw new Error('rollouts still running after 20 s')
      },
    }
  }, 120_000)
  afterAll(async () => {
    await f?.close()
  })

  /**
   * Who calls a route: every caller of the matrix (for a `self-or-admin` route, each for another
   * user and for themselves), then ways around a token: a forged one, a revoked one, an admin's
   * portal session without and with its CSRF secret, and the route's own extra calls.
   */
  function attemptsOf(route: string, method: string, { access, refusal }: RouteAccess): Attempt[] {
    const asCaller = (caller: Caller, forSelf: boolean): Attempt => ({
      label: `${caller}${access === 'self-or-admin' ? (forSelf ? ' (for themselves)' : ' (for another)') : ''}`,
      call: { caller, name: caller === 'anonymous' ? SPARE : callers[caller].name, forSelf },
      credentials: caller === 'anonymous' ? {} : { authorization: `Bearer ${callers[caller].token}` },
      expected: mayCall(access, caller, forSelf)
        ? 'allowed'
        : caller === 'anonymous'
          ? 401
          : (refusal ?? 403),
    })
    const admin = { caller: 'admin', name: callers.admin.name, forSelf: false } as const
    const anonymous = { caller: 'anonymous', name: SPARE, forSelf: false } as const
    const changes = method !== 'GET'
    return [
      ...CALLERS.map((caller) => asCaller(caller, false)),
      ...(access === 'self-or-admin'
        ? CALLERS.filter((c) => c !== 'anonymous').map((caller) => asCaller(caller, true))
        : []),
      ...[
        ['a forged token', forgedToken],
        ['a revoked token of the admin', revokedToken],
      ].map(([label, token]) => ({
        label: label!,
        call: anonymous,
        credentials: { authorization: `Bearer ${token}` },
        expected: access === 'anyone' ? ('allowed' as const) : (401 as const),
      })),
      {
        label: "the admin's portal session, without its CSRF secret",
        call: admin,
        credentials: { cookie: `${SESSION_COOKIE}=${session.cookie}` },
        expected: changes ? 403 : 'allowed',
      },
      {
        label: "the admin's portal session, with its CSRF secret",
        call: admin,
        credentials: { cookie: `${SESSION_COOKIE}=${session.cookie}`, 'x-csrf-token': session.csrf },
        expected: 'allowed',
      },
      ...(EXTRA_CALLS[route]?.() ?? []).map((extra) => ({
        ...extra,
        call: anonymous,
        credentials: {},
      })),
      // Ids that name nothing: an unknown one, and one with a NUL byte.
      ...(route.includes('{')
        ? ['no-such-thing', '%00'].map((id) => ({
            label: `the admin, naming ${id}`,
            call: admin,
            credentials: { authorization: `Bearer ${callers.admin.token}` },
            path: route.split(' ')[1]!.replace(/\{\w+\}/g, id),
            expected: 'missing' as const,
          }))
        : []),
    ]
  }

  test('every route of the OpenAPI document, as every caller: no unexpected 2xx, no 5xx, refusals change nothing', async ({
    annotate,
  }) => {
    const document = (await (await fetch(`${f.server.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>
    }
    const routes = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => ({
        route: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        needsBody: operation.requestBody !== undefined,
      })),
    )
    // A new route needs an entry in the table, and an example when it has parameters or a body.
    expect(routes.map((r) => r.route).filter((route) => !ROUTE_ACCESS[route])).toEqual([])
    expect(
      routes.filter((r) => (r.route.includes('{') || r.needsBody) && !EXAMPLES[r.route]).map((r) => r.route),
    ).toEqual([])

    const problems: string[] = []
    const notOk: string[] = []
    /** The ids of the server errors of {@link KNOWN_BUGS}, which the server's log shows. */
    const knownErrors = new Set<string>()
    for (const { route, method } of routes) {
      await w.settle()
      const attempts = attemptsOf(route, method, ROUTE_ACCESS[route]!)
      let succeeded = 0
      // Refused attempts first: the allowed ones may change what the next one finds.
      const allowedLast = [
        ...attempts.filter((a) => a.expected !== 'allowed'),
        ...attempts.filter((a) => a.expected === 'allowed'),
      ]
      for (const attempt of allowedLast) {
        const example = attempt.request ?? (await exampleOf(route)(w, attempt.call))
        const request = attempt.path === undefined ? example : { ...example, path: attempt.path }
        const before = attempt.expected === 'allowed' ? '' : await footprint(w.db)
        const response = await fetch(f.server.url + request.path, {
          method,
          headers: {
            ...attempt.credentials,
            ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...request.headers,
          },
          ...(request.body !== undefined
            ? { body: typeof request.body === 'string' ? request.body : JSON.stringify(request.body) }
            : {}),
          signal: AbortSignal.timeout(30_000),
        })
        const { status } = response
        // An event stream of a rollout still under way never ends: its status is enough.
        const stream = response.headers.get('content-type')?.startsWith('text/event-stream') ?? false
        if (stream) await response.body?.cancel()
        const text = stream ? '' : await response.text()
        const what = `${route} as ${attempt.label}: ${status} ${text.slice(0, 200)}`
        const known = KNOWN_BUGS[`${route} as ${attempt.label}`]
        if (known !== undefined) {
          if (status < 500) problems.push(`fixed, so take it out of KNOWN_BUGS: ${what} (${known})`)
          knownErrors.add(/internal error ([0-9a-f]+)/.exec(text)?.[1] ?? '')
          continue
        }
        if (status >= 500) problems.push(`server error: ${what}`)
        else if (attempt.expected === 'allowed') {
          if (status < 300) succeeded++
          else if ([404, 409, 422].includes(status)) notOk.push(what)
          else problems.push(`refused or bad request, though the table allows it: ${what}`)
        } else if (attempt.expected === 'missing') {
          if (status !== 400 && status !== 404) problems.push(`not 400 or 404 for nothing there: ${what}`)
        } else if (status !== attempt.expected) {
          problems.push(`${status < 300 ? 'unexpected 2xx' : `not ${attempt.expected}`}: ${what}`)
        }
        const after = attempt.expected === 'allowed' ? '' : await footprint(w.db)
        if (after !== before) problems.push(`a refused call changed ${changed(before, after)}: ${what}`)
      }
      if (succeeded === 0 && !NO_SUCCESS_HERE[route]) problems.push(`${route}: no allowed caller got a 2xx`)
      await AFTER[route]?.(w)
    }
    // State-dependent answers to allowed callers (a rollout already approved, …): fine, but shown.
    if (notOk.length > 0) await annotate(notOk.join('\n'))
    expect(problems).toEqual([])
    expect(
      f.logs.filter((line) => line.startsWith('error ') && !knownErrors.has(line.split(' ')[1]!)),
    ).toEqual([])
  }, 300_000)

  test('a change that touches two teams: a member of either alone is refused its start and its controls; an elevated member is not', async () => {
    await w.tidy()
    const fleet = await loadCommit(f.repo, 'HEAD')
    const member = callers['other-team']
    const theirs = fleet.targets.find(
      (t) =>
        t.kind === 'account' &&
        fleet.teams.get(t.team)?.members.includes(member.name) &&
        fleet.desired.get(t.id)?.stacks.some((s) => s.stackName === 'logging'),
    )!
    setLogExpiry(f.repo, { [f.devAccount]: 90, [theirs.id]: 90 })
    await commitAll(f.repo, 'Access matrix: logs for 90 days in accounts of two teams')
    const refusal = async (user: TestUser, path: string) => {
      const response = await user.api(path, { method: 'POST', body: {} })
      return { status: response.status, error: ((await response.json()) as { error?: string }).error }
    }
    expect(await refusal(callers['owning-team'], '/api/rollouts')).toEqual({
      status: 403,
      error: expect.stringContaining(`it touches team ${theirs.team}, and`),
    })
    expect(await refusal(member, '/api/rollouts')).toEqual({
      status: 403,
      error: expect.stringContaining(`it touches team ${f.team}, and`),
    })
    const started = await callers.elevated.api('/api/rollouts', { method: 'POST', body: {} })
    expect(started.status).toBe(201)
    const { id } = (await started.json()) as { id: string }
    await w.settle() // an abort while the worker moves it on is a 409 (it changed while you asked)
    for (const user of [callers['owning-team'], member])
      expect((await refusal(user, `/api/rollouts/${id}/abort`)).status).toBe(403)
    expect((await callers.admin.api(`/api/rollouts/${id}/abort`, { method: 'POST' })).status).toBe(200)
  }, 60_000)
})
