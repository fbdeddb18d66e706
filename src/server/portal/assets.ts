/**
 * The portal's stylesheet and its one small script. Calm and legible: a neutral palette, one
 * accent colour (blue), red only for what is destructive or failed. The script only enhances: a
 * rollout page follows its events (Server-Sent Events) and swaps in the fresh status, and a bake
 * counts down; everything
 * works without it, by reloading.
 */

/** `/assets/portal.css`. */
export const PORTAL_CSS = `
:root { --ink:#1d2430; --muted:#5f6b7a; --line:#dde2e8; --bg:#f6f7f9; --card:#fff; --accent:#2563eb; --accent-soft:#dbe7ff; --bad:#c62828; --bad-soft:#fde8e8; --ok:#2e7d32; --warn:#a15c00; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink); background:var(--bg); display:grid; grid-template-columns: 200px 1fr; min-height:100vh; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
main :is(p, .sub, .banner, li, .card, .muted) a { text-decoration: underline; } /* links in running text: not by colour alone */
nav.side { background:#fff; border-right:1px solid var(--line); padding:16px 0; }
nav.side .brand { font-weight:700; font-size:16px; padding:0 20px 16px; }
nav.side a { display:block; padding:7px 20px; color:var(--ink); }
nav.side a[aria-current=page] { background:var(--accent-soft); border-left:3px solid var(--accent); padding-left:17px; font-weight:600; }
main { padding: 0 28px 40px; min-width:0; }
header.top { display:flex; align-items:center; gap:16px; padding:12px 0; border-bottom:1px solid var(--line); margin-bottom:16px; }
header.top .who { margin-left:auto; color:var(--muted); }
form.inline { display:inline-flex; gap:6px; align-items:center; margin:0; }
button, .button { font:inherit; border:1px solid var(--line); background:#fff; border-radius:6px; padding:5px 12px; cursor:pointer; color:var(--ink); }
button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
button.stop { background:var(--bad); border-color:var(--bad); color:#fff; font-weight:700; }
button:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible { outline:2px solid var(--accent); outline-offset:2px; }
input, select { font:inherit; border:1px solid var(--line); border-radius:6px; padding:5px 8px; background:#fff; }
.banner { padding:10px 14px; border-radius:6px; margin-bottom:14px; }
.banner.stopped { background:var(--bad-soft); border:1px solid var(--bad); color:var(--bad); font-weight:600; }
.banner.info { background:var(--accent-soft); }
.banner.freeze { background:#fff4e0; border:1px solid #e0b060; color:var(--warn); }
h1 { font-size:20px; margin:8px 0 4px; } h2 { font-size:16px; margin:22px 0 8px; }
.sub { color:var(--muted); margin-bottom:14px; }
.layout { display:grid; grid-template-columns: 220px 1fr; gap:20px; align-items:start; }
.filters { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px; }
.filters label { display:block; font-weight:600; margin:10px 0 4px; } .filters select, .filters input { width:100%; }
table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:8px; overflow:hidden; }
th, td { text-align:left; padding:7px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#fafbfc; font-weight:600; white-space:nowrap; } th a { color:var(--ink); }
td .id { color:var(--muted); font-size:12px; font-variant-numeric: tabular-nums; }
meter { width:100%; min-width:60px; height:8px; }
meter::-webkit-meter-bar { background:var(--line); border:0; border-radius:4px; }
meter::-webkit-meter-optimum-value, meter::-webkit-meter-suboptimum-value, meter::-webkit-meter-even-less-good-value { background:var(--accent); border-radius:4px; }
meter.bad::-webkit-meter-optimum-value, meter.bad::-webkit-meter-suboptimum-value, meter.bad::-webkit-meter-even-less-good-value { background:var(--bad); }
meter::-moz-meter-bar { background:var(--accent); } meter.bad::-moz-meter-bar { background:var(--bad); }
.pill { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; background:#eef1f4; }
.pill.succeeded, .pill.passed, .pill.allowed, .pill.no-changes { background:#e6f4ea; color:var(--ok); }
.pill.failed, .pill.denied, .pill.halted, .pill.rolled-back, .pill.aborted { background:var(--bad-soft); color:var(--bad); }
.pill.running, .pill.applying, .pill.verifying, .pill.queued { background:var(--accent-soft); color:var(--accent); }
.pill.waiting-approval, .pill.requires-approval, .pill.paused { background:#fff4e0; color:var(--warn); }
.stages { display:grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap:12px; margin:12px 0; }
.stage { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px; }
.stage .name { font-weight:600; display:flex; justify-content:space-between; }
.cards { display:grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap:12px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px; }
.destructive { color:var(--bad); font-weight:600; }
.muted { color:var(--muted); }
.spaced { margin-bottom:10px; }
.chart { display:grid; grid-template-columns: 110px 1fr 40px; gap:4px 8px; align-items:center; }
.error { background:var(--bad-soft); color:var(--bad); padding:10px 14px; border-radius:6px; margin-bottom:12px; }
.count { color:var(--muted); font-weight:400; }
code { font-size:12px; background:#eef1f4; padding:1px 4px; border-radius:4px; overflow-wrap:anywhere; }
h3 { font-size:14px; margin:18px 0 8px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
details > summary { cursor:pointer; padding:4px 0; }
.change-group table.props { margin-top:8px; font-size:13px; }
.change-group td.before code { background:var(--bad-soft); } .change-group td.after code { background:#e6f4ea; }
pre.diff { margin:0; font-size:12px; white-space:pre-wrap; overflow-wrap:anywhere; background:#fafbfc; padding:6px; border-radius:4px; }
pre.diff .row.added { background:#e6f4ea; } pre.diff .row.removed { background:var(--bad-soft); } pre.diff .row.hunk { color:var(--muted); }
ul.target-list { columns: 2 320px; margin:6px 0; padding-left:18px; }
nav.pager { display:flex; gap:6px; margin:8px 0; flex-wrap:wrap; } nav.pager a, nav.pager span { padding:2px 8px; border:1px solid var(--line); border-radius:4px; background:#fff; }
nav.pager span[aria-current=page] { background:var(--accent); color:#fff; border-color:var(--accent); }
@media (max-width: 1500px) { body { grid-template-columns: 160px 1fr; } main { padding:0 16px 32px; } th, td { padding:6px 7px; } .layout { grid-template-columns: 190px 1fr; gap:14px; } }
`

/** `/favicon.svg`: the portal's icon (three hulls of a small fleet), served for `/favicon.ico` too. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#2563eb"/><path d="M5 20h22l-3 5H8z M9 13h14l-2 4H11z M13 7h6l-1 3h-4z" fill="#fff"/></svg>`

/** `/assets/portal.js`: live rollout pages. */
export const PORTAL_JS = `
(() => {
  // A stage's bake counts down between the rollout's events.
  const left = (until) => {
    const s = Math.max(0, Math.ceil((Date.parse(until) - Date.now()) / 1000))
    const m = Math.floor(s / 60)
    return m > 0 ? m + 'm ' + String(s % 60).padStart(2, '0') + 's' : s + 's'
  }
  setInterval(() => {
    for (const bake of document.querySelectorAll('[data-bake-until]')) {
      const countdown = bake.querySelector('.countdown')
      if (countdown) countdown.textContent = left(bake.getAttribute('data-bake-until'))
    }
  }, 1000)
  const live = document.querySelector('[data-live-rollout]')
  if (!live || !window.EventSource) return
  const id = live.getAttribute('data-live-rollout')
  const after = live.getAttribute('data-after') || '0'
  const source = new EventSource('/api/rollouts/' + encodeURIComponent(id) + '/events?after=' + after)
  let busy = false
  let again = false
  const refresh = async () => {
    if (busy) { again = true; return }
    busy = true
    try {
      const response = await fetch('/rollouts/' + encodeURIComponent(id) + '/status', { credentials: 'same-origin' })
      if (response.ok) live.innerHTML = await response.text()
    } finally {
      busy = false
      if (again) { again = false; refresh() }
    }
  }
  source.addEventListener('rollout-event', refresh)
  source.addEventListener('end', () => { source.close(); refresh() })
})()
`
