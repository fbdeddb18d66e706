/**
 * The composition root: the one place that builds the application of a process — the CLI's
 * commands, `flotilla serve` and `npm start` alike. It opens the store — PostgreSQL when
 * `FLOTILLA_DATABASE_URL` is set, otherwise the embedded PGlite under `.flotilla/` in the
 * repository (or `--data DIR`) — migrates it, and registers the providers (the simulated fleet,
 * and aws and kubernetes loaded on first use). The embedded store belongs to one process at a
 * time: a lock file turns a second process into a clear error instead of a corrupted database.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type Kysely, sql } from 'kysely'
import { ConflictError, InputError } from '../core/errors.ts'
import type { PolicyClock } from '../core/policy/policy-time.ts'
import { lazyProvider } from '../core/provider/lazy-provider.ts'
import { ProviderRegistry } from '../core/provider/registry.ts'
import { awsConfigFromEnvironment } from '../providers/aws/aws-config.ts'
import { kubernetesConfigFromEnvironment } from '../providers/kubernetes/kubernetes-config.ts'
import { SimProvider } from '../providers/sim/sim-provider.ts'
import { DATABASE_URL_VARIABLE, openDatabase, storeConfigFromEnvironment } from '../store/database.ts'
import { migrateToLatest } from '../store/migrate.ts'
import type { Database } from '../store/tables.ts'
import { Application } from './application.ts'
import { processAlive } from './local-link.ts'

/** Where the application of a process works. */
export interface ApplicationOptions {
  /** The directory relative paths are resolved against. */
  readonly cwd: string
  /** The fleet repository directory. @default `cwd` */
  readonly repo?: string
  /** Where the embedded store keeps its files. @default `<repo>/.flotilla` */
  readonly data?: string
  /** The environment: the store (`FLOTILLA_DATABASE_URL`) and the providers' settings. @default `process.env` */
  readonly env?: NodeJS.ProcessEnv
  /** The time policies see (see `CliIo.clock`). @default the real clock */
  readonly clock?: PolicyClock
}

/** Opens the application of a process (see the module comment); `close` releases everything it opened. */
export async function openApplication(options: ApplicationOptions): Promise<Application> {
  const env = options.env ?? process.env
  const repoDir = resolve(options.cwd, options.repo ?? '.')
  const dataDir = resolve(options.cwd, options.data ?? join(options.repo ?? '.', '.flotilla'))
  const config = storeConfigFromEnvironment(env, join(dataDir, 'pgdata'))
  let release = () => {}
  if (config.kind === 'pglite') {
    mkdirSync(dataDir, { recursive: true })
    release = lockDataDir(dataDir)
  }
  try {
    const aws = awsConfigFromEnvironment(env) // a bad setting is an error now, not at the first aws target
    const kubernetes = kubernetesConfigFromEnvironment(env)
    const store = await openDatabase(config)
    try {
      if (config.kind === 'postgres') await checkConnection(store.db, config.url)
      await migrateToLatest(store.db)
    } catch (error) {
      await store.close()
      throw error
    }
    const registry = new ProviderRegistry([
      new SimProvider({ db: store.db }),
      lazyProvider(
        'aws',
        async () => {
          const { AwsProvider } = await import('../providers/aws/aws-provider.ts')
          return new AwsProvider(aws, store.db)
        },
        { previews: true },
      ),
      lazyProvider('kubernetes', async () => {
        const { KubernetesProvider } = await import('../providers/kubernetes/kubernetes-provider.ts')
        return new KubernetesProvider(kubernetes)
      }),
    ])
    return new Application({
      db: store.db,
      registry,
      repoDir,
      location: config.kind === 'pglite' ? dataDir : 'PostgreSQL (FLOTILLA_DATABASE_URL)',
      ...(config.kind === 'pglite' ? { dataDir } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      async close() {
        try {
          await store.close()
        } finally {
          release()
        }
      },
    })
  } catch (error) {
    release()
    throw error
  }
}

/** Takes `<dataDir>/lock` for this process; a lock of a process that is gone is taken over. */
function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, 'lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx')
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      return () => {
        try {
          unlinkSync(path)
        } catch {
          // already gone: nothing to release
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const pid = Number(readFileSync(path, 'utf8').trim())
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new ConflictError(
          `the embedded store in ${dataDir} is in use by process ${pid} (another flotilla command, e.g. "flotilla sim serve"); stop it first, or set FLOTILLA_DATABASE_URL to a PostgreSQL server, which several processes can share`,
        )
      }
      unlinkSync(path) // left by a process that died: take it over
    }
  }
  throw new ConflictError(
    `cannot lock the embedded store in ${dataDir}; remove ${path} if no flotilla process is running`,
  )
}

/**
 * Reaches the PostgreSQL server of `FLOTILLA_DATABASE_URL` once: a wrong host, port, user,
 * password or database is the user's to fix, and says so (not "a bug in Flotilla").
 */
async function checkConnection(db: Kysely<Database>, url: string): Promise<void> {
  try {
    await sql`select 1`.execute(db)
  } catch (error) {
    throw new InputError(
      `cannot connect to the PostgreSQL server of ${DATABASE_URL_VARIABLE} (${redactedUrl(url)}): ${(error as Error).message || String(error)}; check the URL and that the server runs`,
      [],
      { cause: error },
    )
  }
}

/**
 * A database URL without its password, for messages: in the user part and in a `password`
 * parameter (libpq and `pg` take both). Anything but a `postgres://` URL is not shown at all: in
 * `flotilla:secret@host/db` (the scheme left out) a URL parser sees a scheme and a path, and the
 * password would be printed.
 */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw new Error(parsed.protocol)
    if (parsed.password) parsed.password = '***'
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***')
    return parsed.toString()
  } catch {
    return 'not a postgres:// URL; write it as postgres://user:password@host:5432/database'
  }
}
