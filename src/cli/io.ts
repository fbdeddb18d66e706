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
}

/** The real process's streams. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: process.stdout.isTTY === true,
    cwd: process.cwd(),
  }
}

/** Output formats of reports. */
export const FORMATS = ['text', 'markdown', 'json'] as const
export type Format = (typeof FORMATS)[number]
