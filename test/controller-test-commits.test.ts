/**
 * `flotilla serve --follow … --test-commits`: each allowed commit is tried with `flotilla test`
 * before its rollout. A harmless commit rolls out with its test kept; one that breaks DNS only at
 * run time is stopped as a denied plan is, nothing of it applied; the portal shows the result on
 * the commit's plan page. (The embedded store: the follower's decisions on PostgreSQL are the
 * subject of controller-follow.test.ts.)
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Application } from '../src/app/application.ts'
import type { FollowedCommit } from '../src/controller/follower.ts'
import { ProviderRegistry } from '../src/core/provider/registry.ts'
import { applyFleet } from '../src/operations/apply-fleet.ts'
import { SimProvider } from '../src/providers/sim/sim-provider.ts'
import { loadCommit } from '../src/rollout/runner.ts'
import { type RunningServer, startServer } from '../src/server/serve.ts'
import { git } from '../src/source/git.ts'
import { useTestStore } from '../src/store/test-store.ts'
import { commitAll, editRollout, exampleRepo, quickStages } from './support/rollout-fleet.ts'
import { NOW, pollUntil } from './support/sim-cli.ts'

describe('testing followed commits before their rollout', () => {
  const testStore = useTestStore('pglite')
  let upstream: string
  let dispose = () => {}
  let server: RunningServer
  const api = async (path: string, method = 'GET') => {
    const response = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${server.adminToken}` },
    })
    return (await response.json()) as Record<string, unknown>
  }
  const push = async (message: string): Promise<FollowedCommit> => {
    const commit = await commitAll(upstream, message)
    await api('/api/webhook', 'POST')
    const revisions = (await api('/api/revisions')).revisions as FollowedCommit[]
    expect(revisions[0]!.commit).toBe(commit)
    return revisions[0]!
  }
  const edit = (file: string, from: string | RegExp, to: string) => {
    const path = join(upstream, file)
    const text = readFileSync(path, 'utf8')
    const next = text.replace(from, to)
    expect(next).not.toBe(text)
    writeFileSync(path, next)
  }

  beforeAll(async () => {
    ;({ repo: upstream, dispose } = await exampleRepo({ accounts: 24, clusters: 30 }))
    editRollout(upstream, quickStages)
    const commit = await commitAll(upstream, 'Rollouts without bakes and without the Prometheus gate')
    const branch = (await git(upstream, ['rev-parse', '--abbrev-ref', 'HEAD'])).toString().trim()
    const db = testStore.store.db
    const sim = new SimProvider({ db })
    await sim.updateSettings({ latencyScale: 0 })
    const registry = new ProviderRegistry([sim])
    await applyFleet({
      head: await loadCommit(upstream, commit),
      registry,
      db,
      revision: commit,
      now: new Date(NOW),
    })
    server = await startServer({
      app: new Application({ db, registry, repoDir: upstream }),
      repoDir: upstream,
      port: 0,
      policyNow: new Date(NOW),
      log: () => {},
      follow: {
        source: upstream,
        branch,
        mirrorDir: mkdtempSync(join(tmpdir(), 'flotilla-mirror-')),
        intervalMs: 600_000,
        testCommits: true,
      },
      driftIntervalMs: 600_000,
    })
  }, 120_000)
  afterAll(async () => {
    await server?.close()
    dispose()
  })

  test('a harmless commit is tested, then rolled out, and its test is kept with it', async () => {
    edit('stacks/route53-hostedzones.yaml', 'managed by Flotilla"', 'managed by Flotilla, reviewed"')
    const decided = await push('A comment of the zones')
    expect(decided.status, decided.detail).toBe('rolling-out')
    expect(decided.test).toMatchObject({ verdict: 'passed' })
    expect(decided.test!.phases.map((p) => [p.name, p.state])).toEqual([
      ['upgrade', 'passed'],
      ['fresh', 'passed'],
    ])
    const state = await pollUntil(
      async () => (await api(`/api/rollouts/${decided.rollout}`)).state,
      (s) => ['succeeded', 'waiting-approval', 'rolled-back', 'halted'].includes(String(s)),
      30_000,
    )
    // Through the stages up to production, which waits for a person as the example's stages say.
    expect(state).toBe('waiting-approval')
  })

  test('a commit that breaks DNS only at run time is stopped by its test: nothing applied, and the plan page says why', async () => {
    const before = (await api('/api/rollouts')).rollouts as unknown[]
    edit(
      'inventory/clusters.yaml',
      /ingress_domain: ([a-z0-9.-]+)\.example\.org/g,
      'ingress_domain: $1.exmaple.org',
    )
    const decided = await push('Ingress names in the new domain')
    expect(decided.status).toBe('test-failed')
    expect(decided.rollout).toBeNull()
    // The first stage with public names fails its gates (the health gate resolves them too).
    expect(decided.detail).toMatch(/^flotilla test failed: upgrade: rolled-back in stage \w+: gates \w+/)
    expect(decided.test!.failures.join('\n')).toMatch(/exmaple\.org/)
    expect((await api('/api/rollouts')).rollouts as unknown[]).toHaveLength(before.length)

    const page = await fetch(`${server.url}/plans?rev=${decided.commit}`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    })
    let text = await page.text()
    for (let i = 0; i < 100 && /computing the plan/i.test(text); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      text = await (
        await fetch(`${server.url}/plans?rev=${decided.commit}`, {
          headers: { authorization: `Bearer ${server.adminToken}` },
        })
      ).text()
    }
    expect(text).toContain('Tested as an upgrade')
    expect(text).toMatch(/<code>flotilla test<\/code> failed/)
  })
})
