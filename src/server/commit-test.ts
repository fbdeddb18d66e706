/**
 * `flotilla serve --follow … --test-commits`: a followed commit tried with `flotilla test` before
 * its rollout, in an ephemeral simulated fleet of its own (the server's store and fleet are not
 * touched), summarised for the commit's record (`controller/follower.ts`).
 */
import { runChangeTest } from '../change-test/change-test.ts'
import type { CommitTest } from '../controller/follower.ts'

/** How many lines of the events of what failed a commit's record keeps. */
const FAILURE_LINES = 20

/** Tests `head` as an upgrade of `base` in the repository `repo` (the server's mirror), at `now`. */
export async function testCommit(repo: string, base: string, head: string, now: Date): Promise<CommitTest> {
  const report = await runChangeTest({ repo, base, head, now })
  return {
    base,
    verdict: report.verdict,
    ms: Math.round(report.ms),
    targets: report.targets.length,
    phases: report.phases.map((p) => ({
      name: p.name,
      state: p.state,
      reason: p.reason,
      ms: Math.round(p.ms),
    })),
    failures: report.phases
      .flatMap((p) =>
        p.failures.map((e) => `${p.name}: ${e.type}${e.target ? ` ${e.target}` : ''}: ${e.detail}`),
      )
      .slice(0, FAILURE_LINES),
  }
}
