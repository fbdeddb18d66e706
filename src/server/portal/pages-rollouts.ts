/** Portal pages of rollouts and the audit log. */
import { html } from 'hono/html'
import { bakeText, type RolloutPreview } from '../../rollout/preview.ts'
import type { RolloutStatus } from '../../rollout/rollout-model.ts'
import type { AuditEntry } from '../../store/audit.ts'
import type { RolloutEvent } from '../../store/events.ts'
import { bar, csrfField, type Html, pill } from './layout.ts'
import { policyTimeLine } from './pages-plan.ts'

/** One row of the rollouts list. */
export interface RolloutListRow {
  readonly id: string
  readonly state: string
  readonly revision: string
  readonly createdBy: string
  readonly createdAt: string
  readonly haltReason: string | null
  /** The revision's commit subject, when the repository has it. */
  readonly subject?: string | undefined
  /** Its targets done (succeeded or skipped), failed, and in all. */
  readonly progress?: { readonly done: number; readonly failed: number; readonly total: number } | undefined
}

/** The rollouts page: the newest first, with their progress and commit, and a form to start one. */
export function rolloutsPage(rows: readonly RolloutListRow[], signedIn: boolean): Html {
  return html`
    <h1>Rollouts</h1>
    ${
      signedIn
        ? html`<form class="inline" method="get" action="/rollouts/new"><input name="rev" placeholder="revision (default: the branch served)" aria-label="Revision to roll out" /><button class="primary" type="submit">Start rollout</button></form><p class="muted">You see what a rollout will do, stage by stage, before you confirm it. Approvals are recorded on the plan page, by the teams that own the targets: the one who starts a rollout never approves it.</p>`
        : ''
    }
    ${
      rows.length === 0
        ? html`<div class="card" id="no-rollouts"><b>No rollouts yet.</b> <span class="muted">Open <a href="/plans">the plan</a> of the branch served to see what would change, then start one from there — or from the form above.</span></div>`
        : html`<table id="rollouts"><thead><tr><th>Rollout</th><th>State</th><th>Progress</th><th>Revision</th><th>By</th><th>Started (UTC)</th><th>Why</th></tr></thead><tbody>
      ${rows.map((r) => html`<tr><td><a href="/rollouts/${r.id}">${r.id}</a></td><td>${pill(r.state)}</td><td>${r.progress ? html`${bar(r.progress.done, Math.max(1, r.progress.total), r.progress.failed > 0)} <span class="muted">${r.progress.done}/${r.progress.total}${r.progress.failed > 0 ? `, ${r.progress.failed} failed` : ''}</span>` : ''}</td><td><code>${r.revision.slice(0, 12)}</code>${r.subject ? html` <span class="muted">${r.subject}</span>` : ''}</td><td>${r.createdBy}</td><td>${r.createdAt.slice(0, 16).replace('T', ' ')}</td><td>${r.haltReason ?? ''}</td></tr>`)}
    </tbody></table>`
    }`
}

/** What the signed-in user may press on a rollout. */
export interface RolloutButtons {
  readonly operate: boolean
  readonly approve: boolean
}

/** The live part of a rollout page (also served alone, for the script to swap in). */
export function rolloutStatusFragment(
  status: RolloutStatus,
  buttons: RolloutButtons,
  csrf: string | undefined,
  /** Target names by id (the inventory's), shown with the ids. */
  names: ReadonlyMap<string, string>,
  now: Date,
): Html {
  const named = (id: string) => {
    const name = names.get(id)
    return name ? html`${name} <span class="id">${id}</span>` : html`${id}`
  }
  const action = (name: string, label: string, target?: string, cls = '') =>
    html`<form class="inline" method="post" action="/rollouts/${status.id}/${name}">${csrfField(csrf)}${target ? html`<input type="hidden" name="target" value="${target}" />` : ''}<button class="${cls}" type="submit">${label}</button></form>`
  const s = status.state
  return html`
    <p>State: ${pill(s)} · revision <code>${status.revision.slice(0, 12)}</code> · by ${status.createdBy} · started ${status.createdAt.slice(0, 16).replace('T', ' ')} UTC</p>
    ${policyTimeLine(status.policyTime)}
    ${status.haltReason ? html`<div class="${s === 'halted' || s === 'rolled-back' ? 'error' : 'banner info'}">${status.haltReason}</div>` : ''}
    ${status.untrusted ? html`<div class="banner info" id="untrusted">Untrusted revision, started by an admin: ${status.untrusted}</div>` : ''}
    <div>
      ${buttons.operate && (s === 'running' || s === 'waiting-approval' || s === 'queued') ? action('pause', 'Pause') : ''}
      ${buttons.operate && s === 'paused' ? action('resume', 'Resume', undefined, 'primary') : ''}
      ${buttons.approve && s === 'waiting-approval' ? action('approve', `Approve ${status.stages.find((st) => st.state === 'waiting-approval')?.name ?? 'stage'}`, undefined, 'primary') : ''}
      ${buttons.operate && !['succeeded', 'rolled-back', 'aborted'].includes(s) ? action('abort', 'Abort') : ''}
    </div>
    <div class="stages">
      ${status.stages.map((stage) => {
        const targets = stage.waves.flatMap((w) => w.targets)
        const done = targets.filter((t) => t.state === 'succeeded' || t.state === 'skipped').length
        const failed = targets.filter((t) => t.state === 'failed' || t.state === 'rolled-back').length
        return html`<div class="stage" data-stage="${stage.name}">
          <div class="name"><span>${stage.name}</span>${pill(stage.state)}</div>
          ${bar(done, targets.length, failed > 0)}
          <div class="muted">${done}/${targets.length} targets · ${stage.waves.length} ${stage.waves.length === 1 ? 'wave' : 'waves'}${stage.approval === 'required' ? html` · approval ${stage.approvedBy ? `by ${stage.approvedBy}` : 'required'}` : ''}</div>
          ${bakeLine(stage.bake, now)}
        </div>`
      })}
    </div>
    ${status.stages.map(
      (stage) => html`<h2>${stage.name}</h2>
      ${stage.gates.length > 0 ? html`<p>${stage.gates.map((g) => html`${pill(g.state)} <b>${g.name}</b> <span class="muted">${g.detail}</span><br />`)}</p>` : ''}
      <table><thead><tr><th>Wave</th><th>Target</th><th>State</th><th>Attempts</th><th>Why</th><th></th></tr></thead><tbody>
        ${stage.waves.flatMap((wave) =>
          wave.targets.map(
            (t) =>
              html`<tr data-target="${t.id}"><td>${wave.index}</td><td>${named(t.id)}</td><td>${pill(t.state)}</td><td>${t.attempts}</td><td>${t.reason ?? ''}</td><td><a href="/rollouts/${status.id}/targets/${encodeURIComponent(t.id)}">events</a> ${
                buttons.operate &&
                t.state === 'failed' &&
                (s === 'halted' || s === 'paused' || s === 'running')
                  ? html`${action('retry', 'Retry', t.id)} ${action('skip', 'Skip', t.id)}`
                  : ''
              }</td></tr>`,
          ),
        )}
      </tbody></table>`,
    )}`
}

/**
 * A stage's bake as people follow it: `baking until 14:05:00 UTC (4 min left)`, counted down by
 * the page's script; `baked 5m` once done; nothing for a stage without one.
 */
function bakeLine(bake: RolloutStatus['stages'][number]['bake'], now: Date): Html | string {
  if (bake.ms === 0) return ''
  if (bake.until && !bake.finishedAt) {
    const left = Math.max(0, Math.ceil((Date.parse(bake.until) - now.getTime()) / 1000))
    return html`<div class="bake" data-bake-until="${bake.until}">baking until ${bake.until.slice(11, 19)} UTC (<span class="countdown">${formatLeft(left)}</span> left)</div>`
  }
  if (bake.finishedAt)
    return html`<div class="bake muted">baked ${bakeText(bake.ms).replace('bake ', '')}, until ${bake.finishedAt.slice(11, 19)} UTC</div>`
  return html`<div class="bake muted">${bakeText(bake.ms)} after its waves</div>`
}

/** Seconds left as `4m 05s`, `42s`. */
function formatLeft(seconds: number): string {
  const m = Math.floor(seconds / 60)
  const s = seconds % 60
  return m > 0 ? `${m}m ${String(s).padStart(2, '0')}s` : `${s}s`
}

/** A target's events in a rollout: what the engine did and what its provider reported, oldest first. */
export function targetEventsPage(
  rolloutId: string,
  target: string,
  name: string | undefined,
  events: readonly RolloutEvent[],
): Html {
  return html`<h1>${name ?? target} <span class="count">${name ? target : ''} in rollout <a href="/rollouts/${rolloutId}">${rolloutId}</a></span></h1>
    ${
      events.length === 0
        ? html`<div class="card" id="no-events">Nothing happened to this target in this rollout yet.</div>`
        : html`<table id="target-events"><thead><tr><th>When (UTC)</th><th>Event</th><th>Detail</th></tr></thead><tbody>
      ${events.map((e) => {
        const d = (e.detail ?? {}) as Record<string, unknown>
        const detail =
          e.type === 'provider-event'
            ? `${String(d.address ?? '')} ${String(d.status ?? '')}${d.message ? `: ${String(d.message)}` : ''}`
            : typeof d.reason === 'string'
              ? d.reason
              : typeof d.stage === 'string'
                ? `stage ${d.stage}`
                : ''
        return html`<tr class="${e.type === 'target-failed' ? 'failed' : ''}"><td>${e.at.toISOString().slice(0, 19).replace('T', ' ')}</td><td>${e.type}</td><td>${detail}</td></tr>`
      })}
    </tbody></table>`
    }`
}

/** The rollout page: the live fragment, followed by the script while the rollout is not over. */
export function rolloutPage(status: RolloutStatus, fragment: Html, lastEventId: number): Html {
  return html`<h1>Rollout ${status.id}</h1><div id="live" data-live-rollout="${status.id}" data-after="${lastEventId}">${fragment}</div>`
}

/** The mark of an audit entry made under emergency access: why, and who granted it. */
function elevationNote(elevated: AuditEntry['elevated']): Html | string {
  if (!elevated || typeof elevated !== 'object' || Array.isArray(elevated)) return ''
  const { reason, grantedBy } = elevated as { reason?: unknown; grantedBy?: unknown }
  return html` <span class="pill waiting-approval elevated" title="${String(reason ?? '')}">emergency access, granted by ${String(grantedBy ?? '?')}: ${String(reason ?? '')}</span>`
}

/** The audit page, filterable by actor and action; entries made under emergency access are marked. */
export function auditPage(
  entries: readonly AuditEntry[],
  filters: { actor?: string; action?: string },
): Html {
  return html`
    <h1>Audit</h1>
    <form class="inline" method="get" action="/audit" role="search">
      <input name="actor" value="${filters.actor ?? ''}" placeholder="who" aria-label="Actor" />
      <input name="action" value="${filters.action ?? ''}" placeholder="what (e.g. stop)" aria-label="Action" />
      <button type="submit">Filter</button> <a href="/audit">Clear</a>
    </form><p></p>
    <table id="audit"><thead><tr><th>When (UTC)</th><th>Who</th><th>What</th><th>On</th><th>From where</th><th>Detail</th></tr></thead><tbody>
      ${entries.map((e) => html`<tr${e.elevated ? html` class="elevated"` : ''}><td>${e.at.toISOString().slice(0, 19).replace('T', ' ')}</td><td>${e.actor}${elevationNote(e.elevated)}</td><td>${e.action}</td><td>${e.subject}</td><td>${e.source}</td><td><code>${JSON.stringify(e.detail)}</code></td></tr>`)}
    </tbody></table>`
}

/**
 * The page that asks before a rollout starts: what the plan changes, the stages it will pass in
 * order (targets, production among them, waves, bake, gates, approvals), and a button that starts
 * exactly this commit. Nothing moves until it is pressed.
 */
export function rolloutConfirmPage(
  preview: RolloutPreview,
  rev: string,
  commit: string,
  csrf: string | undefined,
): Html {
  const startable = preview.verdict === 'allowed' || preview.verdict === 'requires-approval'
  const actions = Object.entries(preview.actions).filter(([, n]) => n > 0)
  return html`<h1>Start a rollout of <code>${rev}</code> <span class="count">(${commit.slice(0, 12)})</span></h1>
    <div class="banner info" role="status" id="rollout-preview">Verdict ${pill(preview.verdict)}: ${preview.targets} ${preview.targets === 1 ? 'target changes' : 'targets change'}, <b>${preview.production} in production</b>${actions.length > 0 ? html` — ${actions.map(([a, n], i) => html`${i > 0 ? ', ' : ''}<span class="${a === 'delete' || a === 'replace' ? 'destructive' : ''}">${n} ${a}</span>`)}` : ''}${preview.protectedDestroyed > 0 ? html`; <span class="destructive">${preview.protectedDestroyed} protected resources destroyed</span>` : ''}. The changes are those of the fleet as observed now: targets an earlier rollout left unapplied are among them.</div>
    ${
      preview.targets === 0
        ? html`<div class="card" id="nothing-to-roll-out"><b>Nothing to roll out:</b> the fleet already is as this revision makes it. <a href="/plans?rev=${encodeURIComponent(rev)}">Back to the plan</a></div>`
        : html`<h2>Stages, in order</h2>
    <table id="preview-stages"><thead><tr><th>#</th><th>Stage</th><th>Targets</th><th>In production</th><th>Waves</th><th>Bake</th><th>Gates</th><th>Approval</th></tr></thead><tbody>
      ${preview.stages.map(
        (s, i) =>
          html`<tr data-stage="${s.name}"><td>${i + 1}</td><td>${s.name}</td><td>${s.targets}</td><td class="${s.production > 0 ? 'destructive' : ''}">${s.production}</td><td>${s.waves}</td><td>${bakeText(s.bakeMs)}</td><td>${s.gates.join(', ') || html`<span class="muted">none</span>`}</td><td>${s.approval ? 'waits for an approval' : ''}</td></tr>`,
      )}
    </tbody></table>
    ${
      preview.approvalsMissing.length > 0
        ? html`<div class="banner freeze" role="status" id="approvals-missing">${preview.approvalsMissing.length} ${preview.approvalsMissing.length === 1 ? 'approval is' : 'approvals are'} missing: the start is refused until they are given on <a href="/plans?rev=${encodeURIComponent(rev)}">the plan page</a>, by the teams owning the targets.</div>`
        : ''
    }
    <p>
      ${
        startable
          ? html`<form class="inline" method="post" action="/rollouts">${csrfField(csrf)}<input type="hidden" name="rev" value="${rev}" /><input type="hidden" name="commit" value="${commit}" /><input type="hidden" name="confirm" value="yes" /><button class="primary" type="submit">Confirm: start the rollout</button></form>`
          : ''
      }
      <a href="/plans?rev=${encodeURIComponent(rev)}">Back to the plan</a>
    </p>`
    }`
}
