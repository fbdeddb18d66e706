// npm start: the product on its embedded defaults. Creates the example fleet repository (once),
// seeds the simulated fleet from it in the embedded store, applies the example revision to it
// (on the first start), and serves the portal and the API on http://localhost:8080 — printing the
// URL and, on the first start, the admin token.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { resolveCommit } from '../core/source/git.ts'
import { writeExampleFleet } from '../example/write-example.ts'
import { applyFleet, BOOTSTRAP_POLICY_TIME } from '../operations/apply-fleet.ts'
import { loadCommit } from '../rollout/runner.ts'
import { openFleetStore } from './fleet-store.ts'
import { processIo } from './io.ts'
import { runCli } from './main.ts'

const io = processIo()
const dir = resolve(io.cwd, process.env.FLOTILLA_EXAMPLE_DIR ?? 'example-fleet')
if (!existsSync(dir)) {
  io.stdout(`Creating the example fleet in ${dir} …\n`)
  const { commit } = await writeExampleFleet(dir)
  io.stdout(`Committed ${commit.slice(0, 7)}.\n`)
}
const opened = await openFleetStore({ repo: dir }, io.cwd)
try {
  const commit = await resolveCommit(dir, 'HEAD')
  const fleet = await loadCommit(dir, commit)
  await opened.sim.seed(fleet.targets, fleet.clusters)
  const applied = await opened.store.db.selectFrom('applied_states').select('target').limit(1).execute()
  if (applied.length === 0) {
    io.stdout(
      `Applying ${dir} (${commit.slice(0, 7)}) to the simulated fleet: ${fleet.targets.length} targets …\n`,
    )
    const started = Date.now()
    // Built at once, not at the simulated clouds' pace (minutes); later changes take their time.
    const { latencyScale } = await opened.sim.settings()
    await opened.sim.updateSettings({ latencyScale: 0 })
    const result = await applyFleet({
      head: fleet,
      registry: opened.registry,
      db: opened.store.db,
      revision: commit,
      // Policies see an ordinary weekday: the example's freeze covers some days of the year.
      now: BOOTSTRAP_POLICY_TIME,
      concurrency: 8,
    })
    await opened.sim.updateSettings({ latencyScale })
    if (result.blocked) io.stdout(`Not applied: the plan is ${result.blocked}.\n`)
    else
      io.stdout(
        `Applied ${result.applied} targets in ${((Date.now() - started) / 1000).toFixed(1)} s${result.failed.size > 0 ? `; ${result.failed.size} failed` : ''}.\n`,
      )
  }
} finally {
  await opened.close()
}
process.exitCode = await runCli(['serve', '--repo', dir, '--port', process.env.PORT ?? '8080'], io)
