// npm start: the product on its embedded defaults. Until the server exists, it creates the example
// fleet repository (once), validates it from its git revision and renders one account and one
// cluster, so that a newcomer sees the whole pipeline work in one command.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { loadFleet } from '../core/load/load-fleet.ts'
import { readRevisionSource } from '../core/source/git.ts'
import { writeExampleFleet } from '../example/write-example.ts'
import { processIo } from './io.ts'
import { runCli } from './main.ts'

const io = processIo()
const dir = resolve(io.cwd, process.env.FLOTILLA_EXAMPLE_DIR ?? 'example-fleet')
if (!existsSync(dir)) {
  io.stdout(`Creating the example fleet in ${dir} …\n`)
  const { commit } = await writeExampleFleet(dir)
  io.stdout(`Committed ${commit.slice(0, 7)}.\n`)
}
const run = async (argv: string[]): Promise<number> => {
  io.stdout(`\n$ flotilla ${argv.join(' ')}\n`)
  return runCli(argv, io)
}
let code = await run(['validate', '--repo', dir, '--rev', 'HEAD'])
if (code === 0) {
  const result = loadFleet(await readRevisionSource(dir, 'HEAD'))
  if (result.ok) {
    const account = result.fleet.targets.find(
      (t) => t.kind === 'account' && (result.fleet.desired.get(t.id)?.stacks.length ?? 0) > 0,
    )
    const cluster = result.fleet.targets.find(
      (t) => t.kind === 'cluster' && (result.fleet.desired.get(t.id)?.manifests.length ?? 0) > 0,
    )
    for (const target of [account, cluster]) {
      if (target) code ||= await run(['render', '--repo', dir, '--rev', 'HEAD', '--target', target.name])
    }
  }
  io.stdout(`\nNext: npx flotilla --help, and the guide in docs/getting-started.md.\n`)
}
process.exitCode = code
