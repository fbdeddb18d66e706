/** The approvals people gave for a commit's plan, with who gave them. */
import type { Kysely } from 'kysely'
import type { Database } from '../store/tables.ts'

/** The approvals recorded for a commit, oldest first. */
export async function approvalsOfCommit(
  db: Kysely<Database>,
  commit: string,
): Promise<{ approval: string; givenBy: string; at: Date }[]> {
  const rows = await db
    .selectFrom('approvals')
    .selectAll()
    .where('commit', '=', commit)
    .orderBy('id')
    .execute()
  return rows.map((r) => ({ approval: r.approval, givenBy: r.given_by, at: r.created_at }))
}
