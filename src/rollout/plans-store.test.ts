import { describe, expect, it } from 'vitest'
import type { Change, Plan, TargetPlan } from '../core/model/plan.ts'
import { testBackends, useTestStore } from '../store/test-store.ts'
import { insertPlan, loadPlan, storedPlanBytes } from './plans-store.ts'
import { insertRollout } from './rollout-store.ts'
import { insertTargetRows } from './target-rows-store.ts'

/** A change as a plan has it, with a property diff as large as a template's. */
const change = (address: string): Change => ({
  address,
  action: 'create',
  type: 'AWS::S3::Bucket',
  protected: false,
  properties: [
    { path: 'BucketName', before: null, after: `${address}-${'x'.repeat(2000)}`, forcesReplacement: true },
  ],
})

const target = (id: string, changes: Change[]): TargetPlan => ({
  id,
  kind: 'account',
  name: id,
  team: 'platform',
  environment: 'staging',
  criticality: 'low',
  group: 'apps',
  stage: 'alpha',
  changes,
})

const plan: Plan = {
  version: 1,
  base: { kind: 'observed' },
  head: { kind: 'observed' },
  verdict: 'allowed',
  summary: {
    targets: 3,
    targetsChanged: 3,
    actions: { create: 30, update: 0, replace: 0, delete: 0, move: 0, rotate: 0 },
    protectedDestroyed: 0,
    byEnvironment: { staging: 3 },
    byCriticality: { low: 3 },
    byTeam: { platform: 3 },
    opsTargetsChanged: 0,
    byStage: { alpha: 2 },
    stageMoves: 0,
  },
  findings: [],
  approvalsRequired: [],
  targets: ['acct-1', 'acct-2', 'acct-3'].map((id) =>
    target(
      id,
      Array.from({ length: 10 }, (_, n) => change(`${id}/eu-west-1/logs/Bucket${n}`)),
    ),
  ),
  policyTime: { at: '2026-11-10T10:00:00.000Z', source: 'operator' },
}

/** Without property diffs: what a target row keeps of each change. */
const withoutProperties = (t: TargetPlan): TargetPlan => ({
  ...t,
  changes: t.changes.map((c) => ({ ...c, properties: [] })),
})

describe.each(testBackends)('the stored plan of a rollout on %s', (backend) => {
  const test = useTestStore(backend)

  it('keeps the changes of scheduled targets in their rows only, and reads the plan back whole', async () => {
    const { db } = test.store
    // acct-3 has no row (a target the schedule leaves out): its changes stay in the document.
    const scheduled = new Set(['acct-1', 'acct-2'])
    await insertPlan(db, 'p-compact', 'abc', plan, scheduled)
    await insertRollout(db, {
      id: 'r-compact',
      plan_id: 'p-compact',
      state: 'running',
      revision: 'abc',
      created_by: 'alice',
      schedule: JSON.stringify({ stages: [] }),
      phase: 'approval',
      request: JSON.stringify({ ref: 'HEAD', approvals: [] }),
    })
    await insertTargetRows(
      db,
      plan.targets
        .filter((t) => scheduled.has(t.id))
        .map((t, position) => ({
          rollout_id: 'r-compact',
          target: t.id,
          stage: 'alpha',
          stage_index: 0,
          wave: 0,
          position,
          state: 'pending',
          planned: JSON.stringify({
            changes: withoutProperties(t).changes,
            observed: {},
            desired: {},
            approved: [],
          }),
          previous: JSON.stringify({ stacks: [], manifests: [] }),
        })),
    )

    const stored = await db
      .selectFrom('plans')
      .select('document')
      .where('id', '=', 'p-compact')
      .executeTakeFirstOrThrow()
    const document = stored.document as unknown as Plan
    expect(document.targets.map((t) => t.changes.length)).toEqual([0, 0, 10])
    expect(document.policyTime).toEqual(plan.policyTime)

    expect(await loadPlan(db, 'p-compact', 'r-compact')).toEqual({
      ...plan,
      targets: [withoutProperties(plan.targets[0]!), withoutProperties(plan.targets[1]!), plan.targets[2]],
    })
    // The property diffs (2 KB each) are not stored twice, nor at all for scheduled targets.
    expect(await storedPlanBytes(db, 'p-compact', 'r-compact')).toBeLessThan(JSON.stringify(plan).length / 2)
  })

  it('reads a plan stored whole, as plans were before', async () => {
    const { db } = test.store
    await db
      .insertInto('plans')
      .values({
        id: 'p-whole',
        base: 'observed',
        head: 'abc',
        verdict: plan.verdict,
        document: JSON.stringify(plan),
      })
      .execute()
    expect(await loadPlan(db, 'p-whole', 'r-whole')).toEqual(plan)
    expect(await loadPlan(db, 'p-missing', 'r-missing')).toBeUndefined()
  })
})
