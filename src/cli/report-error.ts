/**
 * How the CLI reports an error, and the exit code it maps it to: the one place where the error
 * taxonomy (`core/errors.ts`) meets `cli.md`'s exit codes.
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CommanderError } from 'commander'
import { formatDiagnostic } from '../core/diagnostics.ts'
import { describeProviderError, type ErrorKind, isFlotillaError, isProviderError } from '../core/errors.ts'
import type { CliIo } from './io.ts'

/**
 * Exit codes of `cli.md`, and one more: `unavailable` (6), for a failure outside Flotilla that
 * may pass (a cloud throttling, failing or still busy after the retries): a script can tell it
 * from a user error (1), which retrying does not fix, and from a bug (4).
 */
export const EXIT = {
  ok: 0,
  user: 1,
  planChanges: 2,
  denied: 3,
  internal: 4,
  waitingApproval: 5,
  unavailable: 6,
} as const

/** The exit code of each kind of error of the taxonomy. */
const EXIT_OF_KIND = {
  input: EXIT.user,
  'not-found': EXIT.user,
  conflict: EXIT.user,
  forbidden: EXIT.user,
  policy: EXIT.denied,
  unavailable: EXIT.unavailable,
} as const satisfies Record<ErrorKind, number>

/**
 * Prints what went wrong to stderr and returns the exit code. A user error prints its message
 * (and every diagnostic) without a stack trace; a provider's failure one line saying where, what
 * the provider said and what to do; anything else is a bug, reported with a short id and the
 * details written to a log file.
 */
export function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? EXIT.ok : EXIT.user
  }
  if (isFlotillaError(error)) {
    const diagnostics = 'diagnostics' in error && Array.isArray(error.diagnostics) ? error.diagnostics : []
    if (diagnostics.length > 0) {
      for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`)
      io.stderr(`${error.message.split('\n')[0]}\n`)
    } else if (isProviderError(error)) io.stderr(`error: ${describeProviderError(error)}\n`)
    else io.stderr(`error: ${error.message}\n`)
    return EXIT_OF_KIND[error.kind]
  }
  const id = randomBytes(4).toString('hex')
  const log = join(tmpdir(), `flotilla-error-${id}.log`)
  try {
    writeFileSync(log, `${(error as Error)?.stack ?? String(error)}\n`)
  } catch {
    // The report below still names the error; a log that cannot be written must not hide it.
  }
  io.stderr(
    `internal error ${id}: ${(error as Error)?.message ?? String(error)}\nThis is a bug in Flotilla; details are in ${log}\n`,
  )
  return EXIT.internal
}
