import { type Kysely, sql } from 'kysely'
import type { Database } from '../store/tables.ts'

/** What Flotilla last applied to a target, as fingerprints by address. */
export interface AppliedState {
  readonly target: string
  readonly provider: string
  readonly revision: string
  readonly appliedAt: Date
  readonly fingerprints: Readonly<Record<string, string>>
  /** What an apply that has not finished (or was killed) is bringing the target to. */
  readonly intended: Readonly<Record<string, string>> | null
}

/**
 * Records that an apply is starting: until it finishes, states matching either the last applied
 * or the intended fingerprints are not drift (a killed apply leaves a mix of both).
 */
export async function recordIntended(
  db: Kysely<Database>,
  target: string,
  provider: string,
  revision: string,
  intended: Readonly<Record<string, string>>,
): Promise<void> {
  const value = JSON.stringify(intended)
  await db
    .insertInto('applied_states')
    .values({ target, provider, revision, fingerprints: '{}', intended: value })
    .onConflict((oc) => oc.column('target').doUpdateSet({ intended: value }))
    .execute()
}

/** Records a successful apply of a target (replacing the previous record). */
export async function recordApplied(
  db: Kysely<Database>,
  state: Omit<AppliedState, 'appliedAt' | 'intended'>,
): Promise<void> {
  const fingerprints = JSON.stringify(state.fingerprints)
  await db
    .insertInto('applied_states')
    .values({ target: state.target, provider: state.provider, revision: state.revision, fingerprints })
    .onConflict((oc) =>
      oc.column('target').doUpdateSet({
        provider: state.provider,
        revision: state.revision,
        fingerprints,
        intended: null,
        applied_at: new Date(),
      }),
    )
    .execute()
}

/** The applied records of the given targets, by target id. */
export async function appliedStates(
  db: Kysely<Database>,
  targets: readonly string[],
): Promise<Map<string, AppliedState>> {
  const out = new Map<string, AppliedState>()
  for (let at = 0; at < targets.length; at += 1000) {
    const rows = await db
      .selectFrom('applied_states')
      .selectAll()
      .where('target', 'in', targets.slice(at, at + 1000))
      .execute()
    for (const row of rows) {
      out.set(row.target, {
        target: row.target,
        provider: row.provider,
        revision: row.revision,
        appliedAt: row.applied_at,
        fingerprints: row.fingerprints as Record<string, string>,
        intended: row.intended as Record<string, string> | null,
      })
    }
  }
  return out
}

/**
 * A text that changes whenever any applied record does (an apply starting or finishing): with
 * the providers' change cursors, the observed state's version that cached plans are keyed by.
 */
export async function appliedStatesVersion(db: Kysely<Database>): Promise<string> {
  const row = await db
    .selectFrom('applied_states')
    .select(
      sql<string>`count(*) || ':' || coalesce(max(applied_at)::text, '') || ':' || count(intended) || ':' || coalesce(md5(string_agg(md5(coalesce(intended::text, '')), '' order by target)), '')`.as(
        'v',
      ),
    )
    .executeTakeFirstOrThrow()
  return row.v
}
