import { html } from 'hono/html'
import { describe, expect, test } from 'vitest'
import { page } from './layout.ts'

describe('the portal frame', () => {
  const principal = { name: 'vic.viewer', role: 'viewer' as const, teams: new Set<string>(), elevation: null }
  const render = async (frame: Partial<Parameters<typeof page>[0]>) =>
    String(
      await page(
        {
          title: 'T',
          section: 'accounts',
          principal,
          csrf: 'secret-1',
          stop: undefined,
          inForce: [],
          ...frame,
        },
        html`content`,
      ),
    )

  test('banners for the stop and for every time-bound policy in force; the stop form carries the CSRF secret', async () => {
    const html = await render({
      stop: { reason: 'incident 42', by: 'carol', at: '2026-11-24T10:00:00.000Z' },
      inForce: [
        {
          name: 'cyber-week-freeze',
          description: 'No production changes during Cyber Week',
          effect: 'require-approval',
        },
      ],
    })
    expect(html).toContain('Fleet-wide stop: incident 42 — by carol at 2026-11-24 10:00 UTC')
    expect(html).toContain('In force now: No production changes during Cyber Week')
    expect(html).toContain('<input type="hidden" name="_csrf" value="secret-1" />')
    expect(html).not.toContain('Release the stop') // a viewer cannot
    expect(await render({})).not.toContain('banner')
  })

  test('what users wrote is escaped, never markup', async () => {
    const html = await render({
      stop: { reason: '<script>alert(1)</script>', by: '"><img src=x>', at: '2026-11-24T10:00:00Z' },
    })
    expect(html).not.toContain('<script>alert(1)</script>')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).not.toContain('"><img src=x>')
  })
})
