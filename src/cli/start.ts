// npm start: the product on its embedded defaults. Until the server exists, it creates the example
// fleet repository (once), validates it from its git revision and shows what one account and one
// cluster receive, so that a newcomer sees the whole pipeline work in one command.
import { existsSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { loadFleet } from '../core/load/load-fleet.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import { readRevisionSource } from '../core/source/git.ts'
import { writeExampleFleet } from '../example/write-example.ts'
import { processIo } from './io.ts'
import { runCli } from './main.ts'

const io = processIo()
const dir = resolve(io.cwd, process.env.FLOTILLA_EXAMPLE_DIR ?? 'example-fleet')
const shown = relative(io.cwd, dir) || '.'
if (!existsSync(dir)) {
  io.stdout(`Creating the example fleet in ${shown} …\n`)
  const { commit } = await writeExampleFleet(dir)
  io.stdout(`Committed ${commit.slice(0, 7)}.\n`)
}
io.stdout(`\n$ flotilla validate --repo ${shown} --rev HEAD\n`)
const code = await runCli(['validate', '--repo', dir, '--rev', 'HEAD'], io)
if (code === 0) {
  const result = loadFleet(await readRevisionSource(dir, 'HEAD'))
  if (result.ok) {
    const { fleet } = result
    const account = fleet.targets.find(
      (t) => t.kind === 'account' && t.environment === 'production' && received(fleet, t) > 0,
    )
    const cluster = fleet.targets.find((t) => t.kind === 'cluster' && received(fleet, t) > 0)
    for (const target of [account, cluster]) if (target) describe(fleet, target)
    io.stdout(
      `\nThe full rendering of a target: npx flotilla render --repo ${shown} --target ${account?.name ?? '<id>'}\nEvery command: npx flotilla --help · the guide: docs/getting-started.md\n`,
    )
  }
}
process.exitCode = code

function received(fleet: Fleet, target: Target): number {
  const state = fleet.desired.get(target.id)
  return (state?.stacks.length ?? 0) + (state?.manifests.length ?? 0)
}

function describe(fleet: Fleet, target: Target): void {
  const state = fleet.desired.get(target.id)!
  const addresses =
    target.kind === 'account' ? state.stacks.map((s) => s.address) : state.manifests.map((m) => m.address)
  const what = target.kind === 'account' ? 'stacks' : 'Kubernetes objects'
  io.stdout(
    `\n${target.kind} ${target.name} (${target.id}, ${target.environment}, stage ${fleet.stageOf.get(target.id)}) receives ${addresses.length} ${what}:\n`,
  )
  for (const address of addresses.slice(0, 8)) io.stdout(`  ${address}\n`)
  if (addresses.length > 8) io.stdout(`  … and ${addresses.length - 8} more\n`)
}
