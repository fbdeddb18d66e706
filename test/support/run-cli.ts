import type { CliIo } from '../../src/cli/io.ts'
import { runCli } from '../../src/cli/main.ts'
import type { PolicyClock } from '../../src/core/policy/policy-time.ts'

/** What a CLI run printed and returned. */
export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs the `flotilla` CLI in-process with `cwd` as its working directory and captures its output;
 * with `clock`, the commands that change the fleet see that clock instead of the real one.
 */
export async function runCaptured(
  argv: readonly string[],
  cwd = process.cwd(),
  clock?: PolicyClock,
  /** Answers the questions a terminal would be asked; without it, nothing is asked (as in a script). */
  confirm?: CliIo['confirm'],
): Promise<CliRun> {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    isTTY: false,
    cwd,
    ...(clock ? { clock } : {}),
    ...(confirm ? { confirm } : {}),
  }
  const code = await runCli(argv, io)
  return { code, stdout: out.join(''), stderr: err.join('') }
}
