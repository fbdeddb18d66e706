/**
 * The example's apply under way in this process (`npm start` applies it while serving):
 * `GET /api/bootstrap` for programs, and the portal's banner with the script that keeps it
 * current without reloading the page.
 */
import { Hono } from 'hono'
import { html, raw } from 'hono/html'
import type { BootstrapProgress } from '../app/bootstrap-progress.ts'
import { signedIn } from './api/http-helpers.ts'
import type { Html } from './portal/layout.ts'
import type { ServerDeps, ServerEnv } from './server-deps.ts'

/** How often the banner asks again, in milliseconds. */
const POLL_MS = 2000

/** `/assets/bootstrap.js`: refreshes the banner's sentence; removes the banner once it is no longer shown. */
const BANNER_JS = `
(() => {
  const banner = document.querySelector('[data-bootstrap]')
  if (!banner) return
  const text = banner.querySelector('[data-bootstrap-text]')
  const poll = async () => {
    try {
      const response = await fetch('/api/bootstrap', { credentials: 'same-origin' })
      if (!response.ok) return
      const { bootstrap, shown } = await response.json()
      if (!shown || !bootstrap) { banner.remove(); return }
      text.textContent = bootstrap.summary
      if (bootstrap.state !== 'applying') {
        banner.className = 'banner freeze'
        banner.querySelector('[data-bootstrap-hint]')?.remove()
        return
      }
    } catch { /* the server restarts: try again */ }
    setTimeout(poll, ${POLL_MS})
  }
  setTimeout(poll, ${POLL_MS})
})()
`

/** `GET /api/bootstrap` and `GET /assets/bootstrap.js`. */
export function bootstrapRoutes(deps: ServerDeps): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>()
  app.get('/api/bootstrap', (c) => {
    signedIn(c)
    return c.json({
      bootstrap: deps.bootstrap?.current() ?? null,
      shown: deps.bootstrap?.shown() ?? false,
    })
  })
  app.get('/assets/bootstrap.js', (c) =>
    c.body(BANNER_JS, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'max-age=300',
    }),
  )
  return app
}

/** The portal's banner while the example is applied (and after, when something failed); else nothing. */
export function bootstrapBanner(progress: BootstrapProgress | undefined): Html | '' {
  const status = progress?.current()
  if (!progress?.shown() || !status) return ''
  const kind = status.state === 'applying' ? 'info' : 'freeze'
  return html`<div class="banner ${kind}" role="status" data-bootstrap>
        <span data-bootstrap-text>${status.summary}</span>
        ${status.state === 'applying' ? html` <span class="muted" data-bootstrap-hint>You can look around meanwhile: pages show what is applied so far.</span>` : ''}
        ${raw('<script src="/assets/bootstrap.js" defer></script>')}
      </div>`
}
