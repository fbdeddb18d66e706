/** The rollouts list before the first rollout, and a rollout list row with its progress and commit. */
import { describe, expect, test } from 'vitest'
import { rolloutsPage } from './pages-rollouts.ts'

describe('the rollouts page', () => {
  test('with none yet, it says where to begin instead of an empty table', async () => {
    const page = String(await rolloutsPage([], true))
    expect(page).toContain('No rollouts yet.')
    expect(page).toContain('<a href="/plans">the plan</a>')
    expect(page).not.toContain('<table id="rollouts">')
  })

  test('a row shows how far the rollout got, what failed, and its commit subject', async () => {
    const page = String(
      await rolloutsPage(
        [
          {
            id: 'r-20261110-3f9a1c',
            state: 'halted',
            revision: 'a'.repeat(40),
            createdBy: 'alice',
            createdAt: '2026-11-10T10:00:03.120Z',
            haltReason: 'gate healthy failed',
            subject: 'Logs for 60 days',
            progress: { done: 12, failed: 1, total: 42 },
          },
        ],
        true,
      ),
    )
    expect(page).toContain('<meter class="bad" min="0" max="42" value="12">')
    expect(page).toContain('12/42, 1 failed')
    expect(page).toContain('Logs for 60 days')
  })
})
