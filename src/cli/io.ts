import type { Operator } from '../app/actors.ts'
import type { Application } from '../app/application.ts'
import type { PolicyClock } from '../core/policy/policy-time.ts'

/** Where a command writes: injected so that tests can capture output and run commands in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** Whether stdout is a terminal (colours, progress). */
  readonly isTTY: boolean
  /** The directory relative paths are resolved against. */
  readonly cwd: string
  /**
   * The clock the policies of a command that changes the fleet read (`apply`, `rollout start`,
   * a rollout leaving its queue). No flag or variable sets it: the process's real clock, unless a
   * test running commands in this process fixes it (the example fleet's weekend and freeze rules
   * would otherwise pass or fail by the day the tests run). @default the real clock
   */
  readonly clock?: PolicyClock
  /**
   * The application a command uses instead of opening the store: a server's, when it runs the
   * command for a CLI elsewhere (`server/api/cli-relay.ts`). The command does not close it.
   */
  readonly application?: Application
  /** Who runs the command, when not this process's user (a server's relay: the caller). */
  readonly operator?: Operator
  /**
   * Ctrl-C of a command run for a CLI elsewhere: what SIGINT is to a command in its own process
   * (following stops, `sim serve` stops) — the relayed command must not listen to the server's.
   */
  readonly interrupt?: AbortSignal
  /**
   * Asks a yes/no question and waits for the answer: only where someone can answer (stdin and
   * stdout a terminal). Absent in scripts, CI and a server's relay: nothing is asked there.
   */
  readonly confirm?: (question: string) => Promise<boolean>
}

/** Asks on the terminal; `y` or `yes` (any case) is yes, anything else — an empty line, end of input — no. */
async function askTerminal(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises')
  const terminal = createInterface({ input: process.stdin, output: process.stdout })
  try {
    return /^y(es)?$/i.test((await terminal.question(question)).trim())
  } catch {
    return false // input closed: no answer is no
  } finally {
    terminal.close()
  }
}

/** The real process's streams. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: process.stdout.isTTY === true,
    cwd: process.cwd(),
    ...(process.stdin.isTTY === true && process.stdout.isTTY === true ? { confirm: askTerminal } : {}),
  }
}

/** Output formats of reports. */
export const FORMATS = ['text', 'markdown', 'json'] as const
export type Format = (typeof FORMATS)[number]
