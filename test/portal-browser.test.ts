/**
 * The portal in a real headless Chromium (Debian's `chromium`, driven by playwright-core), on
 * PGlite and (with TEST_DATABASE_URL) PostgreSQL: sign in with a token, filter the accounts table,
 * open a plan, start a rollout and watch it progress without reloading, press the stop — and a
 * member of another team is refused. Then issue 19 as a portal user meets it: a change that
 * deletes its own guard is judged by the trusted rules, only merged revisions roll out for members,
 * time is the server's, approvals are owned, the fleet-wide stop holds every start, and sessions
 * end with their token and never send anyone off-site. (The portal offers no restore: the stop's
 * refusal of one is the API's and the CLI's to test.)
 *
 * One Chromium serves the whole file; each store has its own server and fleet. The portal's general
 * tests (signing in, the table, the live rollout page, the stop button) run on PGlite only: they
 * do not depend on the store, and the live rollout is slow on purpose.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import axe from 'axe-core'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { loadCommit } from '../src/rollout/runner.ts'
import { testBackends, useTestStore } from '../src/store/test-store.ts'
import { commitOnBranch } from './support/git-fixture.ts'
import { commitAll, editRollout, setLogExpiry } from './support/rollout-fleet.ts'
import { json, moveZone, type ServerFleet, serverFleet, type TestUser } from './support/server-fleet.ts'
import { NOW } from './support/sim-cli.ts'

const CHROMIUM = '/usr/bin/chromium'
const haveBrowser = existsSync(CHROMIUM)

/** One browser for the whole file (both stores): launching it is the slow part. */
let browser: Browser
beforeAll(async () => {
  if (haveBrowser) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}, 60_000)
afterAll(async () => {
  await browser?.close()
})

describe.skipIf(!haveBrowser).each(testBackends)('the portal in Chromium, on %s', (backend) => {
  const testStore = useTestStore(backend)
  /** The portal's general tests: on PGlite only (see the module comment). */
  const generalTest = test.runIf(backend === 'pglite')
  let f: ServerFleet
  beforeAll(async () => {
    f = await serverFleet(testStore.store.db)
  }, 120_000)
  afterAll(async () => {
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

  /**
   * Opens the plan page of `rev` (the branch served when undefined) and waits for its verdict: a
   * plan not computed yet shows its progress first and reloads itself until it is there.
   */
  const openPlan = async (page: Page, rev?: string, query = '') => {
    const search = new URLSearchParams(query)
    if (rev !== undefined) search.set('rev', rev)
    await page.goto(`${f.server.url}/plans${search.size > 0 ? `?${search}` : ''}`)
    await page.locator('p', { hasText: 'Verdict:' }).waitFor({ timeout: 40_000 })
  }
  /** The verdict the plan page shows. */
  const verdictOn = (page: Page) => page.locator('p', { hasText: 'Verdict:' }).locator('.pill').textContent()
  /** The message of the page a refused form leads to. */
  const refusalOn = async (page: Page) => {
    await expect.poll(() => page.textContent('h1'), { timeout: 20_000 }).toBe('Refused')
    return page.textContent('.error[role=alert]')
  }
  /** Presses a start button (plan page or rollouts page) and confirms on the page that shows what it will do. */
  const confirmStart = async (page: Page, button: string) => {
    await page.click(`button:has-text("${button}")`)
    await page.locator('#preview-stages').waitFor({ timeout: 40_000 })
    await page.click('button:has-text("Confirm: start the rollout")')
  }
  /** Waits until the live rollout page shows the rollout `state` (it updates itself). */
  const waitForState = (page: Page, state: string) =>
    expect
      .poll(() => page.textContent('#live'), { timeout: 30_000 })
      .toMatch(new RegExp(`State: ${state}\\b`))

  generalTest('a wrong token is refused with a message; a right one signs in', async () => {
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

  generalTest('the accounts table: filters and search change the URL and the rows', async () => {
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
    expect(await page.getAttribute('th[aria-sort=descending] a', 'href')).toContain('sort=tagCompliance')
    await page.context().close()
    await again.context().close()
  })

  generalTest(
    'open a plan, start a rollout and watch it finish without reloading; another team is refused',
    async () => {
      setLogExpiry(f.repo, { [f.devAccount]: 31 })
      await commitAll(f.repo, 'Logs for 31 days in a dev account')
      await f.sim.updateSettings({ latencyScale: 0.5 }) // slow enough to be seen running
      try {
        // Mallory (another team) sees the plan but is refused when she starts it.
        const mallory = await signIn(f.mallory)
        await mallory.goto(`${f.server.url}/plans`)
        await confirmStart(mallory, 'Start a rollout')
        await expect
          .poll(() => mallory.textContent('[role=alert]'))
          .toContain(`${f.mallory.name} cannot roll out`)

        const page = await signIn(f.alice)
        await page.goto(`${f.server.url}/plans`)
        expect(await page.textContent('main')).toContain('Verdict:')
        expect(await page.locator('.pill.allowed').count()).toBe(1)
        expect(await page.textContent('main')).toContain('Blast radius')
        await confirmStart(page, 'Start a rollout')
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
    },
  )

  generalTest(
    'the stop button: anyone may press it; every page then shows the banner; an admin releases it',
    async () => {
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
    },
  )

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
    await confirmStart(alice, 'Start a rollout')
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
    await confirmStart(alice, 'Start a rollout')
    await alice.waitForURL(/\/rollouts\/r-\d{8}-[0-9a-f]{6}$/)
    await expect.poll(() => alice.textContent('#live'), { timeout: 60_000 }).toMatch(/State: succeeded/)
    await alice.context().close()
    await bob.context().close()
    await mallory.context().close()
  })

  test('issue 19, 1: a change that deletes its own guard: a member may not start it (not on main); an admin starting it from its plan page is refused for the governance approvals that the rules of main ask', async () => {
    const fleet = await loadCommit(f.repo, 'main')
    const production = fleet.targets.find((t) => t.kind === 'account' && t.environment === 'production')!
    const commit = await commitOnBranch(f.repo, 'no-freeze', (dir) => {
      rmSync(join(dir, 'policies', 'freeze.yaml'))
      setLogExpiry(dir, { [production.id]: 401 })
    })
    const admin = await signIn(f.admin)
    await admin.goto(`${f.server.url}/rollouts`)
    const rollouts = await admin.locator('#rollouts tbody tr').count()
    await openPlan(admin, 'no-freeze')
    // A member may not start it at all: it is not on main.
    const alice = await signIn(f.alice)
    await openPlan(alice, 'no-freeze')
    await confirmStart(alice, 'Start a rollout of no-freeze')
    expect(await refusalOn(alice)).toBe(
      `revision ${commit.slice(0, 12)} is not on main (not reviewed and merged); merge it first, or ask an admin`,
    )
    await alice.context().close()
    // An admin may, and it is judged by main's rules all the same.
    await confirmStart(admin, 'Start a rollout of no-freeze')
    // Its own rules no longer hold the freeze; main's do, and deleting it is a governance change.
    expect(await refusalOn(admin)).toBe(
      'the plan of no-freeze is requires-approval, a rollout needs it allowed: approvals missing: governance/policies/cyber-week-freeze, governance/policies/weekend-production-changes',
    )
    await admin.goto(`${f.server.url}/rollouts`)
    expect(await admin.locator('#rollouts tbody tr').count()).toBe(rollouts)
    await admin.context().close()
  })

  // The plan page is judged by the trusted revision's rules too, as the start is.
  test('issue 19, 1: the plan page of that change shows the governance change to approve', async () => {
    const admin = await signIn(f.admin)
    try {
      await openPlan(admin, 'no-freeze')
      expect(await admin.textContent('main')).toContain(
        'governance-change: this change edits the rules that judge changes: policy cyber-week-freeze removed (policies/freeze.yaml)',
      )
      expect(await verdictOn(admin)).toBe('requires-approval')
    } finally {
      await admin.context().close()
    }
  })

  test('issue 19, 2: a revision not on main: a member starting it from the portal is refused; an admin starts it, shown as untrusted', async () => {
    const commit = await commitOnBranch(f.repo, 'feature', (dir) => setLogExpiry(dir, { [f.devAccount]: 42 }))
    const notOnMain = `revision ${commit.slice(0, 12)} is not on main (not reviewed and merged)`
    const refusal = `${notOnMain}; merge it first, or ask an admin`
    // The rollouts page's form, by branch and by commit: refused, nothing started.
    const alice = await signIn(f.alice)
    await alice.goto(`${f.server.url}/rollouts`)
    const rollouts = await alice.locator('#rollouts tbody tr').count()
    for (const rev of ['feature', commit]) {
      await alice.goto(`${f.server.url}/rollouts`)
      await alice.fill('input[name=rev]', rev)
      await confirmStart(alice, 'Start rollout')
      expect(await refusalOn(alice), rev).toBe(refusal)
    }
    await alice.goto(`${f.server.url}/rollouts`)
    expect(await alice.locator('#rollouts tbody tr').count()).toBe(rollouts)

    const admin = await signIn(f.admin)
    await admin.goto(`${f.server.url}/rollouts`)
    await admin.fill('input[name=rev]', 'feature')
    await confirmStart(admin, 'Start rollout')
    await admin.waitForURL(/\/rollouts\/r-\d{8}-[0-9a-f]{6}$/)
    const id = admin.url().split('/').at(-1)!
    expect(await admin.textContent('#untrusted')).toBe(
      `Untrusted revision, started by an admin: ${notOnMain}`,
    )
    await waitForState(admin, 'succeeded')
    // Everyone sees it marked, and the audit log says so.
    await alice.goto(`${f.server.url}/rollouts/${id}`)
    expect(await alice.textContent('#untrusted')).toContain(notOnMain)
    await admin.goto(`${f.server.url}/audit?action=rollout-start&actor=admin`)
    const row = admin.locator('#audit tbody tr', { hasText: id })
    const detail = await row.locator('td:last-child').textContent()
    expect(JSON.parse(detail!)).toMatchObject({
      untrusted: true,
      trust: { branch: 'main', reason: notOnMain },
    })
    await alice.context().close()
    await admin.context().close()
  })

  test("issue 19, 3: time is the server's: plan and rollout pages show the policy time; a start form given a time of its own is refused; a what-if time starts nothing", async () => {
    setLogExpiry(f.repo, { [f.devAccount]: 32 })
    await commitAll(f.repo, 'Logs for 32 days in a dev account')
    const at = new Date(NOW).toISOString()
    const serverTime = `Policy time: ${at} (set by the operator: flotilla serve --now)`
    const alice = await signIn(f.alice)
    await openPlan(alice, undefined, 'now=2026-11-28T12:00:00Z')
    expect(await alice.textContent('#policy-time')).toContain(
      'What if: policies saw 2026-11-28T12:00:00.000Z, a time chosen for this preview. Nothing can be started from it',
    )
    expect(await alice.locator('button:has-text("Start a rollout")').count()).toBe(0)
    await alice.click(`#policy-time a:has-text("Plan at the server's clock")`)
    await alice.locator('p', { hasText: 'Verdict:' }).waitFor({ timeout: 40_000 })
    expect(await alice.textContent('#policy-time')).toBe(serverTime)

    // The start form with a time of its own added, as a hand-edited form would send it: refused.
    await alice.goto(`${f.server.url}/rollouts`)
    const rollouts = await alice.locator('#rollouts tbody tr').count()
    await openPlan(alice)
    await alice.click('button:has-text("Start a rollout")')
    await alice
      .locator('form[action="/rollouts"]')
      .evaluate((form) =>
        form.insertAdjacentHTML('beforeend', '<input type="hidden" name="now" value="2026-11-28T12:00:00Z">'),
      )
    await alice.click('button:has-text("Confirm: start the rollout")')
    expect(await refusalOn(alice)).toContain(
      `form field "now" is not accepted: policies see the server's clock: a request that changes the fleet cannot choose the time it is judged at`,
    )
    await alice.goto(`${f.server.url}/rollouts`)
    expect(await alice.locator('#rollouts tbody tr').count()).toBe(rollouts)

    // Without it, the rollout is judged at the server's time, and its page says which.
    await openPlan(alice)
    await confirmStart(alice, 'Start a rollout')
    await alice.waitForURL(/\/rollouts\/r-\d{8}-[0-9a-f]{6}$/)
    const id = alice.url().split('/').at(-1)!
    expect(await alice.textContent('#live #policy-time')).toBe(serverTime)
    await waitForState(alice, 'succeeded')
    expect(await alice.textContent('#live #policy-time')).toBe(serverTime)
    await alice.goto(`${f.server.url}/audit?action=rollout-start&actor=${f.alice.name}`)
    expect(await alice.locator('#audit tbody tr', { hasText: id }).textContent()).toContain(
      `"policyTime":{"at":"${at}","source":"operator"}`,
    )
    await alice.context().close()
  })

  test('issue 19, 5: with the fleet-wide stop pulled, a rollout started from the portal waits paused and resuming it is refused, both naming the stop', async () => {
    const reason = `browser incident on ${backend}`
    expect((await f.viewer.api('/api/stop', { method: 'POST', body: { reason } })).status).toBe(200)
    setLogExpiry(f.repo, { [f.devAccount]: 33 })
    await commitAll(f.repo, 'Logs for 33 days in a dev account')
    const alice = await signIn(f.alice)
    let id: string
    try {
      await alice.goto(`${f.server.url}/rollouts`)
      expect(await alice.textContent('.banner.stopped')).toContain(reason)
      await confirmStart(alice, 'Start rollout')
      await alice.waitForURL(/\/rollouts\/r-\d{8}-[0-9a-f]{6}$/)
      id = alice.url().split('/').at(-1)!
      await waitForState(alice, 'paused')
      expect(await alice.textContent('#live')).toContain(`fleet-wide stop: ${reason}`)
      expect(await alice.textContent('#live .stage[data-stage=dev]')).toContain('0/')
      await alice.click('#live button:has-text("Resume")')
      expect(await refusalOn(alice)).toBe(
        `the fleet-wide stop is on (${reason}, by ${f.viewer.name}); "flotilla unstop" first`,
      )
    } finally {
      expect((await f.admin.api('/api/unstop', { method: 'POST' })).status).toBe(200)
    }
    // Released, it goes on by itself.
    await alice.goto(`${f.server.url}/rollouts/${id}`)
    await waitForState(alice, 'succeeded')
    await alice.context().close()
  })

  test('issue 19, 6: a session ends with its token (revoked by its owner or an admin) or its disabled user; after signing in, never off-site', async () => {
    const loner = await f.signUp(`browser.${backend}`, 'member')
    const mint = async (user: TestUser) =>
      (
        await json(
          await user.api(`/api/users/${user.name}/tokens`, { method: 'POST', body: { label: 'browser' } }),
        )
      ).body as { id: string; token: string }
    const ends: [string, TestUser, (token: { id: string }) => Promise<Response>][] = [
      ['revoked by its owner', f.bob, (t) => f.bob.api(`/api/tokens/${t.id}`, { method: 'DELETE' })],
      ['revoked by an admin', f.bob, (t) => f.admin.api(`/api/tokens/${t.id}`, { method: 'DELETE' })],
      ['its user disabled', loner, () => f.admin.api(`/api/users/${loner.name}/disable`, { method: 'POST' })],
    ]
    for (const [how, user, end] of ends) {
      const token = await mint(user)
      const page = await signIn({ ...user, token: token.token })
      await page.goto(`${f.server.url}/rollouts`)
      expect(await page.textContent('.who'), how).toContain(user.name)
      expect((await end(token)).ok, how).toBe(true)
      await page.reload()
      expect(page.url(), how).toBe(`${f.server.url}/login?next=%2Frollouts`)
      await page.context().close()
    }

    // `next` names another site: after signing in, the portal's own start page.
    for (const next of ['/\\evil.example', '//evil.example', '/rollouts?state=running']) {
      const page = await (await browser.newContext()).newPage()
      page.setDefaultTimeout(20_000)
      // Another site answers at once, here: a redirect to it shows in the URL, not as a timeout.
      const ours = new URL(f.server.url).host
      await page.route(
        (url) => url.host !== ours,
        (route) => route.fulfill({ body: 'another site' }),
      )
      await page.goto(`${f.server.url}/login?next=${next}`)
      await page.fill('#token', f.viewer.token)
      await page.click('button[type=submit]:has-text("Sign in")')
      // Signed in, it leaves the sign-in page (for another site too: answered above).
      await expect.poll(() => new URL(page.url()).pathname, { timeout: 20_000 }).not.toBe('/login')
      expect(page.url(), next).toBe(`${f.server.url}${next.startsWith('/rollouts') ? next : '/accounts'}`)
      await page.context().close()
    }
  })

  generalTest(
    'issue 23: a plan to review in the browser: one group per change across targets, its property diff, its targets to expand',
    async () => {
      await commitOnBranch(f.repo, 'logs-45', (dir) => {
        const path = join(dir, 'stacks', 'logging.yaml')
        const text = readFileSync(path, 'utf8')
        expect(text).toMatch(/ExpirationInDays: "\{\{ .* \}\}"/)
        writeFileSync(path, text.replace(/ExpirationInDays: "\{\{ .* \}\}"/, 'ExpirationInDays: 45'))
      })
      const page = await signIn(f.viewer)
      await openPlan(page, 'logs-45')
      const groups = page.locator('.change-group', { hasText: 'ExpirationInDays' })
      // The same change in many accounts: one group per address (each region's stack), not one per account.
      const addresses = await groups.evaluateAll((sections) =>
        sections.map((g) => g.getAttribute('data-address')),
      )
      expect(addresses.length).toBeGreaterThan(0)
      expect(new Set(addresses).size).toBe(addresses.length)
      const group = groups.first() // the widest first
      expect(
        await group.locator('tr.prop', { hasText: 'ExpirationInDays' }).locator('td.after').textContent(),
      ).toBe('45')
      const summary = (await group.locator('details.targets summary').textContent())!
      const n = Number(/same change in (\d+) accounts/.exec(summary)?.[1])
      expect(n).toBeGreaterThan(1)
      // The list is there to expand, every target named and linked.
      const items = group.locator('ul.target-list li')
      expect(await items.first().isVisible()).toBe(false)
      await group.locator('details.targets summary').click()
      expect(await items.first().isVisible()).toBe(true)
      expect(await items.count()).toBe(n)
      expect(await items.first().locator('a').getAttribute('href')).toMatch(/^\/accounts\/\d{12}$/)
      await page.context().close()
    },
  )

  generalTest(
    'issue 23: nothing moves before it is confirmed: the start shows the stages it will pass; a branch moved meanwhile is refused; the rollout page names its targets and keeps their events',
    async () => {
      setLogExpiry(f.repo, { [f.devAccount]: 37 })
      await commitAll(f.repo, 'Logs for 37 days in a dev account')
      const alice = await signIn(f.alice)
      await alice.goto(`${f.server.url}/rollouts`)
      const rollouts = await alice.locator('#rollouts tbody tr').count()
      await openPlan(alice)
      await alice.click('button:has-text("Start a rollout")')
      const dev = alice.locator('#preview-stages tr[data-stage=dev]')
      await dev.waitFor({ timeout: 40_000 })
      expect(await dev.locator('td:nth-child(3)').textContent()).toBe('1')
      expect(await alice.textContent('#rollout-preview')).toMatch(/1 target changes, 0 in production/)
      // Shown but not confirmed: nothing started. Then main moves before the confirmation.
      await alice.goto(`${f.server.url}/rollouts`)
      expect(await alice.locator('#rollouts tbody tr').count()).toBe(rollouts)
      await alice.goBack()
      setLogExpiry(f.repo, { [f.devAccount]: 38 })
      const moved = await commitAll(f.repo, 'Logs for 38 days in a dev account')
      await alice.click('button:has-text("Confirm: start the rollout")')
      expect(await refusalOn(alice)).toMatch(
        new RegExp(
          `^\\w+ moved since you confirmed it \\(from [0-9a-f]{12} to ${moved.slice(0, 12)}\\): nothing was started`,
        ),
      )
      await alice.goto(`${f.server.url}/rollouts`)
      expect(await alice.locator('#rollouts tbody tr').count()).toBe(rollouts)

      await confirmStart(alice, 'Start rollout')
      await alice.waitForURL(/\/rollouts\/r-\d{8}-[0-9a-f]{6}$/)
      const id = alice.url().split('/').at(-1)!
      await waitForState(alice, 'succeeded')
      const { account } = (await json(await f.viewer.api(`/api/accounts/${f.devAccount}`))).body as {
        account: { name: string }
      }
      const row = alice.locator(`#live tr[data-target="${f.devAccount}"]`)
      expect(await row.textContent()).toContain(account.name)
      // The JSON status says each stage's bake (none in this fleet).
      const status = (await json(await f.viewer.api(`/api/rollouts/${id}`))).body as {
        stages: { name: string; state: string; bake: { ms: number; startedAt: string | null } }[]
      }
      expect(status.stages.map((s) => [s.state, s.bake.ms])).toEqual(
        status.stages.map(() => ['succeeded', 0]),
      )
      // The target's events, one click away.
      await row.locator('a:has-text("events")').click()
      await expect.poll(() => alice.textContent('#target-events')).toContain('target-succeeded')
      // The list shows how far each rollout got and what its commit was.
      await alice.goto(`${f.server.url}/rollouts`)
      const listed = alice.locator('#rollouts tbody tr', { hasText: id })
      expect(await listed.textContent()).toContain('1/1')
      expect(await listed.textContent()).toContain('Logs for 38 days in a dev account')
      // Every page has an icon.
      const icon = await fetch(`${f.server.url}/favicon.ico`)
      expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/svg+xml'])
      await alice.context().close()
    },
  )

  generalTest(
    'issue 23: the main pages have no serious accessibility violations (axe-core), fit a 1280 px window, and a cluster shows what it runs as a tree; screenshots are kept',
    async () => {
      const artifacts = join(process.cwd(), 'test-artifacts', 'portal')
      mkdirSync(artifacts, { recursive: true })
      const page = await signIn(f.alice)
      const { clusters } = (await json(await f.viewer.api('/api/clusters'))).body as {
        clusters: { id: string }[]
      }
      const cluster = clusters[0]!.id
      const rollout = ((await json(await f.viewer.api('/api/rollouts'))).body.rollouts as { id: string }[])[0]
      const pages = [
        '/accounts',
        `/accounts/${f.devAccount}`,
        '/clusters',
        `/clusters/${encodeURIComponent(cluster)}`,
        '/plans',
        '/rollouts/new',
        '/rollouts',
        ...(rollout ? [`/rollouts/${rollout.id}`] : []),
        '/audit',
      ]
      for (const width of [1280, 1400]) {
        await page.setViewportSize({ width, height: 900 })
        for (const path of pages) {
          await page.goto(`${f.server.url}${path}`)
          if (path === '/plans' || path === '/rollouts/new')
            await page
              .locator('#preview-stages, #nothing-to-roll-out, p:has-text("Verdict:")')
              .first()
              .waitFor({ timeout: 40_000 })
          // Nothing wider than the window: no table clipped, no scrolling sideways.
          const overflow = (await page.evaluate(
            'document.documentElement.scrollWidth - window.innerWidth',
          )) as number
          expect(overflow, `${path} at ${width} px`).toBeLessThanOrEqual(0)
          if (width !== 1400) continue
          await page.screenshot({
            path: join(
              artifacts,
              `${
                path
                  .split('/')
                  .filter(Boolean)
                  .join('-')
                  .replace(/[^\w.-]/g, '_') || 'root'
              }.png`,
            ),
            fullPage: true,
          })
          // Evaluated, not a script tag: the portal's Content-Security-Policy allows no inline script.
          await page.evaluate(axe.source)
          const violations = (await page.evaluate(`axe
          .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } })
          .then((result) => result.violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => v.id + ': ' + v.help + ' (' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ') + ')'))`)) as string[]
          expect(violations, path).toEqual([])
        }
      }
      // A cluster's objects by namespace and kind, each with its status and drift.
      await page.goto(`${f.server.url}/clusters/${encodeURIComponent(cluster)}`)
      const namespaces = page.locator('#objects details.namespace')
      expect(await namespaces.count()).toBeGreaterThan(0)
      const rows = page.locator('#objects tr[data-object]')
      const objects = await rows.count()
      expect(objects).toBeGreaterThan(0)
      const statuses = await rows.locator('td:nth-child(3) .pill').allTextContents()
      expect(statuses.length).toBe(objects)
      expect(new Set(statuses).size).toBeGreaterThan(0)
      for (const status of statuses)
        expect(['ready', 'not ready', 'not deployed', 'unknown']).toContain(status)
      // Its node pools with their nodes by version (the simulated fleet manages nodes).
      const pools = await page.locator('#node-pools .pool').allTextContents()
      expect(pools.length).toBeGreaterThan(0)
      expect(
        pools.some((p) => /\d+ nodes?: \d+ at \d+\.\d+/.test(p)),
        pools.join('\n'),
      ).toBe(true)
      // An account's stacks the same way: each with its resources, their health and drift.
      await page.goto(`${f.server.url}/accounts/${f.devAccount}`)
      expect(await page.locator('#stacks details.stack').count()).toBeGreaterThan(0)
      const resources = page.locator('#stacks tr[data-resource]')
      expect(await resources.count()).toBeGreaterThan(0)
      const zone = page.locator('#stacks tr[data-resource$="/HostedZone"]').first()
      if ((await zone.count()) > 0)
        expect(await zone.locator('td:nth-child(3)').textContent()).toMatch(/healthy|failing/)
      // An account being set up is "not deployed yet", not down.
      const { accounts } = (await json(await f.viewer.api('/api/accounts'))).body as {
        accounts: { id: string; lifecycle: string }[]
      }
      const requested = accounts.find((a) => a.lifecycle === 'requested')
      expect(requested, 'the example has an account being set up').toBeDefined()
      await page.goto(`${f.server.url}/accounts/${requested!.id}`)
      expect(await page.textContent('#not-deployed')).toContain('not deployed yet')
      // Clusters filter and sort like accounts, in the URL.
      await page.goto(`${f.server.url}/clusters?sort=kubernetesVersion&order=desc`)
      expect(await page.getAttribute('th[aria-sort=descending] a', 'href')).toContain(
        'sort=kubernetesVersion',
      )
      await page.goto(`${f.server.url}/clusters?environment=no-such-environment`)
      expect(await page.textContent('#no-clusters')).toContain('No cluster matches these filters')
      await page.context().close()
    },
  )

  generalTest(
    'issue 23: a stage that bakes counts down on the rollout page, and its JSON says until when; aborted while it bakes, the stage shows done',
    async () => {
      editRollout(f.repo, (r) => {
        r.stages.find((s) => s.name === 'dev')!.bake = '10m'
      })
      setLogExpiry(f.repo, { [f.devAccount]: 39 })
      await commitAll(f.repo, 'dev bakes for 10 minutes; logs for 39 days in a dev account')
      const alice = await signIn(f.alice)
      try {
        await openPlan(alice)
        await confirmStart(alice, 'Start a rollout')
        await alice.waitForURL(/\/rollouts\/r-\d{8}-[0-9a-f]{6}$/)
        const id = alice.url().split('/').at(-1)!
        const bake = alice.locator('#live .stage[data-stage=dev] .bake')
        await expect
          .poll(() => bake.textContent(), { timeout: 30_000 })
          .toMatch(/^baking until \d\d:\d\d:\d\d UTC \((9m \d\ds|10m 00s) left\)$/)
        // The page counts down by itself, between the rollout's events.
        const first = await bake.locator('.countdown').textContent()
        await expect.poll(() => bake.locator('.countdown').textContent(), { timeout: 5_000 }).not.toBe(first)
        const status = (await json(await f.viewer.api(`/api/rollouts/${id}`))).body as {
          stages: { name: string; bake: { ms: number; startedAt: string; until: string; finishedAt: null } }[]
        }
        const dev = status.stages.find((s) => s.name === 'dev')!.bake
        expect([dev.ms, Date.parse(dev.until) - Date.parse(dev.startedAt), dev.finishedAt]).toEqual([
          600_000,
          600_000,
          null,
        ])
        await alice.click('#live button:has-text("Abort")')
        await waitForState(alice, 'aborted')
        expect(await alice.textContent('#live .stage[data-stage=dev] .name')).toContain('succeeded')
      } finally {
        editRollout(f.repo, (r) => {
          delete r.stages.find((s) => s.name === 'dev')!.bake
        })
        await commitAll(f.repo, 'dev bakes no more')
        await alice.context().close()
      }
    },
  )
})
