/**
 * A batch job's memory mode: while `work` runs, V8 favours memory over speed
 * (`--optimize-for-size`: its heap grows by smaller steps and it collects sooner).
 *
 * Why: a drill builds a whole simulated fleet in one process, a burst of short-lived objects, and
 * V8's default lets that garbage grow the heap to three times what is alive before it collects
 * (measured on the example: 77 MiB alive, a heap of 260 MiB, 580–640 MB resident at the peak).
 * Favouring memory keeps the peak at ~450 MB for ~25 % more time. V8 reads these settings at each
 * collection, so they can be set for the span of one job, in whatever process runs it (the CLI,
 * or a server that relays the command), and given back afterwards; a process started with the
 * flag on the command line keeps it.
 */
import { setFlagsFromString } from 'node:v8'

/** How many jobs are in the mode now: it ends when the last one does. */
let inside = 0

/** Whether the process was started with the mode on, so that it must never be turned off. */
const startedWithIt = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some(
  (arg) => arg === '--optimize-for-size' || arg === '--optimize_for_size',
)

/** Runs `work` in the memory mode (see the module comment). */
export async function favouringMemory<T>(work: () => Promise<T>): Promise<T> {
  if (inside++ === 0 && !startedWithIt) setFlagsFromString('--optimize-for-size')
  try {
    return await work()
  } finally {
    if (--inside === 0 && !startedWithIt) setFlagsFromString('--no-optimize-for-size')
  }
}
