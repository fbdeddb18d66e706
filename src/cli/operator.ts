/** Who runs a CLI command, for the audit log and the rollouts' records. */
import { userInfo } from 'node:os'
import type { Operator } from '../rollout/controls.ts'

/** Who runs a command: `cli:<user name>`. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`
  } catch {
    return 'cli'
  }
}

/** The operator of a command: `FLOTILLA_ACTOR`, else {@link cliActor}; the source is `cli`. */
export function cliOperator(): Operator {
  return { actor: process.env.FLOTILLA_ACTOR ?? cliActor(), source: 'cli' }
}
