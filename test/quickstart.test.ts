/**
 * `npm start`'s quickstart: the server answers while the example is still being applied in the
 * background, the portal shows the progress in a banner (gone once everything applied), and an
 * apply stopped midway resumes on the next start with what is left. The pieces are those of
 * `src/cli/start.ts` — `serveApplication` with `bootstrapExample` as its background work — on a
 * small example fleet. A simulated fleet that holds its applies at a gate keeps the apply under
 * way for as long as a test looks, with no timing involved.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Application } from '../src/app/application.ts'
import { bootstrapExample, exampleWork } from '../src/app/bootstrap-example.ts'
import { BootstrapProgress } from '../src/app/bootstrap-progress.ts'
import { serveApplication } from '../src/cli/commands/serve.ts'
import type { CliIo } from '../src/cli/io.ts'
import type { ApplyReport, ApplyRequest } from '../src/core/provider/port.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { appliedStates } from '../src/operations/applied-states.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { loadCommit } from '../src/rollout/runner.ts'
import { resolveCommit } from '../src/source/git.ts'
import { listAuditEntries } from '../src/store/audit.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import { exampleRepo } from './support/rollout-fleet.ts'
import { pollUntil } from './support/sim-cli.ts'

/** A simulated fleet whose applies after the first `free` wait until {@link GatedSim.open}. */
class GatedSim extends SimProvider {
  private free: number
  private release!: () => void
  private readonly gate = new Promise<void>((resolve) => {
    this.release = resolve
  })

  constructor(options: ConstructorParameters<typeof SimProvider>[0], free: number) {
    super(options)
    this.free = free
  }

  open(): void {
    this.release()
  }

  override async apply(request: ApplyRequest): Promise<ApplyReport> {
    if (this.free > 0) this.free--
    else await this.gate
    return super.apply(request)
  }
}

/** The quickstart's server with its background apply, as `src/cli/start.ts` composes them. */
async function quickstart(app: Application, repo: string) {
  const out: string[] = []
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => out.push(t), isTTY: false, cwd: repo }
  const progress = new BootstrapProgress()
  const stop = new AbortController()
  let applying: Promise<void> | undefined
  const serving = serveApplication(app, { repo, port: 0 }, io, stop.signal, {
    bootstrap: progress,
    background: (server, signal) => {
      applying = server.fleets.snapshot().then(({ commit, fleet }) =>
        bootstrapExample({
          app,
          fleet,
          revision: commit,
          progress,
          signal,
          log: (l) => out.push(`${l}\n`),
        }),
      )
      return applying
    },
  })
  const printed = await pollUntil(
    async () => out.join(''),
    (text) => /on (http:\S+)/.test(text) && applying !== undefined,
    60_000,
  )
  const url = /on (http:\S+)/.exec(printed)?.[1]
  if (!url) throw new Error(`the server did not start: ${printed}`)
  const token = /Admin token: (flt_\S+)/.exec(printed)?.[1]
  return {
    url,
    token,
    progress,
    out,
    /** The background apply, once it has begun. */
    applied: () => applying!,
    async close() {
      stop.abort()
      expect(await serving).toBe(0)
    },
  }
}

describe.each(testBackends)('the quickstart, on %s', (backend) => {
  const testStore = useTestStore(backend)
  let repo: string
  let dispose: () => void
  let total: number
  let revision: string
  let token: string
  beforeAll(async () => {
    ;({ repo, dispose } = await exampleRepo({ accounts: 12, clusters: 4 }))
    revision = await resolveCommit(repo, 'HEAD')
    const fleet = await loadCommit(repo, revision)
    total = fleet.targets.filter((t) => {
      const d = fleet.desired.get(t.id)
      return d !== undefined && d.stacks.length + d.manifests.length > 0
    }).length
  }, 60_000)
  afterAll(() => dispose?.())

  const appWith = (sim: SimProvider) =>
    new Application({ db: testStore.store.db, registry: new ProviderRegistry([sim]), repoDir: repo })
  const get = (url: string, path: string) =>
    fetch(url + path, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(50_000) })

  test('the server answers while the example is still being applied; stopped midway, it keeps what it applied', async () => {
    const sim = new GatedSim({ db: testStore.store.db }, 3)
    await sim.updateSettings({ latencyScale: 2 })
    const q = await quickstart(appWith(sim), repo)
    token = q.token!
    expect(token).toBeDefined()
    // Three applies went through; every other waits at the gate: the apply is under way.
    await pollUntil(
      async () => q.progress.current()?.done ?? 0,
      (done) => done >= 3,
      60_000,
    )
    const status = q.progress.current()!
    expect(status).toMatchObject({ state: 'applying', total, revision })
    expect(status.done).toBeLessThan(total)

    const me = await get(q.url, '/api/me')
    expect(me.status).toBe(200)
    const accounts = await get(q.url, '/api/accounts')
    expect(accounts.status).toBe(200)
    const page = await get(q.url, '/accounts')
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('data-bootstrap')
    expect(html).toMatch(/Applying the example: \d+ of \d+ targets/)
    const api = (await (await get(q.url, '/api/bootstrap')).json()) as {
      bootstrap: { state: string; done: number; total: number; summary: string }
      shown: boolean
    }
    expect(api.shown).toBe(true)
    expect(api.bootstrap).toMatchObject({ state: 'applying', total })
    expect(api.bootstrap.done).toBeLessThan(total)
    expect(api.bootstrap.summary).toMatch(/^Applying the example: /)
    // The simulated clouds settle at once while the example is built.
    expect((await sim.settings()).latencyScale).toBe(0)

    // Stopping the server stops the apply: the applied targets stay, the latency scale is restored.
    await q.close()
    expect(q.progress.current()!.state).toBe('stopped')
    expect(q.out.join('')).toMatch(/Stopped applying the example at \d+ of \d+ targets/)
    expect((await sim.settings()).latencyScale).toBe(2)
    const work = await exampleWork(appWith(sim), await loadCommit(repo, revision), revision)
    expect(work).toBeDefined()
    expect(work!.resumed).toBe(true)
    expect(work!.latencyScale).toBe(2)
    expect(work!.alreadyDone).toBeGreaterThanOrEqual(3)
    expect(work!.left.length + work!.alreadyDone).toBe(total)
    expect(work!.left.length).toBeGreaterThan(0)
  }, 120_000)

  test('the next start applies what is left, the banner goes once it is done, and a third start applies nothing', async () => {
    expect(token).toBeDefined() // the first test ran
    const sim = new GatedSim({ db: testStore.store.db }, 1)
    const q = await quickstart(appWith(sim), repo)
    expect(q.token).toBeUndefined() // shown on the first start only
    await pollUntil(
      async () => q.progress.current()?.state,
      (state) => state === 'applying',
      60_000,
    )
    expect(q.out.join('')).toMatch(/Applying the rest of the example .* \d+ of \d+ targets left/)
    const before = q.progress.current()!.done
    expect(before).toBeGreaterThanOrEqual(3) // the first start's count
    expect(before).toBeLessThan(total)
    expect((await get(q.url, '/accounts')).status).toBe(200)

    sim.open()
    await q.applied()
    const done = q.progress.current()!
    expect(done).toMatchObject({ state: 'done', done: total, total, failed: 0 })
    expect(q.out.join('')).toContain(`Applied the example: ${total} of ${total} targets`)
    const page = await get(q.url, '/accounts')
    expect(page.status).toBe(200)
    expect(await page.text()).not.toContain('data-bootstrap')
    const api = (await (await get(q.url, '/api/bootstrap')).json()) as { shown: boolean }
    expect(api.shown).toBe(false)
    await q.close()
    expect((await sim.settings()).latencyScale).toBe(2)

    const fleet = await loadCommit(repo, revision)
    const states = await appliedStates(
      testStore.store.db,
      fleet.targets.map((t) => t.id),
    )
    expect([...states.values()].filter((s) => s.intended === null && s.revision === revision)).toHaveLength(
      total,
    )
    const [last] = await listAuditEntries(testStore.store.db, { subject: 'example fleet', limit: 1 })
    expect(last?.action).toBe('bootstrap-finished')
    // A third start finds nothing to do.
    expect(await exampleWork(appWith(new SimProvider({ db: testStore.store.db })), fleet, revision)).toBe(
      undefined,
    )
  }, 120_000)
})
