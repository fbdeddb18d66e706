/**
 * `flotilla serve`: the API, the portal and the background worker that runs rollouts, over the
 * repository (`--repo`, the branch `--branch`) and the store, until SIGINT or SIGTERM.
 */
import { createHash } from 'node:crypto'
import { join, resolve } from 'node:path'
import { ConflictError, InputError } from '../../core/errors.ts'
import { startServer } from '../../server/serve.ts'
import { openFleetStore, type StoreOptions } from '../fleet-store.ts'
import type { CliIo } from '../io.ts'
import { untilStopped } from '../until-stopped.ts'
import { parseNow } from './plan.ts'

export interface ServeOptions extends StoreOptions {
  readonly port?: number
  readonly host?: string
  readonly branch?: string
  readonly now?: string
  readonly follow?: string
  readonly pollInterval?: number
  readonly revertDrift?: boolean
}

/** How often the simulated fleet settles what came due while the server runs. */
const SETTLE_MS = 1000

/** Serves until a signal (or `signal`) stops it; prints the URL and, on first start, the admin token. */
export async function serveCommand(options: ServeOptions, io: CliIo, signal?: AbortSignal): Promise<number> {
  const repoDir = resolve(io.cwd, options.repo ?? '.')
  const opened = await openFleetStore(options, io.cwd)
  try {
    const host = options.host ?? '127.0.0.1'
    const port = options.port ?? 8080
    const server = await startServer({
      db: opened.store.db,
      registry: opened.registry,
      sim: opened.sim,
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
            },
          }
        : {}),
      ...(options.revertDrift ? { revertDrift: true } : {}),
      // A secret, so from the environment: a command line shows in every process list.
      ...(process.env.FLOTILLA_WEBHOOK_SECRET ? { webhookSecret: process.env.FLOTILLA_WEBHOOK_SECRET } : {}),
      host,
      port,
      log: (line) => io.stderr(`${line}\n`),
    }).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException | undefined)?.code
      if (code === 'EADDRINUSE')
        throw new ConflictError(`port ${port} on ${host} is in use; choose another with --port`, {
          cause: error,
        })
      if (code === 'EADDRNOTAVAIL' || code === 'EACCES')
        throw new InputError(
          `cannot listen on ${host}:${port} (${code}); choose another --host or --port`,
          [],
          { cause: error },
        )
      throw error
    })
    io.stdout(
      options.follow
        ? `Flotilla is following ${options.follow} (${options.branch ?? 'main'}) on ${server.url}\n`
        : `Flotilla is serving ${repoDir} (${options.branch ?? 'HEAD'}) on ${server.url}\n`,
    )
    io.stdout(`Store: ${opened.location}\n`)
    if (server.adminToken) io.stdout(`Admin token: ${server.adminToken}\n`)
    else
      io.stdout(
        'Admin token: shown on the first start only (it is stored hashed); mint another with POST /api/users/admin/tokens\n',
      )
    try {
      await untilStopped(SETTLE_MS, () => opened.sim.settle(), signal)
    } finally {
      await server.close()
    }
    return 0
  } finally {
    await opened.close()
  }
}
