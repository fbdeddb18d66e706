/**
 * A server on the simulated example fleet for tests: an example repository with quick stages,
 * the fleet applied to the simulated fleet, users of two teams and a viewer with their tokens,
 * and `startServer` on a free loopback port.
 */
import type { Kysely } from 'kysely'
import { mintToken } from '../../src/app/access/tokens-store.ts'
import { createUser } from '../../src/app/access/users-store.ts'
import { Application } from '../../src/app/application.ts'
import { runCli } from '../../src/cli/main.ts'
import type { Fleet, Target } from '../../src/core/model/fleet-model.ts'
import { ProviderRegistry } from '../../src/core/provider/registry.ts'
import { applyFleet } from '../../src/operations/apply-fleet.ts'
import { SimProvider } from '../../src/providers/sim/sim-provider.ts'
import { loadCommit } from '../../src/rollout/runner.ts'
import { type RunningServer, type ServerOptions, startServer } from '../../src/server/serve.ts'
import type { Database } from '../../src/store/tables.ts'
import { commitAll, editRollout, exampleRepo, quickStages, type RolloutYaml } from './rollout-fleet.ts'
import { NOW, replaceOnce } from './sim-cli.ts'

/** A signed-up user of a test server. */
/** A JSON response's status and body, for assertions. */
export async function json(response: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

export interface TestUser {
  readonly name: string
  readonly token: string
  /** `fetch` on the server as this user (JSON bodies). */
  api(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>
}

/** A user of the server at `url` who sends `token`. */
export function testUser(url: string, name: string, token: string): TestUser {
  return {
    name,
    token,
    api: (path, init = {}) =>
      answerOf(`${init.method ?? 'GET'} ${path} (as ${name})`, url + path, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...init.headers,
        },
        ...(init.body !== undefined
          ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }
          : {}),
        // Generous: under a loaded CI the server stalls for seconds at a time (issue 21 is about that).
        signal: AbortSignal.timeout(50_000),
      }),
  }
}

/** `fetch`, whose timeout before the headers names the request (a bare TimeoutError names none; a body read past the timeout still fails unnamed). */
async function answerOf(request: string, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init)
  } catch (error) {
    if (error instanceof Error && error.name === 'TimeoutError')
      throw new Error(`${request}: no answer within 50 s`, { cause: error })
    throw error
  }
}

/** A running test server and its users. */
export interface ServerFleet {
  readonly repo: string
  readonly server: RunningServer
  readonly sim: SimProvider
  readonly admin: TestUser
  /** A member of `team`, the owner of {@link ServerFleet.devAccount}. */
  readonly alice: TestUser
  /** A member of another team only. */
  readonly mallory: TestUser
  /** Another member of alice's team. */
  readonly bob: TestUser
  readonly viewer: TestUser
  readonly team: string
  /** An account of alice's team in the first stage (dev). */
  readonly devAccount: string
  readonly logs: string[]
  /** Creates another user with a token. */
  signUp(name: string, role: 'viewer' | 'member' | 'admin'): Promise<TestUser>
  close(): Promise<void>
}

/** Server options a test may set on top of the fixture's, and further changes to `rollout.yaml`. */
export type ServerFleetOptions = Pick<
  ServerOptions,
  'maxTokenDays' | 'trustProxy' | 'planConcurrency' | 'webhookRate' | 'webhookSecret'
> & {
  /** Changes `rollout.yaml` further, after {@link quickStages}, before the first commit is served. */
  readonly rollout?: (rollout: RolloutYaml) => void
}

/** Starts the server (see the module comment). */
export async function serverFleet(
  db: Kysely<Database>,
  options: ServerFleetOptions = {},
): Promise<ServerFleet> {
  const { rollout: editStages, ...serverOptions } = options
  const { repo, dispose } = await exampleRepo()
  editRollout(repo, (rollout) => {
    quickStages(rollout)
    editStages?.(rollout)
  })
  const commit = await commitAll(repo, 'Rollouts without bakes and without the Prometheus gate')
  const fleet = await loadCommit(repo, commit)
  const sim = new SimProvider({ db })
  await sim.updateSettings({ latencyScale: 0 })
  const registry = new ProviderRegistry([sim])
  await sim.seed(fleet.targets)
  await applyFleet({ head: fleet, registry, db, revision: commit, now: new Date(NOW) })
  const logs: string[] = []
  const server = await startServer({
    app: new Application({ db, registry, repoDir: repo }),
    repoDir: repo,
    port: 0,
    policyNow: new Date(NOW),
    log: (line) => logs.push(line),
    runCommand: runCli,
    ...serverOptions,
  })
  const user = (name: string, token: string) => testUser(server.url, name, token)
  const admin = user('admin', server.adminToken!)
  // alice: a member of the team of a dev account; mallory: a member of a team that owns no dev account.
  const dev = firstDevAccount(fleet)
  const team = fleet.teams.get(dev.team)!
  const other = [...fleet.teams.values()].find(
    (t) => t.id !== team.id && t.members.length > 0 && !t.members.includes(team.members[0]!),
  )!
  const system = { name: 'test', source: 'test' }
  const signUp = async (name: string, role: 'viewer' | 'member' | 'admin') => {
    await createUser(db, name, role, system)
    return user(name, (await mintToken(db, name, 'test', system)).token)
  }
  const alice = await signUp(team.members[0]!, 'member')
  const mallory = await signUp(other.members[0]!, 'member')
  const bob = await signUp(
    team.members.find((m) => m !== alice.name && !other.members.includes(m))!,
    'member',
  )
  const viewer = await signUp('vic.viewer', 'viewer')
  return {
    repo,
    server,
    sim,
    admin,
    alice,
    mallory,
    bob,
    viewer,
    team: team.id,
    devAccount: dev.id,
    logs,
    signUp,
    async close() {
      await server.close()
      dispose()
    },
  }
}

/** The first account of the first stage (dev) that receives stacks. */
export function firstDevAccount(fleet: Fleet): Target {
  return fleet.targets.find(
    (t) =>
      t.kind === 'account' &&
      fleet.stageOf.get(t.id) === 'dev' &&
      (fleet.desired.get(t.id)?.stacks.length ?? 0) > 0,
  )!
}

/**
 * Commits a change that destroys a protected resource in `repo`: a new DNS zone for an account of
 * `team` outside production (the old zone goes), its clusters' ingress names moved into it.
 * Returns the commit and the account.
 */
export async function moveZoneOfTeam(repo: string, team: string) {
  const fleet = await loadCommit(repo, 'HEAD')
  const account = fleet.targets.find(
    (t) =>
      t.kind === 'account' &&
      t.team === team &&
      t.environment !== 'production' &&
      fleet.desired.get(t.id)!.stacks.some((s) => s.stackName === 'route53-hostedzones'),
  )!
  const domain = String(account.config.dns_domain)
  replaceOnce(repo, account.at.file, `dns_domain: ${domain}`, `dns_domain: moved-${domain}`)
  // Its clusters' ingress names move with it: outside the account's zones they would not resolve.
  for (const cluster of fleet.targets.filter((t) => t.kind === 'cluster' && t.account === account.id)) {
    const ingress = String(cluster.config.ingress_domain)
    if (ingress.endsWith(`.${domain}`))
      replaceOnce(
        repo,
        cluster.at.file,
        `ingress_domain: ${ingress}`,
        `ingress_domain: ${ingress.slice(0, -domain.length)}moved-${domain}`,
      )
  }
  return {
    commit: await commitAll(repo, `A new zone for ${account.name}: the old one is destroyed`),
    account,
  }
}

/** {@link moveZoneOfTeam} for alice's team. */
export async function moveZone(f: ServerFleet) {
  return (await moveZoneOfTeam(f.repo, f.team)).account
}

/**
 * The portal's plan page once its plan is computed: the first load of a plan not computed yet
 * answers with its progress (and a `Refresh` header), as a browser would, it is loaded again.
 */
export async function computedPlanPage(load: () => Promise<Response>): Promise<string> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const response = await load()
    const text = await response.text()
    if (!text.includes('id="plan-progress"')) return text
    if (response.headers.get('refresh') === null) throw new Error('a progress page without a Refresh header')
    if (Date.now() > deadline) throw new Error('the plan was not computed within 60 s')
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/**
 * Reads a server-sent event stream until its text so far satisfies `enough`, then closes it.
 * A rollout's event stream ends only with the rollout: reading it whole waits for that.
 */
export async function readStreamUntil(
  response: Response,
  enough: (text: string) => boolean,
): Promise<string> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  try {
    while (!enough(text)) {
      const { done, value } = await reader.read()
      if (done) break
      text += value
    }
    return text
  } finally {
    await reader.cancel()
  }
}
