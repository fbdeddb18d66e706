/** The frame of every portal page: the sidebar, the top bar with the stop button, the banners. */
import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { effectiveRole, type Principal } from '../../app/access/permissions.ts'
import type { PolicyInForce } from '../../core/policy/in-force.ts'

/** A piece of escaped HTML. */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>

/** What every page shows besides its content. */
export interface Frame {
  readonly title: string
  /** The section of the sidebar to highlight. */
  readonly section: 'accounts' | 'clusters' | 'plans' | 'rollouts' | 'audit' | 'none'
  readonly principal: Principal | undefined
  readonly csrf: string | undefined
  /** The fleet-wide stop, when pulled. */
  readonly stop: { reason: string; by: string; at: string } | undefined
  /** Time-bound policies in force now (a change freeze). */
  readonly inForce: readonly PolicyInForce[]
  readonly revision?: string
  /** Banners of work under way in the server's process (`npm start`'s apply of the example). */
  readonly notices?: Html | ''
}

const SECTIONS = [
  ['accounts', '/accounts', 'Accounts'],
  ['clusters', '/clusters', 'Clusters'],
  ['plans', '/plans', 'Plans'],
  ['rollouts', '/rollouts', 'Rollouts'],
  ['audit', '/audit', 'Audit'],
] as const

/** The hidden field that proves a form comes from this portal. */
export function csrfField(csrf: string | undefined): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf ?? ''}" />`
}

/** A whole page. */
export function page(frame: Frame, content: Html): Html {
  const p = frame.principal
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${frame.title} · Flotilla</title>
    <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
    <link rel="stylesheet" href="/assets/portal.css" />
    <script src="/assets/portal.js" defer></script>
  </head>
  <body>
    <nav class="side" aria-label="Sections">
      <div class="brand">Flotilla</div>
      ${SECTIONS.map(
        ([key, href, label]) =>
          html`<a href="${href}" ${frame.section === key ? raw('aria-current="page"') : ''}>${label}</a>`,
      )}
    </nav>
    <main>
      <header class="top">
        ${
          p
            ? html`<form class="inline" method="post" action="/stop" aria-label="Fleet-wide stop">
                ${csrfField(frame.csrf)}
                <input name="reason" required minlength="3" placeholder="why stop everything?" aria-label="Reason for the stop" />
                <button class="stop" type="submit">Stop all rollouts</button>
              </form>`
            : ''
        }
        <span class="who">
          ${
            p
              ? html`${p.name} · ${effectiveRole(p)}${p.elevation ? html` <span class="pill waiting-approval">emergency access until ${p.elevation.until.toISOString().slice(11, 16)} UTC</span>` : ''}
                  <form class="inline" method="post" action="/logout">${csrfField(frame.csrf)}<button type="submit">Sign out</button></form>`
              : html`<a href="/login">Sign in</a>`
          }
        </span>
      </header>
      ${
        frame.stop
          ? html`<div class="banner stopped" role="alert">
              Fleet-wide stop: ${frame.stop.reason} — by ${frame.stop.by} at ${frame.stop.at.slice(0, 16).replace('T', ' ')} UTC. No rollout runs until it is released.
              ${
                p && effectiveRole(p) === 'admin'
                  ? html`<form class="inline" method="post" action="/unstop">${csrfField(frame.csrf)}<button type="submit">Release the stop</button></form>`
                  : ''
              }
            </div>`
          : ''
      }
      ${frame.inForce.map(
        (p) =>
          html`<div class="banner freeze" role="status">In force now: ${p.description} <span class="muted">(policy ${p.name}, ${p.effect})</span></div>`,
      )}
      ${frame.notices ?? ''}
      ${content}
    </main>
  </body>
</html>`
}

/** A state as a coloured pill. */
export function pill(state: string): Html {
  return html`<span class="pill ${state}">${state}</span>`
}

/** A horizontal bar, `value` of `max` (a `<meter>`: no inline style, read out by screen readers). */
export function bar(value: number, max: number, bad = false): Html {
  return html`<meter class="${bad ? 'bad' : ''}" min="0" max="${max}" value="${value}">${value} of ${max}</meter>`
}
