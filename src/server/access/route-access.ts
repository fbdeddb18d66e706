/**
 * Who may call each route of the API, written down in one table: the role × endpoint × team
 * matrix of `docs/server.md` is generated from it, and `test/access-matrix.test.ts` calls every
 * route of the OpenAPI document as every kind of caller and fails where the server disagrees.
 *
 * The server's checks stay where they are (`permissions.ts` and the routes); this table only
 * describes them. A new route needs one entry here, or the walk fails.
 */

/**
 * The kinds of caller the matrix distinguishes, as its columns. The team columns are members
 * (stored role `member`) and describe the team that owns the targets a request concerns; a viewer
 * stays a viewer whatever team lists them, an admin needs no team, and `elevated` is a member of
 * no team with an active emergency elevation.
 */
export const CALLERS = [
  'anonymous',
  'viewer',
  'owning-team',
  'other-team',
  'no-team',
  'admin',
  'elevated',
] as const
export type Caller = (typeof CALLERS)[number]

/** What each caller column means, for the page. */
export const CALLER_DESCRIPTIONS: Readonly<Record<Caller, string>> = {
  anonymous: 'no token',
  viewer: 'role `viewer`, even when a team lists them',
  'owning-team': 'a `member` of the team that owns every target the request concerns',
  'other-team': 'a `member` of another team only',
  'no-team': 'a `member` whom no team lists',
  admin: 'role `admin`',
  elevated: 'a `member` (of no team) with active emergency access',
}

/**
 * The access levels, weakest requirement first:
 * - `anyone`: no sign-in needed;
 * - `signed-in`: every role, viewers too;
 * - `member`: members (whatever their teams), admins and elevated members — not viewers;
 * - `owner`: members of the team owning every target concerned, admins, elevated members;
 * - `self-or-admin`: anyone signed in for themselves (the path names them), admins for anyone;
 * - `admin-or-elevated`: admins and elevated members;
 * - `admin`: the stored role admin only: an elevation does not count.
 */
export const ACCESS_LEVELS = [
  'anyone',
  'signed-in',
  'member',
  'owner',
  'self-or-admin',
  'admin-or-elevated',
  'admin',
] as const
export type AccessLevel = (typeof ACCESS_LEVELS)[number]

/** One route's entry: who may call it, and a line on why or on what "concerned" means (empty for a plain read). */
export interface RouteAccess {
  readonly access: AccessLevel
  readonly note: string
  /**
   * The status a signed-in caller who may not call it gets, when not 403: a route may answer
   * "no such thing" (404) rather than say that something of someone else's exists.
   * @default 403
   */
  readonly refusal?: 404
}

/** A read: every role; its note only when it says more than that. */
const read = (note = ''): RouteAccess => ({ access: 'signed-in', note })
const ownerOfRollout = (what: string): RouteAccess => ({
  access: 'owner',
  note: `${what}; every target of the rollout counts`,
})

/**
 * Every route of the OpenAPI document, as `METHOD /api/path` with `{param}` placeholders. A new
 * route needs its line here (the matrix, rendered in the document's order, and the walk fail
 * without it).
 */
export const ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = {
  'GET /api/me': read('who am I'),
  'GET /api/teams': read(),
  'GET /api/accounts': read(),
  'GET /api/accounts/{id}': read(),
  'GET /api/clusters': read(),
  'GET /api/clusters/{id}': read(),
  'GET /api/plans': read(),
  'GET /api/approvals': read(),
  'POST /api/approvals': {
    access: 'owner',
    note: 'each address by the team owning its target (on the trusted branch and in the revision); `plan/…` by owners of every changed target; `governance/…` by `trust.owners`',
  },
  'GET /api/rollouts': read(),
  'GET /api/rollouts/preview': read(),
  'POST /api/rollouts': {
    access: 'owner',
    note: 'every target the plan changes counts; a protected destruction also needs an approval by someone else',
  },
  'GET /api/rollouts/{id}': read(),
  'POST /api/rollouts/{id}/pause': ownerOfRollout('pause'),
  'POST /api/rollouts/{id}/resume': ownerOfRollout('resume'),
  'POST /api/rollouts/{id}/abort': ownerOfRollout('abort'),
  'POST /api/rollouts/{id}/approve': ownerOfRollout("approve a stage, never the rollout's own author"),
  'POST /api/rollouts/{id}/retry': ownerOfRollout('retry a failed target'),
  'POST /api/rollouts/{id}/skip': ownerOfRollout('skip a failed target'),
  'GET /api/rollouts/{id}/events': read(),
  'GET /api/bootstrap': read(),
  'GET /api/stop': read(),
  'POST /api/stop': { access: 'signed-in', note: 'the emergency brake never waits for a permission' },
  'POST /api/unstop': { access: 'admin-or-elevated', note: 'releasing the brake takes an admin' },
  'GET /api/snapshots': read(),
  'POST /api/snapshots/{id}/restore': { access: 'owner', note: "the snapshot's target counts" },
  'GET /api/sim/faults': read(),
  'POST /api/sim/faults': { access: 'owner', note: 'the target named counts' },
  'DELETE /api/sim/faults': { access: 'owner', note: 'the target named counts' },
  'GET /api/audit': read(),
  'GET /api/revisions': read(),
  'GET /api/drift': read(),
  'POST /api/drift/check': {
    access: 'member',
    note: "a check observes the whole fleet (bounded like plans); reverting drift is the server's own setting (`--revert-drift`)",
  },
  'POST /api/cli': {
    access: 'signed-in',
    note: 'then by command: reads and `stop` for everyone signed in, changes for admins and elevated members, `users` for admins; or the local credential of the store folder, for every command',
  },
  'POST /api/cli/runs/{id}/interrupt': {
    access: 'signed-in',
    note: 'the run of the caller only (404 for another)',
  },
  'POST /api/webhook': {
    access: 'member',
    note: 'or no sign-in, with a body signed by `FLOTILLA_WEBHOOK_SECRET`',
  },
  'GET /api/users': { access: 'admin', note: 'an elevation does not count' },
  'POST /api/users': { access: 'admin', note: 'an elevation does not count' },
  'POST /api/users/{name}/disable': {
    access: 'admin',
    note: 'never the last enabled admin; an elevation does not count',
  },
  'POST /api/users/{name}/enable': { access: 'admin', note: 'an elevation does not count' },
  'GET /api/users/{name}/tokens': {
    access: 'self-or-admin',
    note: 'never the secrets; for others an admin (an elevation does not count)',
  },
  'POST /api/users/{name}/tokens': {
    access: 'self-or-admin',
    note: 'for others an admin (an elevation does not count)',
  },
  'DELETE /api/tokens/{id}': {
    access: 'self-or-admin',
    note: "someone else's token is a 404 to anyone but an admin: its id tells them nothing",
    refusal: 404,
  },
  'POST /api/users/{name}/elevations': { access: 'admin', note: 'an elevation does not count' },
  'DELETE /api/users/{name}/elevations': {
    access: 'self-or-admin',
    note: 'its holder may end it early; for others an admin (an elevation does not count)',
  },
  'GET /api/openapi.json': { access: 'anyone', note: "the API's own description" },
}

/**
 * Whether `caller` may call a route of level `access`; for `self-or-admin`, `forSelf` says
 * whether the request names the caller.
 */
export function mayCall(access: AccessLevel, caller: Caller, forSelf = false): boolean {
  if (access === 'anyone') return true
  if (caller === 'anonymous') return false
  switch (access) {
    case 'signed-in':
      return true
    case 'member':
      return caller !== 'viewer'
    case 'owner':
      return caller === 'owning-team' || caller === 'admin' || caller === 'elevated'
    case 'self-or-admin':
      return forSelf || caller === 'admin'
    case 'admin-or-elevated':
      return caller === 'admin' || caller === 'elevated'
    case 'admin':
      return caller === 'admin'
  }
}
