/** Who runs a CLI command, for the audit log and the rollouts' records. */
import { userInfo } from 'node:os'
import type { Operator } from '../app/actors.ts'
import type { CliIo } from './io.ts'

/** Who runs a command: `cli:<user name>`. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`
  } catch {
    return 'cli'
  }
}

/**
 * The operator of a command: the caller a server's relay names (`io.operator`); else
 * `FLOTILLA_ACTOR`, else {@link cliActor}, with the source `cli`.
 */
export function cliOperator(io?: Pick<CliIo, 'operator'>): Operator {
  return io?.operator ?? { actor: process.env.FLOTILLA_ACTOR ?? cliActor(), source: 'cli' }
}
