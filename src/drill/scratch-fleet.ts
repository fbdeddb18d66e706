/**
 * The sandbox a drill plays in: a scratch clone of the fleet repository and a simulated fleet of
 * its own, in an embedded store in memory. Nothing a drill does reaches the user's repository,
 * their store (`FLOTILLA_DATABASE_URL` is not read) or any real cloud: every target is simulated.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Application } from '../app/application.ts'
import { type Simulator, simulatedFleet } from '../app/simulator.ts'
import { InputError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import { ProviderRegistry } from '../core/provider/registry.ts'
import { commitChanges } from '../example/write-repository.ts'
import { applyFleet, BOOTSTRAP_POLICY_TIME } from '../operations/apply-fleet.ts'
import type { EngineDeps } from '../rollout/engine.ts'
import { git, resolveCommit } from '../source/git.ts'
import { openDrillStore } from './drill-store.ts'
import { editRolloutSections, zeroBake } from './rollout-edits.ts'
import { checkpointStore, type StoreCheckpoint } from './store-checkpoint.ts'

/** An open sandbox (see the module comment). */
export interface ScratchFleet {
  /** The scratch clone. */
  readonly repo: string
  /** The commit drilled, as the user's repository has it. */
  readonly drilled: string
  /** The commit every scenario starts from: the revision drilled, with bakes taken out. */
  readonly base: string
  readonly baseFleet: Fleet
  /** The application over the sandbox's store and its simulated fleet alone. */
  readonly app: Application
  /** The sandbox's simulated fleet: its services, settings and faults. */
  readonly simulator: Simulator
  /** The rollout engine over the scratch clone. */
  readonly engine: EngineDeps
  /**
   * Builds the base revision in the empty simulated fleet, at full speed; called again, puts the
   * store back as that first build left it (see `store-checkpoint.ts`).
   */
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
    const base = editRolloutSections(repo, zeroBake)
      ? await commitChanges(repo, 'Drill: no bake times')
      : commit
    // On disk in the scratch directory, not in memory: the simulated fleet's rows (every stack's
    // template, every object) are then the operating system's to cache, not the process's heap.
    const store = await openDrillStore(join(dir, 'store'))
    cleanups.push(() => store.close())
    const sim = simulatedFleet(store.db)
    const registry = new ProviderRegistry([sim])
    const app = new Application({ db: store.db, registry, repoDir: repo })
    cleanups.push(() => app.close()) // its engines; the store closes after it
    // Each scenario's revision is used by its own scenario only: the base and the one at hand are
    // kept, not four (a loaded revision of the example is tens of megabytes).
    const engine = await app.openEngine({ keepRevisions: 2 })
    // Through the engine: one loaded copy of the base for the scenarios and the rollouts.
    const baseFleet = await engine.deps.loadRevision(base)
    const elsewhere = baseFleet.targets.filter((t) => t.provider !== 'sim')
    if (elsewhere.length > 0) {
      throw new InputError(
        `the drill runs on the simulated fleet, and ${elsewhere.length} targets use another provider (${elsewhere[0]!.id} uses "${elsewhere[0]!.provider}"); drill a revision whose targets use provider: sim`,
      )
    }
    let built: StoreCheckpoint | undefined
    return {
      repo,
      drilled: commit,
      base,
      baseFleet,
      app,
      simulator: sim,
      engine: engine.deps,
      async build() {
        if (built) {
          await built.restore()
          return
        }
        await sim.reset()
        await sim.updateSettings({ latencyScale: 0 })
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
        built = await checkpointStore(store.db)
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
