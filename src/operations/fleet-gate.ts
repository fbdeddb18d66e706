/**
 * One gate for every path that changes the fleet outside a rollout — `flotilla apply`,
 * `flotilla restore`, the API's and the portal's restore, the bootstrap of an empty simulated
 * fleet: refused while the fleet-wide stop is pulled, or while a rollout (or another such
 * operation) holds one of its targets; otherwise it holds its targets itself until it ends.
 *
 * The hold is a row per target in `locks`, the table rollouts lock their targets in, taken in a
 * transaction serialised with every rollout's locking (`serializeLocking`): a rollout that starts
 * while an apply runs finds the apply's rows and is refused, an apply that starts while a rollout
 * takes its locks waits for that transaction and then finds the rollout's rows. The primary key
 * on `locks.target` makes a second holder of one target impossible whatever the order. A hold is
 * a lease renewed while the operation runs, so one of a process killed with SIGKILL is taken over
 * at once on the same host (its pid is gone) and after the lease elsewhere.
 *
 * The rows are `target-locks.ts`'s, the stop `fleet-stop.ts`'s. Rollouts honour the stop and the
 * locks themselves (`rollout/`): a rollout started while the fleet is stopped waits, paused, and
 * one whose targets another rollout holds queues behind it.
 */
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { ConflictError } from '../core/errors.ts'
import { appendAuditEntry } from '../store/audit.ts'
import type { Database } from '../store/tables.ts'
import { fleetStop } from './fleet-stop.ts'
import { deadLocalProcess, THIS_PROCESS } from './process-liveness.ts'
import {
  firstRolloutLock,
  insertOperationHolds,
  operationHolds,
  releaseOperationHolds,
  renewOperationHolds,
  serializeLocking,
} from './target-locks.ts'

/** An operation outside rollouts that changes targets. */
export interface FleetOperation {
  /** What it does: `apply`, `restore`, `bootstrap`. */
  readonly kind: string
  /** Who asks, as audited. */
  readonly actor: string
  /** Where from: `cli`, or the API's and the portal's request source. */
  readonly source: string
  /** What it is, for messages: `apply of 123456789012`. */
  readonly describe: string
}

/** A hold on targets; `release` lets go of them (once the operation ended, whatever its outcome). */
export interface TargetHold {
  release(): Promise<void>
}

/** What a hold row's `holder` says. */
interface StoredHolder {
  readonly id: string
  readonly kind: string
  readonly actor: string
  readonly source: string
  /** `host:pid` of the process holding it. */
  readonly process: string
  readonly since: string
}

/** How long a hold is good without being renewed; it is renewed three times in that span. */
const HOLD_LEASE_MS = 30_000

/** The fleet-wide stop, as {@link fleetStop} reads it. */
export type FleetStop = NonNullable<Awaited<ReturnType<typeof fleetStop>>>

/** Why an operation is refused while the stop is pulled: its reason, who, when, how to release it. */
export function stopRefusal(stop: FleetStop, what: string): string {
  return `${what} refused: the fleet-wide stop is on ("${stop.reason}", pulled by ${stop.by} at ${stop.at}). Nothing is applied or restored while it is on; an admin releases it with "flotilla unstop" (or POST /api/unstop, or the portal's banner)`
}

/**
 * Refuses (ConflictError) when the stop is pulled or any of `targets` is held by a rollout or by
 * another live operation; otherwise holds them for `operation` and returns the hold. A refusal is
 * audited (`<kind>-refused`), so attempts made while the fleet is stopped are seen.
 */
export async function holdTargets(
  db: Kysely<Database>,
  targets: readonly string[],
  operation: FleetOperation,
): Promise<TargetHold> {
  const unique = [...new Set(targets)].sort()
  const holder: StoredHolder = {
    id: randomBytes(8).toString('hex'),
    kind: operation.kind,
    actor: operation.actor,
    source: operation.source,
    process: THIS_PROCESS,
    since: new Date().toISOString(),
  }
  try {
    await db.transaction().execute(async (trx) => {
      await serializeLocking(trx)
      const stop = await fleetStop(trx)
      if (stop) throw new ConflictError(stopRefusal(stop, operation.describe))
      const rollout = await rolloutHolding(trx, unique)
      if (rollout) throw new ConflictError(`${operation.describe} refused: ${rollout}`)
      const other = await operationHolding(trx, unique)
      if (other) throw new ConflictError(`${operation.describe} refused: ${other}`)
      await insertOperationHolds(trx, unique, JSON.stringify(holder), leaseEnd())
    })
  } catch (error) {
    if (error instanceof ConflictError)
      await appendAuditEntry(db, {
        actor: operation.actor,
        action: `${operation.kind}-refused`,
        subject: unique.length <= 5 ? unique.join(', ') : `${unique.length} targets`,
        source: operation.source,
        detail: { reason: error.message },
      })
    throw error
  }
  const renew = setInterval(
    () => void renewOperationHolds(db, holder.id, leaseEnd()).catch(() => {}),
    HOLD_LEASE_MS / 3,
  )
  renew.unref()
  return {
    async release() {
      clearInterval(renew)
      await releaseOperationHolds(db, holder.id)
    },
  }
}

/** Runs `work` while holding `targets` (see {@link holdTargets}); lets go when it ends, however. */
export async function whileHolding<T>(
  db: Kysely<Database>,
  targets: readonly string[],
  operation: FleetOperation,
  work: () => Promise<T>,
): Promise<T> {
  const hold = await holdTargets(db, targets, operation)
  try {
    return await work()
  } finally {
    await hold.release()
  }
}

const leaseEnd = () => new Date(Date.now() + HOLD_LEASE_MS)

/** Which rollout holds one of `targets`, said so that the reader knows where to look; or undefined. */
async function rolloutHolding(db: Kysely<Database>, targets: readonly string[]): Promise<string | undefined> {
  const row = await firstRolloutLock(db, targets)
  if (!row) return undefined
  const id = row.rolloutId
  return `target ${row.target} is held by rollout ${id} (${row.state}), which changes it; see it with "flotilla rollout status ${id}" (GET /api/rollouts/${id}, or /rollouts/${id} in the portal), and try again once it has ended or been aborted`
}

/**
 * Which live operation outside rollouts (an apply, a restore) holds one of `targets`, or
 * undefined. Holds of operations that are gone — a process of this host that no longer exists, a
 * lease that ran out — are deleted on the way: the caller serialises its locking
 * (`serializeLocking`) and is about to take these targets.
 */
export async function operationHolding(
  db: Kysely<Database>,
  targets: readonly string[],
): Promise<string | undefined> {
  const rows = await operationHolds(db, targets)
  const now = Date.now()
  const gone = new Set<string>()
  for (const row of rows) {
    const holder = row.holder as unknown as StoredHolder
    const expired = (row.leaseUntil?.getTime() ?? 0) < now
    if (expired || deadLocalProcess(holder.process)) {
      gone.add(holder.id)
      continue
    }
    return `target ${row.target} is being changed by ${holder.kind} of ${holder.actor} (${holder.source}, process ${holder.process}) since ${holder.since}; try again when it has finished`
  }
  for (const id of gone) await releaseOperationHolds(db, id)
  return undefined
}
