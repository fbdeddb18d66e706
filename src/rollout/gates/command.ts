/** The `command` gate: a command of the repository, run in a process group of its own. */
import { spawn } from 'node:child_process'
import { stat } from 'node:fs/promises'
import {
  GateFailure,
  type GateRun,
  gateOf,
  messageOf,
  type Outcome,
  renderText,
  truncate,
} from './gate-run.ts'

/** How much of a command's combined output a result keeps: the last 64 KiB. */
export const COMMAND_OUTPUT_LIMIT_BYTES = 64 * 1024

/** How long a stopped command's process group has after SIGTERM before it gets SIGKILL, by default. */
export const COMMAND_KILL_GRACE_MS = 5_000

/**
 * How long to wait, once a command's shell exited, for whatever it left running to let go of
 * its output; then the rest of its process group is killed and the gate finishes regardless.
 */
const COMMAND_DRAIN_MS = 1_000

interface ShellResult {
  readonly exitCode: number | null
  readonly exitSignal: NodeJS.Signals | null
  /** Set when the command was stopped (deadline or abort) before it exited. */
  readonly stopped: boolean
  readonly spawnError: Error | undefined
  readonly output: string
}

/**
 * Runs the rendered command line with `sh -c` in `environment.cwd`, in a process group of its
 * own. Exit 0 passes. At the deadline (or an abort) the whole group gets SIGTERM, then SIGKILL
 * after the grace period ({@link COMMAND_KILL_GRACE_MS} unless the environment says otherwise).
 * Once the shell exits, anything it left running in its group is killed too, so no gate outlives
 * its result. Interpolated values are not shell-quoted: they come from the reviewed repository,
 * and the command line is written as the command needs it.
 */
export async function checkCommand(run: GateRun): Promise<Outcome> {
  const gate = gateOf(run, 'command')
  const line = renderText(run, 'run', gate.run)
  const { cwd } = run.environment
  try {
    if (!(await stat(cwd)).isDirectory()) throw new Error('not a directory')
  } catch (error) {
    throw new GateFailure(
      `cannot run \`${line}\` in ${cwd}: ${messageOf(error)}; check the rollout's working directory`,
    )
  }
  const { env = process.env, commandKillGraceMs = COMMAND_KILL_GRACE_MS } = run.environment
  const result = await runShell(line, cwd, env, run.signal, commandKillGraceMs)
  const output = result.output
  const withOutput = output === '' ? {} : { output }
  if (result.spawnError !== undefined) {
    throw new GateFailure(`cannot start \`${line}\`: ${result.spawnError.message}`, output || undefined)
  }
  if (result.stopped) {
    return {
      passed: false,
      detail: `\`${line}\` ${run.stopReason()}; its process group was killed${lastLineText(output)}`,
      ...withOutput,
    }
  }
  if (result.exitCode === 0) return { passed: true, detail: `\`${line}\` exited with 0`, ...withOutput }
  const how =
    result.exitCode !== null
      ? `exited with ${result.exitCode}`
      : `was killed by ${result.exitSignal ?? 'a signal'}`
  return {
    passed: false,
    detail: `\`${line}\` ${how}${lastLineText(output)}; see its output`,
    ...withOutput,
  }
}

function runShell(
  line: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  killGraceMs: number,
): Promise<ShellResult> {
  return new Promise((resolve) => {
    const output = new OutputTail(COMMAND_OUTPUT_LIMIT_BYTES)
    // detached: its own process group, so a timeout kills the command's children as well.
    const child = spawn('sh', ['-c', line], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined
    let stopped = false
    let spawnError: Error | undefined
    let done = false
    const timers: NodeJS.Timeout[] = []

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return
      try {
        process.kill(-child.pid, sig)
      } catch {
        // ESRCH: nothing left in the group.
      }
    }
    const finish = () => {
      if (done) return
      done = true
      for (const timer of timers) clearTimeout(timer)
      signal.removeEventListener('abort', stop)
      resolve({
        exitCode: exited?.code ?? null,
        exitSignal: exited?.signal ?? null,
        stopped,
        spawnError,
        output: output.text(),
      })
    }
    function stop() {
      if (exited !== undefined || done) return
      stopped = true
      killGroup('SIGTERM')
      timers.push(setTimeout(() => killGroup('SIGKILL'), killGraceMs))
    }

    child.stdout.on('data', (chunk: Buffer) => output.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk))
    child.once('error', (error) => {
      spawnError = error
      finish()
    })
    child.once('exit', (code, exitSignal) => {
      exited = { code, signal: exitSignal }
      // What the shell left behind (background jobs) would keep the pipes, and the gate, open.
      killGroup('SIGTERM')
      timers.push(
        setTimeout(() => {
          killGroup('SIGKILL')
          child.stdout.destroy()
          child.stderr.destroy()
          finish()
        }, COMMAND_DRAIN_MS),
      )
    })
    child.once('close', finish)
    if (signal.aborted) stop()
    else signal.addEventListener('abort', stop, { once: true })
  })
}

/** The last `limit` bytes of a stream of chunks, and how many came before them. */
class OutputTail {
  private readonly chunks: Buffer[] = []
  private kept = 0
  private dropped = 0
  private readonly limit: number

  constructor(limit: number) {
    this.limit = limit
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.kept += chunk.length
    while (this.chunks.length > 1 && this.kept - this.chunks[0]!.length >= this.limit) {
      const first = this.chunks.shift()!
      this.kept -= first.length
      this.dropped += first.length
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks)
    const cut = Math.max(0, all.length - this.limit)
    const dropped = this.dropped + cut
    const tail = all.subarray(cut).toString('utf8')
    return dropped > 0 ? `[… ${dropped} earlier bytes of output dropped]\n${tail}` : tail
  }
}

function lastLineText(output: string): string {
  const last = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .at(-1)
  return last === undefined ? ' (no output)' : `; last output: ${truncate(last, 200)}`
}
