/**
 * `flotilla serve`: the API, the portal and the background worker that runs rollouts, over the
 * repository (`--repo`, the branch `--branch`) and the store, until SIGINT or SIGTERM.
 */
import { createHash } from 'node:crypto'
import { join, resolve } from 'node:path'
import type { Application } from '../../app/application.ts'
import type { BootstrapProgress } from '../../app/bootstrap-progress.ts'
import { ConflictError, InputError } from '../../core/errors.ts'
import { operatorClock } from '../../core/policy/policy-time.ts'
import { type RunningServer, startServer } from '../../server/serve.ts'
import type { CommandRunner } from '../../server/server-deps.ts'
import { openCliApplication } from '../application.ts'
import type { ServeOptions } from '../declarations.ts'
import { parseNow } from '../inputs.ts'
import type { CliIo } from '../io.ts'
import { serverSettingsFromEnv } from '../server-settings.ts'
import { untilStopped } from '../until-stopped.ts'

/** How often the simulated fleet settles what came due while the server runs. */
const SETTLE_MS = 1000

/** What a process serves besides the repository: `npm start`'s apply of the example. */
export interface ServeExtras {
  /** The progress of {@link ServeExtras.background}, shown by the portal and `GET /api/bootstrap`. */
  readonly bootstrap?: BootstrapProgress
  /**
   * Work begun once the server listens and its URL is printed; its signal aborts when the server
   * stops, and the server closes (and the store with it) only after it ended.
   */
  readonly background?: (server: RunningServer, signal: AbortSignal) => Promise<void>
  /**
   * How the user chooses the port and host in the way this process was started, for the error of
   * a port in use. @default the options of `flotilla serve`
   */
  readonly choosePort?: { readonly port: string; readonly host: string }
  /** Runs CLI commands for a CLI elsewhere (`runCli`; see `server/api/cli-relay.ts`). */
  readonly runCommand?: CommandRunner
}

/** How `flotilla serve` chooses its port and host. */
const SERVE_OPTIONS = { port: 'with --port', host: '--host or --port' }

/**
 * Serves until a signal (or `signal`) stops it; prints the URL and, on first start, the admin
 * token. With `runCommand`, CLI commands run through the server (`flotilla` passes `runCli`).
 */
export async function serveCommand(
  options: ServeOptions,
  io: CliIo,
  signal?: AbortSignal,
  runCommand?: CommandRunner,
): Promise<number> {
  // The operator-set time of --now is the application's: commands run through the server see it too.
  const app = await openCliApplication(
    options,
    options.now ? { ...io, clock: operatorClock(parseNow(options.now)) } : io,
  )
  try {
    return await serveApplication(app, options, io, signal, runCommand ? { runCommand } : {})
  } finally {
    await app.close()
  }
}

/** {@link serveCommand} with an application the caller opened (and closes), and {@link ServeExtras}. */
export async function serveApplication(
  app: Application,
  options: ServeOptions,
  io: CliIo,
  signal?: AbortSignal,
  extras: ServeExtras = {},
): Promise<number> {
  if (options.testCommits && !options.follow)
    throw new InputError(
      '--test-commits tests the commits the server follows; give --follow REPO too (or test a change by hand: flotilla test --base main --head HEAD)',
    )
  const repoDir = app.repoDir
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 8080
  const server = await startServer({
    app,
    repoDir,
    ...(options.branch ? { ref: options.branch } : {}),
    ...(options.now ? { policyNow: parseNow(options.now) } : {}),
    ...(options.follow
      ? {
          follow: {
            source:
              /^[a-z][a-z0-9+.-]*:\/\//i.test(options.follow) || /^[^/]+@[^:]+:/.test(options.follow)
                ? options.follow
                : resolve(io.cwd, options.follow),
            branch: options.branch ?? 'main',
            mirrorDir: join(
              resolve(io.cwd, options.data ?? join(options.repo ?? '.', '.flotilla')),
              'follow',
              createHash('sha256').update(options.follow).digest('hex').slice(0, 12),
            ),
            ...(options.pollInterval !== undefined ? { intervalMs: options.pollInterval * 1000 } : {}),
            ...(options.testCommits ? { testCommits: true } : {}),
          },
        }
      : {}),
    ...(options.revertDrift ? { revertDrift: true } : {}),
    // A secret, so from the environment: a command line shows in every process list.
    ...(process.env.FLOTILLA_WEBHOOK_SECRET ? { webhookSecret: process.env.FLOTILLA_WEBHOOK_SECRET } : {}),
    ...serverSettingsFromEnv(process.env),
    ...(extras.bootstrap ? { bootstrap: extras.bootstrap } : {}),
    ...(extras.runCommand ? { runCommand: extras.runCommand } : {}),
    host,
    port,
    log: (line) => io.stderr(`${line}\n`),
  }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException | undefined)?.code
    const choose = extras.choosePort ?? SERVE_OPTIONS
    if (code === 'EADDRINUSE')
      throw new ConflictError(
        `port ${port} on ${host} is in use (by another Flotilla, or another program); choose another ${choose.port}`,
        { cause: error },
      )
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES')
      throw new InputError(`cannot listen on ${host}:${port} (${code}); choose another ${choose.host}`, [], {
        cause: error,
      })
    throw error
  })
  io.stdout(
    options.follow
      ? `Flotilla is following ${options.follow} (${options.branch ?? 'main'}) on ${server.url}\n`
      : `Flotilla is serving ${repoDir} (${options.branch ?? 'HEAD'}) on ${server.url}\n`,
  )
  io.stdout(`Store: ${app.location}\n`)
  if (server.adminToken) io.stdout(`Admin token: ${server.adminToken}\n`)
  else
    io.stdout(
      'Admin token: shown on the first start only (it is stored hashed); lost it? flotilla users token admin mints another\n',
    )
  const stopBackground = new AbortController()
  const background = extras.background?.(server, stopBackground.signal).catch((error: unknown) => {
    io.stderr(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  })
  try {
    const sim = app.simulator()
    await untilStopped(SETTLE_MS, async () => void (await sim?.settle()), signal)
  } finally {
    stopBackground.abort(new Error('the server is stopping'))
    await background
    await server.close()
  }
  return 0
}
