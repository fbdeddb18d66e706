/**
 * The portal in a real headless Chromium (Debian's `chromium`, driven by playwright-core): sign in
 * with a token, filter the accounts table, open a plan, start a rollout and watch it progress
 * without reloading, press the stop — and a member of another team is refused.
 */
import { existsSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { useTestStore } from '../src/store/test-store.ts'
import { commitAll, setLogExpiry } from './support/rollout-fleet.ts'
import { moveZone, type ServerFleet, serverFleet, type TestUser } from './support/server-fleet.ts'

const CHROMIUM = '/usr/bin/chromium'
const haveBrowser = existsSync(CHROMIUM)

describe.skipIf(!haveBrowser)('the portal in Chromium', () => {
  const testStore = useTestStore('pglite')
  let f: ServerFleet
  let browser: Browser
  beforeAll(async () => {
    f = await serverFleet(testStore.store.db)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await f?.close()
  })

  /** A new browser session signed in as `user`. */
  const signIn = async (user: TestUser): Promise<Page> => {
    const context = await browser.newContext()
    const page = await context.newPage()
    page.setDefaultTimeout(20_000)
    await page.goto(`${f.server.url}/accounts`)
    expect(new URL(page.url()).pathname).toBe('/login') // not signed in: sent to sign in first
    await page.fill('#token', user.token)
    await page.click('button[type=submit]:has-text("Sign in")')
    await page.waitForURL(/\/accounts$/)
    return page
  }

  test('a wrong token is refused with a message; a right one signs in', async () => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${f.server.url}/login`)
    await page.fill('#token', `${f.alice.token.slice(0, -3)}abc`)
    await page.click('button[type=submit]:has-text("Sign in")')
    await expect.poll(() => page.textContent('[role=alert]')).toContain('That token is not valid')
    await page.close()
    const signedIn = await signIn(f.alice)
    expect(await signedIn.textContent('.who')).toContain(f.alice.name)
    await signedIn.context().close()
  })

  test('the accounts table: filters and search change the URL and the rows', async () => {
    const page = await signIn(f.viewer)
    const all = await page.locator('#accounts tbody tr').count()
    expect(all).toBeGreaterThan(10)
    await page.selectOption('#f-environment', 'production')
    await page.click('button:has-text("Apply")')
    await page.waitForURL(/environment=production/)
    const environments = await page.locator('#accounts tbody tr td:nth-child(2)').allTextContents()
    expect(environments.length).toBeGreaterThan(0)
    expect(environments.length).toBeLessThan(all)
    expect(new Set(environments)).toEqual(new Set(['production']))
    // A shared link shows the same rows.
    const again = await (await browser.newContext()).newPage()
    await again.goto(page.url())
    expect(new URL(again.url()).pathname).toBe('/login')
    await page.fill('#f-q', 'zzz-no-such-account')
    await page.click('button:has-text("Apply")')
    await page.waitForURL(/q=zzz-no-such-account/)
    expect(await page.locator('#accounts tbody tr').count()).toBe(0)
    // Sorting by a column header.
    await page.goto(`${f.server.url}/accounts?sort=tagCompliance&order=desc`)
    expect(await page.getAttribute('a[aria-sort=descending]', 'href')).toContain('sort=tagCompliance')
    await page.context().close()
    await again.context().close()
  })

  test('open a plan, start a rollout and watch it finish without reloading; another team is refused', async () => {
    setLogExpiry(f.repo, { [f.devAccount]: 31 })
    await commitAll(f.repo, 'Logs for 31 days in a dev account')
    await f.sim.updateSettings({ latencyScale: 0.5 }) // slow enough to be seen running
    try {
      // Mallory (another team) sees the plan but is refused when she starts it.
      const mallory = await signIn(f.mallory)
      await mallory.goto(`${f.server.url}/plans`)
      await mallory.click('button:has-text("Start a rollout")')
      await expect
        .poll(() => mallory.textContent('[role=alert]'))
        .toContain(`${f.mallory.name} cannot roll out`)

      const page = await signIn(f.alice)
      await page.goto(`${f.server.url}/plans`)
      expect(await page.textContent('main')).toContain('Verdict:')
      expect(await page.locator('.pill.allowed').count()).toBe(1)
      expect(await page.textContent('main')).toContain('Blast radius')
      await page.click('button:has-text("Start a rollout")')
      await page.waitForURL(/\/rollouts\/r-\d{8}-[0-9a-f]{6}$/)
      const id = page.url().split('/').at(-1)!
      expect(await page.textContent('#live')).toMatch(/State: running/) // it is under way when the page opens
      await page.evaluate(() => {
        ;(globalThis as unknown as { marker: number }).marker = 42 // survives only if the page is not reloaded
      })
      await expect.poll(() => page.textContent('#live'), { timeout: 60_000 }).toMatch(/State: succeeded/)
      expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42)
      expect(await page.locator('.stage[data-stage=dev] .pill').textContent()).toBe('succeeded')

      // Mallory sees the rollout without its buttons.
      await mallory.goto(`${f.server.url}/rollouts/${id}`)
      expect(await mallory.locator('#live form').count()).toBe(0)
      await mallory.context().close()
      await page.context().close()
    } finally {
      await f.sim.updateSettings({ latencyScale: 0 })
    }
  })

  test('the stop button: anyone may press it; every page then shows the banner; an admin releases it', async () => {
    const page = await signIn(f.viewer)
    await page.goto(`${f.server.url}/rollouts`)
    await page.fill('input[name=reason]', 'browser test incident')
    await page.click('button.stop')
    await expect
      .poll(() => page.textContent('.banner.stopped'))
      .toContain('Fleet-wide stop: browser test incident — by vic.viewer')
    await page.goto(`${f.server.url}/accounts`)
    expect(await page.textContent('.banner.stopped')).toContain('browser test incident')
    expect(await page.locator('.banner.stopped button').count()).toBe(0) // a viewer cannot release it
    const admin = await signIn(f.admin)
    await admin.click('.banner.stopped button:has-text("Release the stop")')
    await expect.poll(() => admin.locator('.banner.stopped').count()).toBe(0)
    await admin.goto(`${f.server.url}/audit?action=stop`)
    expect(await admin.textContent('#audit tbody')).toContain('vic.viewer')
    await admin.goto(`${f.server.url}/audit?action=sign-in&actor=vic.viewer`)
    expect(await admin.textContent('#audit tbody')).toMatch(/sign-in\s*vic\.viewer\s*portal 127\.0\.0\.1/)
    await admin.context().close()
    await page.context().close()
  })

  test('a form without the session CSRF secret is refused', async () => {
    const page = await signIn(f.viewer)
    const status = await page.evaluate(async () => {
      const response = await fetch('/stop', {
        method: 'POST',
        body: new URLSearchParams({ reason: 'forged form' }),
      })
      return response.status
    })
    expect(status).toBe(403)
    expect(await f.viewer.api('/api/stop').then((r) => r.json())).toEqual({ stop: null })
    await page.context().close()
  })

  test('a protected destruction: each address approved on its own, by an owner; the author alone cannot start it; a teammate approves; then it starts', async () => {
    await moveZone(f)
    const alice = await signIn(f.alice)
    await alice.goto(`${f.server.url}/plans`)
    expect(await alice.locator('p', { hasText: 'Verdict:' }).locator('.pill').textContent()).toBe(
      'requires-approval',
    )
    // No "Approve all" for protected resources: a button per exact address.
    expect(await alice.locator('button:has-text("Approve all")').count()).toBe(0)
    const rows = alice.locator('#approvals tbody tr')
    const required = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-approval')!))
    expect(required.length).toBeGreaterThan(0)
    const approveEach = async (page: Page, user: TestUser) => {
      for (const address of required) {
        const row = `#approvals tr[data-approval="${address}"]`
        await page.click(`${row} button:has-text("Approve")`)
        await expect.poll(() => page.textContent(row)).toContain(user.name)
      }
    }
    await approveEach(alice, f.alice) // her own approvals do not count
    await alice.click('button:has-text("Start a rollout")')
    await expect
      .poll(() => alice.textContent('[role=alert]'))
      .toContain(`needs an approval by someone other than ${f.alice.name}`)
    // A member of another team is offered nothing to approve.
    const mallory = await signIn(f.mallory)
    await mallory.goto(`${f.server.url}/plans`)
    expect(await mallory.locator('#approvals button').count()).toBe(0)
    expect(await mallory.textContent('#approvals')).toContain(f.alice.name)
    const bob = await signIn(f.bob)
    await bob.goto(`${f.server.url}/plans`)
    await approveEach(bob, f.bob)
    await expect.poll(() => bob.textContent('#approvals')).toContain(f.bob.name)
    expect(await bob.textContent('#recorded-approvals')).toContain(f.alice.name)
    await alice.goto(`${f.server.url}/plans`)
    await alice.click('button:has-text("Start a rollout")')
    await alice.waitForURL(/\/rollouts\/r-\d{8}-[0-9a-f]{6}$/)
    await expect.poll(() => alice.textContent('#live'), { timeout: 60_000 }).toMatch(/State: succeeded/)
    await alice.context().close()
    await bob.context().close()
    await mallory.context().close()
  })
})
