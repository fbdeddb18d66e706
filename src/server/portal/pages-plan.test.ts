/**
 * The plan page stays light for a change touching every target: the incident's plan (the same
 * protected zone deleted in 300 accounts) shows one group, its 300 approvals under their rule
 * cut at a page of rows, and a fleet-wide plan whose changes do not group comes a page at a time.
 */
import { describe, expect, test } from 'vitest'
import {
  change,
  clusterPlan,
  fleetWidePlan,
  hostedZoneRenamePlan,
  planOf,
  prop,
} from '../../../test/support/plan-fixtures.ts'
import { APPROVALS_LISTED, approvalGroups, GROUPS_PER_PAGE, planPage } from './pages-plan.ts'

const render = async (
  plan: Parameters<typeof planPage>[0],
  view: Partial<Parameters<typeof planPage>[2]> = {},
) =>
  String(
    await planPage(plan, 'f'.repeat(40), { rev: 'main', page: 1, keep: {}, ...view }, 'csrf', true, {
      recorded: [],
      approvable: new Set(plan.approvalsRequired),
    }),
  )

describe('the plan page', () => {
  test('300 zones deleted: one group, destructive first; approvals by rule, cut with a link to all of them', async () => {
    const plan = hostedZoneRenamePlan(300)
    const page = await render(plan)
    expect(page.length).toBeLessThan(150_000)
    expect(approvalGroups(plan)).toEqual([{ rule: 'protected-destroy', list: plan.approvalsRequired }])
    expect(page.match(/<tr data-approval=/g)).toHaveLength(APPROVALS_LISTED)
    expect(page).toContain('Show all 300 approvals of protected-destroy')
    const groups = page.match(/<section class="card spaced change-group" data-action="(\w+)"/g)!
    expect(groups[0]).toContain('data-action="delete"') // the destruction comes first
    expect(page).toContain('same change in 300 accounts')
    // A protected destruction is approved on its own: no batch button offered for it.
    expect(page).not.toContain('Approve all')
    const all = await render(plan, { allApprovalsOf: 'protected-destroy' })
    expect(all.match(/<tr data-approval=/g)).toHaveLength(300)
  })

  test('a fleet-wide change that does not group comes a page of groups at a time', async () => {
    const plan = fleetWidePlan(300, 250)
    const first = await render(plan)
    expect(first.match(/class="card spaced change-group"/g)).toHaveLength(GROUPS_PER_PAGE)
    const last = Number(/page 1 of (\d+)/.exec(first)?.[1])
    expect(last).toBeGreaterThan(10)
    expect(first.length).toBeLessThan(200_000)
    const end = await render(plan, { page: last })
    expect(end).toContain(`page ${last} of ${last}`)
    expect(await render(plan, { page: last + 5 })).toContain(`page ${last} of ${last}`) // past the end: the last
  })

  test("a multi-line string is diffed by line (a ConfigMap's Corefile), a value as before and after", async () => {
    const cluster = 'aws:111111111111:eu-central-1:kube-1'
    const before = '.:53 {\n    errors\n    health\n    forward . /etc/resolv.conf\n}\n'
    const after = '.:53 {\n    errors\n    health\n    forward . 10.0.0.2\n    cache 30\n}\n'
    const plan = planOf([
      clusterPlan(cluster, [
        change('update', `${cluster}/kube-system/ConfigMap/coredns`, 'ConfigMap', {
          properties: [prop('data.Corefile', before, after), prop('metadata.labels.tier', 'a', 'b')],
        }),
      ]),
    ])
    const page = await render(plan)
    expect(page).toContain('<span class="row removed">-    forward . /etc/resolv.conf</span>')
    expect(page).toContain('<span class="row added">+    forward . 10.0.0.2</span>')
    expect(page).toContain('<span class="row added">+    cache 30</span>')
    expect(page).toMatch(
      /<td class="before"><code>&quot;a&quot;<\/code><\/td><td class="after"><code>&quot;b&quot;<\/code><\/td>/,
    )
  })
})
