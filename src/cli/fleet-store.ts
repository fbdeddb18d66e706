/**
 * Opens the store a command works on — PostgreSQL when `FLOTILLA_DATABASE_URL` is set, otherwise
 * the embedded PGlite under `.flotilla/` in the repository (or `--data DIR`) — migrates it, and
 * registers the providers. The embedded store belongs to one process at a time: a lock file
 * turns a second process into a clear error instead of a corrupted database.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ConflictError } from '../core/errors.ts'
import { lazyProvider } from '../core/provider/lazy-provider.ts'
import { ProviderRegistry } from '../core/provider/registry.ts'
import { awsConfigFromEnvironment } from '../providers/aws/aws-config.ts'
import { kubernetesConfigFromEnvironment } from '../providers/kubernetes/kubernetes-config.ts'
import { SimProvider } from '../providers/sim/sim-provider.ts'
import { openDatabase, type Store, storeConfigFromEnvironment } from '../store/database.ts'
import { migrateToLatest } from '../store/migrate.ts'

/** The options of every command that uses the store. */
export interface StoreOptions {
  readonly repo?: string
  /** Where the embedded store keeps its files. @default `<repo>/.flotilla` */
  readonly data?: string
}

/** An open, migrated store with the providers. */
export interface FleetStore {
  readonly store: Store
  readonly sim: SimProvider
  readonly registry: ProviderRegistry
  /** Where the data lives, for messages: a directory or `PostgreSQL`. */
  readonly location: string
  close(): Promise<void>
}

/** Opens the store of a command (see the module comment). */
export async function openFleetStore(
  options: StoreOptions,
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FleetStore> {
  const dataDir = resolve(cwd, options.data ?? join(options.repo ?? '.', '.flotilla'))
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
    await migrateToLatest(store.db)
    const sim = new SimProvider({ db: store.db })
    return {
      store,
      sim,
      registry: new ProviderRegistry([
        sim,
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
      ]),
      location: config.kind === 'pglite' ? dataDir : 'PostgreSQL (FLOTILLA_DATABASE_URL)',
      async close() {
        try {
          await store.close()
        } finally {
          release()
        }
      },
    }
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
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
