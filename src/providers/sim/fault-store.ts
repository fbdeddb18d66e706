/**
 * Injected faults as the store keeps them (`sim_faults`); what they do is `faults.ts`.
 */
import { randomBytes } from 'node:crypto'
import type { Fault, FaultKind, FaultScope } from './faults.ts'
import { parseScope, scopeText } from './faults.ts'
import type { SimDb } from './sim-database.ts'

/** A fault as `addFault` takes it. */
export interface NewFault {
  readonly scope: FaultScope
  readonly kind: FaultKind
  readonly rate?: number
  readonly latencyMs?: number
  /** @default never */
  readonly expiresAt?: Date
}

/** The faults active at `now` (expired ones are left out), oldest first. */
export async function activeFaults(db: SimDb, now: Date): Promise<Fault[]> {
  const rows = await db.selectFrom('sim_faults').selectAll().orderBy('created_at').orderBy('id').execute()
  return rows
    .map((row) => ({
      id: row.id,
      scope: parseScope(row.scope),
      kind: row.kind as FaultKind,
      rate: row.rate,
      latencyMs: row.latency_ms,
      expiresAt: row.expires_at,
    }))
    .filter((fault) => fault.expiresAt === null || fault.expiresAt.getTime() > now.getTime())
}

/** Keeps a lasting fault; returns it with its new id. */
export async function insertFault(db: SimDb, fault: NewFault): Promise<Fault> {
  const id = `fault-${randomBytes(4).toString('hex')}`
  const rate = fault.rate ?? 1
  const latencyMs = fault.latencyMs ?? 0
  const expiresAt = fault.expiresAt ?? null
  await db
    .insertInto('sim_faults')
    .values({
      id,
      scope: scopeText(fault.scope),
      kind: fault.kind,
      rate,
      latency_ms: latencyMs,
      expires_at: expiresAt,
    })
    .execute()
  return { id, scope: fault.scope, kind: fault.kind, rate, latencyMs, expiresAt }
}

/** Clears faults: one by id, those of a scope, or all. Returns how many. */
export async function deleteFaults(
  db: SimDb,
  filter: { id?: string; scope?: FaultScope } = {},
): Promise<number> {
  let query = db.deleteFrom('sim_faults')
  if (filter.id !== undefined) query = query.where('id', '=', filter.id)
  if (filter.scope !== undefined) query = query.where('scope', '=', scopeText(filter.scope))
  const result = await query.executeTakeFirst()
  return Number(result.numDeletedRows)
}
