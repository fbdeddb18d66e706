/**
 * A server on the simulated example fleet for tests: an example repository with quick stages,
 * the fleet applied to the simulated fleet, users of two teams and a viewer with their tokens,
 * and `startServer` on a free loopback port.
 */
import type { Kysely } from 'kysely'
import type { Fleet, Target } from '../../src/core/model/fleet-model.ts'
import { ProviderRegistry } from '../../src/core/provider/registry.ts'
import { applyFleet } from '../../src/operations/apply-fleet.ts'
import { SimProvider } from '../../src/providers/sim/sim-provider.ts'
import { loadCommit } from '../../src/rollout/runner.ts'
import { createUser, mintToken } from '../../src/server/access/users-store.ts'
import { type RunningServer, startServer } from '../../src/server/serve.ts'
import type { Database } from '../../src/store/tables.ts'
import { commitAll, editRollout, exampleRepo, quickStages } from './rollout-fleet.ts'
import { NOW, replaceOnce } from './sim-cli.ts'

/** A signed-up user of a test server. */
export interface TestUser {
  readonly name: string
  readonly token: string
  /** `fetch` on the server as this user (JSON bodies). */
  api(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>
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
  close(): Promise<void>
}

/** Starts the server (see the module comment). */
export async function serverFleet(db: Kysely<Database>): Promise<ServerFleet> {
  const { repo, dispose } = await exampleRepo()
  editRollout(repo, quickStages)
  const commit = await commitAll(repo, 'Rollouts without bakes and without the Prometheus gate')
  const fleet = await loadCommit(repo, commit)
  const sim = new SimProvider({ db })
  await sim.updateSettings({ latencyScale: 0 })
  const registry = new ProviderRegistry([sim])
  await sim.seed(fleet.targets)
  await applyFleet({ head: fleet, registry, db, revision: commit, now: new Date(NOW) })
  const logs: string[] = []
  const server = await startServer({
    db,
    registry,
    sim,
    repoDir: repo,
    port: 0,
    policyNow: new Date(NOW),
    log: (line) => logs.push(line),
  })
  const user = (name: string, token: string): TestUser => ({
    name,
    token,
    api: (path, init = {}) =>
      fetch(server.url + path, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...init.headers,
        },
        ...(init.body !== undefined
          ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }
          : {}),
        signal: AbortSignal.timeout(30_000),
      }),
  })
  const admin = user('admin', server.adminToken!)
  // alice: a member of the team of a dev account; mallory: a member of a team that owns no dev account.
  const dev = firstDevAccount(fleet)
  const team = fleet.teams.get(dev.team)!
  const other = [...fleet.teams.values()].find(
    (t) => t.id !== team.id && t.members.length > 0 && !t.members.includes(team.members[0]!),
  )!
  const system = { name: 'test', source: 'test' }
  const signUp = async (name: string, role: 'viewer' | 'member') => {
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
