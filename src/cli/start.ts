// npm start: the product on its embedded defaults. Creates the example fleet repository (once),
// serves the portal and the API on http://localhost:8080 at once — printing the URL and, on the
// first start, the admin token — and meanwhile applies the example revision to the simulated
// fleet in the background (on the first start, and on the next one when a start was stopped
// before it finished; see app/bootstrap-example.ts), its progress in the log, in a banner on
// every portal page and at GET /api/bootstrap.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { bootstrapExample } from '../app/bootstrap-example.ts'
import { BootstrapProgress } from '../app/bootstrap-progress.ts'
import { InputError } from '../core/errors.ts'
import { writeExampleFleet } from '../example/write-example.ts'
import { useAwsIndexFiles } from '../resource-types/aws-index-files.ts'
import { openCliApplication } from './application.ts'
import { serveApplication } from './commands/serve.ts'
import { processIo } from './io.ts'
import { runCli } from './main.ts'
import { reportError } from './report-error.ts'

useAwsIndexFiles()
const io = processIo()

async function start(): Promise<number> {
  const dir = resolve(io.cwd, process.env.FLOTILLA_EXAMPLE_DIR ?? 'example-fleet')
  const port = Number(process.env.PORT ?? 8080)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InputError(`PORT="${process.env.PORT}" is not a TCP port, 1 to 65535 (or 0 for any free one)`)
  if (!existsSync(dir)) {
    io.stdout(`Creating the example fleet in ${dir} …\n`)
    const { commit } = await writeExampleFleet(dir)
    io.stdout(`Committed ${commit.slice(0, 7)}.\n`)
  }
  const app = await openCliApplication({ repo: dir }, io)
  try {
    const progress = new BootstrapProgress()
    return await serveApplication(app, { repo: dir, port }, io, undefined, {
      bootstrap: progress,
      runCommand: runCli,
      choosePort: {
        port: 'with PORT, e.g. PORT=8081 npm start',
        host: 'port with PORT, e.g. PORT=8081 npm start',
      },
      background: async (server, signal) => {
        // The revision the server loaded: not loaded a second time.
        const { commit, fleet } = await server.fleets.snapshot()
        await bootstrapExample({
          app,
          fleet,
          revision: commit,
          progress,
          signal,
          log: (line) => io.stdout(`${line}\n`),
        })
      },
    })
  } finally {
    await app.close()
  }
}

process.exitCode = await start().catch((error: unknown) => reportError(error, io))
