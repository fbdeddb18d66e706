/**
 * The sandbox a drill plays in: a scratch clone of the fleet repository and a simulated fleet of
 * its own, in an embedded store in memory. Nothing a drill does reaches the user's repository,
 * their store (`FLOTILLA_DATABASE_URL` is not read) or any real cloud: every target is simulated.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseDocument } from 'yaml'
import { InputError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import { ProviderRegistry } from '../core/provider/registry.ts'
import { git, resolveCommit } from '../core/source/git.ts'
import { commitChanges } from '../example/write-repository.ts'
import { applyFleet, BOOTSTRAP_POLICY_TIME } from '../operations/apply-fleet.ts'
import { SimProvider } from '../providers/sim/sim-provider.ts'
import { loadCommit, openRunner, type Runner } from '../rollout/runner.ts'
import { openDatabase, type Store } from '../store/database.ts'
import { migrateToLatest } from '../store/migrate.ts'

/** An open sandbox (see the module comment). */
export interface ScratchFleet {
  /** The scratch clone. */
  readonly repo: string
  /** The commit drilled, as the user's repository has it. */
  readonly drilled: string
  /** The commit every scenario starts from: the revision drilled, with bakes taken out. */
  readonly base: string
  readonly baseFleet: Fleet
  readonly store: Store
  readonly sim: SimProvider
  readonly registry: ProviderRegistry
  readonly runner: Runner
  /** Empties the simulated fleet and builds the base revision in it, at full speed. */
  build(): Promise<void>
  /** Puts the scratch clone back on the base commit, on a branch named `branch`. */
  branch(branch: string): Promise<void>
  /** Commits the working tree of the clone. */
  commit(message: string): Promise<string>
  close(): Promise<void>
}

/**
 * Clones `rev` of `source` into a temporary directory and opens a simulated fleet for it. Bake
 * times are set to 0 in a first commit of the clone: the simulator does not degrade while a stage
 * bakes, so waiting would only make the drill slower, never different.
 */
export async function openScratchFleet(source: string, rev: string): Promise<ScratchFleet> {
  const commit = await resolveCommit(source, rev)
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-drill-'))
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })]
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  }
  try {
    const repo = join(dir, 'fleet')
    await git(dir, ['clone', '--quiet', '--no-checkout', source, repo])
    await git(repo, ['checkout', '--quiet', '-B', 'drill', commit])
    const base = noBakes(repo) ? await commitChanges(repo, 'Drill: no bake times') : commit
    const baseFleet = await loadCommit(repo, base)
    const elsewhere = baseFleet.targets.filter((t) => t.provider !== 'sim')
    if (elsewhere.length > 0) {
      throw new InputError(
        `the drill runs on the simulated fleet, and ${elsewhere.length} targets use another provider (${elsewhere[0]!.id} uses "${elsewhere[0]!.provider}"); drill a revision whose targets use provider: sim`,
      )
    }
    const store = await openDatabase({ kind: 'pglite' })
    cleanups.push(() => store.close())
    await migrateToLatest(store.db)
    const sim = new SimProvider({ db: store.db })
    const registry = new ProviderRegistry([sim])
    const runner = await openRunner({ repoDir: repo, db: store.db, registry, sim })
    cleanups.push(() => runner.close())
    return {
      repo,
      drilled: commit,
      base,
      baseFleet,
      store,
      sim,
      registry,
      runner,
      async build() {
        await sim.reset()
        await sim.updateSettings({ latencyScale: 0 })
        await sim.seed(baseFleet.targets, baseFleet.clusters)
        const result = await applyFleet({
          head: baseFleet,
          registry,
          db: store.db,
          revision: base,
          now: BOOTSTRAP_POLICY_TIME,
          concurrency: 8,
        })
        const failed = [...result.failed]
        if (result.blocked || failed.length > 0) {
          throw new InputError(
            `revision ${commit.slice(0, 12)} cannot be built in an empty simulated fleet (${result.blocked ? `its plan is ${result.blocked}` : `${failed[0]![0]}: ${failed[0]![1]}`}); drill a revision that applies cleanly`,
          )
        }
      },
      async branch(branch) {
        await git(repo, ['checkout', '--quiet', '--force', '-B', branch, base])
      },
      commit: (message) => commitChanges(repo, message),
      close: closeAll,
    }
  } catch (error) {
    await closeAll()
    throw error
  }
}

/** Sets every `bake` of `rollout.yaml` to `0s`; says whether anything changed. */
function noBakes(repo: string): boolean {
  const path = join(repo, 'rollout.yaml')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return false // no rollout.yaml: loading the revision reports it
  }
  const document = parseDocument(text)
  const paths: (string | number)[][] = [['defaults', 'bake']]
  const stages = document.getIn(['stages']) as { items?: unknown[] } | undefined
  for (let index = 0; index < (stages?.items?.length ?? 0); index++) paths.push(['stages', index, 'bake'])
  let changed = false
  for (const at of paths) {
    const value = document.getIn(at)
    if (value !== undefined && value !== '0s') {
      document.setIn(at, '0s')
      changed = true
    }
  }
  if (changed) writeFileSync(path, document.toString())
  return changed
}
