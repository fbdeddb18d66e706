/**
 * Transactions PostgreSQL rolls back for another's sake. Two transactions that lock the same rows
 * in opposite orders deadlock, and PostgreSQL ends one of them (`40P01`); under stricter isolation
 * it may end one that could not be serialized (`40001`). Either was rolled back whole, so running
 * it again is correct — what PostgreSQL's documentation advises. The embedded store runs one
 * transaction at a time and never meets either.
 */
import { setTimeout as delay } from 'node:timers/promises'

/** The SQLSTATE codes of a transaction rolled back so that another could go on. */
const ROLLED_BACK_FOR_ANOTHER = new Set(['40P01', '40001'])

/** Whether `error` is PostgreSQL ending a transaction for another's sake (see the module comment). */
export function rolledBackForAnother(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' && ROLLED_BACK_FOR_ANOTHER.has(code)
}

/**
 * Runs `transaction` (the whole of one), again when PostgreSQL rolled it back for another's sake,
 * up to `attempts` times, after a short random pause that lets the other finish; any other error,
 * or the last attempt's, is thrown.
 */
export async function retryingDeadlocks<T>(transaction: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction()
    } catch (error) {
      if (attempt >= attempts || !rolledBackForAnother(error)) throw error
      await delay(5 + Math.random() * 20 * attempt)
    }
  }
}
