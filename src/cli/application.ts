/** How a CLI command reaches the application: opened for the command, closed when it returns. */
import type { Application } from '../app/application.ts'
import { openApplication } from '../app/open-application.ts'
import type { CliIo } from './io.ts'

/** The options of every command that uses the store. */
export interface StoreOptions {
  readonly repo?: string
  /** Where the embedded store keeps its files. @default `<repo>/.flotilla` */
  readonly data?: string | undefined
}

/** Opens the application of a command's `--repo` and `--data`, with the io's clock. */
export function openCliApplication(options: StoreOptions, io: CliIo): Promise<Application> {
  return openApplication({
    cwd: io.cwd,
    ...(options.repo !== undefined ? { repo: options.repo } : {}),
    ...(options.data !== undefined ? { data: options.data } : {}),
    ...(io.clock ? { clock: io.clock } : {}),
  })
}

/**
 * Opens the application, gives it to `use`, and closes it; a command a server runs for a CLI
 * elsewhere uses the server's (`io.application`), which stays open.
 */
export async function withApplication<T>(
  options: StoreOptions,
  io: CliIo,
  use: (app: Application) => Promise<T>,
): Promise<T> {
  if (io.application) return use(io.application)
  const app = await openCliApplication(options, io)
  try {
    return await use(app)
  } finally {
    await app.close()
  }
}
