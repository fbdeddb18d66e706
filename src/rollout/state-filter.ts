import { type RawBuilder, sql } from 'kysely'

/**
 * The `and state in (…)` of a guarded transition: nothing when `from` is not given, a condition
 * that never holds for an empty list (no state may change), else the states a row may change from.
 */
export function fromStates(from: readonly string[] | undefined): RawBuilder<unknown> {
  if (from === undefined) return sql``
  return from.length === 0 ? sql`and false` : sql`and state in (${sql.join(from)})`
}
