/** Where a command writes: injected so that tests can capture output and run commands in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** Whether stdout is a terminal (colours, progress). */
  readonly isTTY: boolean
  /** The directory relative paths are resolved against. */
  readonly cwd: string
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
