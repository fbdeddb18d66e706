/**
 * Which process holds something (a rollout's lease, an apply's hold on a target), and whether a
 * holder on this host is gone: a process killed with SIGKILL cannot let go, so what it held is
 * taken over at once instead of after its lease runs out.
 */
import { hostname } from 'node:os'

/** This process, as holders are recorded: `host:pid`. */
export const THIS_PROCESS = `${hostname()}:${process.pid}`

/** Whether `holder` (`host:pid`) names a process of this host that no longer exists. */
export function deadLocalProcess(holder: string): boolean {
  const at = holder.lastIndexOf(':')
  if (holder.slice(0, at) !== hostname()) return false
  const pid = Number(holder.slice(at + 1))
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}
