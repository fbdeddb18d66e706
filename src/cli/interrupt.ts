/** Ctrl-C for a command, wherever it runs: its own process's signals, or a server relay's. */
import type { CliIo } from './io.ts'

/**
 * Calls `stop` on Ctrl-C (SIGINT, or SIGTERM) of the command's process — or, for a command a
 * server runs for a CLI elsewhere, when that CLI's user presses it (`io.interrupt`): a relayed
 * command must not stop on the server's own signals, nor outlive its caller's Ctrl-C. Returns the
 * function that stops listening.
 */
export function onInterrupt(io: Pick<CliIo, 'interrupt'>, stop: () => void): () => void {
  const relayed = io.interrupt
  if (relayed) {
    if (relayed.aborted) queueMicrotask(stop)
    relayed.addEventListener('abort', stop, { once: true })
    return () => relayed.removeEventListener('abort', stop)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return () => {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}
