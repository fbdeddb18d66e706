/** Portal pages of plans, rollouts and the audit log. */
import { html } from 'hono/html'
import type { Change, Plan, TargetPlan } from '../../core/model/plan.ts'
import { describePolicyTime, type PolicyTime } from '../../core/policy/policy-time.ts'
import type { RolloutStatus } from '../../rollout/rollout-model.ts'
import type { AuditEntry } from '../../store/audit.ts'
import { bar, csrfField, type Html, pill } from './layout.ts'

const DESTRUCTIVE = new Set(['delete', 'replace'])

/** How often the plan page reloads while its plan is computed. */
export const PROGRESS_REFRESH_SECONDS = 2

/**
 * The time policies saw, in a line; a what-if time says that nothing can be started from it (a
 * rollout plans again, at the server's clock).
 */
function policyTimeLine(time: PolicyTime | null | undefined, planAgain?: string): Html | string {
  if (!time) return ''
  return time.source === 'what-if'
    ? html`<div class="banner info" role="status" id="policy-time">What if: policies saw ${time.at}, a time chosen for this preview. Nothing can be started from it: a rollout plans again at the server's clock.${planAgain ? html` <a href="${planAgain}">Plan at the server's clock</a>` : ''}</div>`
    : html`<p class="muted" id="policy-time">Policy time: ${describePolicyTime(time)}</p>`
}

/** Targets that make the same changes (relative to themselves), shown once with the count. */
function groupTargets(
  targets: readonly TargetPlan[],
): { targets: TargetPlan[]; changes: readonly Change[]; destructive: boolean }[] {
  const groups = new Map<string, TargetPlan[]>()
  for (const target of targets) {
    const key = JSON.stringify(
      target.changes.map((c) => [
        c.action,
        c.type,
        c.address.slice(target.id.length),
        c.properties.map((p) => [p.path, p.before, p.after]),
      ]),
    )
    groups.set(key, [...(groups.get(key) ?? []), target])
  }
  return [...groups.values()]
    .map((group) => ({
      targets: group,
      changes: group[0]!.changes,
      destructive: group[0]!.changes.some((c) => DESTRUCTIVE.has(c.action) || c.mayReplace === true),
    }))
    .sort((a, b) => Number(b.destructive) - Number(a.destructive) || b.targets.length - a.targets.length)
}

/** An approval recorded for a plan, with who gave it and, when it does not count, why. */
export interface RecordedApprovalRow {
  readonly approval: string
  readonly givenBy: string
  readonly at: Date
  /** Why it would not count if the signed-in user started the rollout; undefined when it counts. */
  readonly why?: string
}

/** What the plan page shows of approvals and offers to approve. */
export interface PlanApprovals {
  readonly recorded: readonly RecordedApprovalRow[]
  /** The required approvals the signed-in user may give. */
  readonly approvable: ReadonlySet<string>
}

/**
 * The plan page while its plan is computed (the first time for a head and an observed state):
 * what is being computed and since when; the page reloads itself (a `Refresh` header) until the
 * plan is there.
 */
export function planProgressPage(
  progress: { readonly targets: number; readonly since: Date },
  revision: string,
  refreshSeconds: number,
): Html {
  const seconds = Math.max(0, Math.round((Date.now() - progress.since.getTime()) / 1000))
  return html`<h1>Plan of <code>${revision.slice(0, 12)}</code></h1>
    <div class="banner info" role="status" id="plan-progress">Computing the plan of ${progress.targets} targets against the fleet as observed now (${seconds} s so far) … This page reloads every ${refreshSeconds} s until it is there; once computed, the plan is kept until the revision or the fleet changes.</div>
    <p><a href="">Reload</a></p>`
}

/** The plan page: verdict, findings, the blast radius as a chart, then grouped changes, destructive first. */
export function planPage(
  plan: Plan,
  revision: string,
  rev: string,
  csrf: string | undefined,
  mayStart: boolean,
  approvals: PlanApprovals,
): Html {
  const chart = (title: string, counts: Readonly<Record<string, number>>) => {
    const max = Math.max(1, ...Object.values(counts))
    return html`<div class="card"><b>${title}</b><div class="chart">
      ${Object.entries(counts)
        .sort((a, b) => b[1] - a[1])
        .map(
          ([k, n]) =>
            html`<span>${k}</span>${bar(n, max, k === 'delete' || k === 'replace')}<span>${n}</span>`,
        )}
    </div></div>`
  }
  // A protected destruction is approved on its own, by its exact address: never in a batch.
  const destroyed = new Set(
    plan.findings.filter((f) => f.rule === 'protected-destroy').flatMap((f) => f.addresses),
  )
  const approveForm = (list: readonly string[], label: string, cls = '') =>
    html`<form class="inline" method="post" action="/approvals">${csrfField(csrf)}<input type="hidden" name="rev" value="${revision}" />${list.map((a) => html`<input type="hidden" name="approval" value="${a}" />`)}<button class="${cls}" type="submit">${label}</button></form>`
  const ordinary = plan.approvalsRequired.filter((a) => !destroyed.has(a) && approvals.approvable.has(a))
  const givenFor = (a: string) =>
    approvals.recorded
      .filter((r) => r.approval === a)
      .map(
        (r) =>
          html`${r.givenBy}${r.why ? html` <span class="muted" title="${r.why}">(does not count if you start it)</span>` : ''}`,
      )
  return html`
    <h1>Plan of <code>${rev}</code> <span class="count">(${revision.slice(0, 12)}, against the observed fleet)</span></h1>
    <form class="inline" method="get" action="/plans"><input name="rev" value="${rev}" aria-label="Revision" /><button type="submit">Plan</button></form>
    <p>Verdict: ${pill(plan.verdict)} — ${plan.summary.targetsChanged} of ${plan.summary.targets} targets change${
      plan.summary.protectedDestroyed > 0
        ? html`, <span class="destructive">${plan.summary.protectedDestroyed} protected resources destroyed</span>`
        : ''
    }; ${plan.summary.opsTargetsChanged} ops targets.</p>
    ${policyTimeLine(plan.policyTime, `/plans?rev=${encodeURIComponent(rev)}`)}
    ${
      plan.findings.length > 0
        ? html`<h2>Findings</h2><ul>${plan.findings.map((f) => html`<li>${pill(f.effect === 'deny' ? 'denied' : f.effect === 'require-approval' ? 'requires-approval' : 'warn')} <b>${f.rule}</b>: ${f.message} <span class="muted">(${f.addresses.length})</span></li>`)}</ul>`
        : ''
    }
    ${
      plan.approvalsRequired.length > 0
        ? html`<h2>Approvals</h2>
          <table id="approvals"><thead><tr><th>Required</th><th>Given by</th><th></th></tr></thead><tbody>
            ${plan.approvalsRequired.map(
              (a) =>
                html`<tr data-approval="${a}"><td><code>${a}</code>${destroyed.has(a) ? html` <span class="destructive">protected, destroyed</span>` : ''}</td><td>${givenFor(a).map((g, i) => (i === 0 ? g : html`, ${g}`))}</td><td>${
                  mayStart && destroyed.has(a) && approvals.approvable.has(a)
                    ? approveForm([a], 'Approve')
                    : ''
                }</td></tr>`,
            )}
          </tbody></table>
          ${mayStart && ordinary.length > 0 ? approveForm(ordinary, `Approve all ${ordinary.length}${ordinary.length < plan.approvalsRequired.length ? ' ordinary' : ''}`) : ''}
          ${
            mayStart
              ? html`<p class="muted">Each protected resource to be destroyed is approved on its own, by its exact address. Only the teams owning a target (or an admin) approve it, and approvals by the one who starts the rollout never count.${
                  plan.approvalsRequired.some((a) => !approvals.approvable.has(a))
                    ? ' Approvals you cannot give are for a member of the owning team, or an admin.'
                    : ''
                }</p>`
              : ''
          }`
        : ''
    }
    ${
      approvals.recorded.length > 0
        ? html`<h2>Recorded approvals</h2>
          <table id="recorded-approvals"><thead><tr><th>Approval</th><th>By</th><th>When (UTC)</th><th>Counts</th></tr></thead><tbody>
            ${approvals.recorded.map((r) => html`<tr><td><code>${r.approval}</code></td><td>${r.givenBy}</td><td>${r.at.toISOString().slice(0, 16).replace('T', ' ')}</td><td>${r.why ? html`<span class="muted">not if you start it: ${r.why}</span>` : 'yes'}</td></tr>`)}
          </tbody></table>`
        : ''
    }
    <h2>Blast radius</h2>
    <div class="cards">${chart('By environment', plan.summary.byEnvironment)}${chart('By criticality', plan.summary.byCriticality)}${chart('Actions', plan.summary.actions)}</div>
    ${
      (plan.verdict === 'allowed' || plan.verdict === 'requires-approval') &&
      mayStart &&
      plan.policyTime?.source !== 'what-if'
        ? html`<h2>Roll it out</h2><form class="inline" method="post" action="/rollouts">${csrfField(csrf)}<input type="hidden" name="rev" value="${rev}" /><button class="primary" type="submit">Start a rollout of ${rev}</button></form>`
        : ''
    }
    <h2>Changes</h2>
    ${groupTargets(plan.targets).map(
      (g) => html`<div class="card spaced">
        <b class="${g.destructive ? 'destructive' : ''}">${g.targets.length} ${g.targets.length === 1 ? 'target' : 'targets'}</b>
        <span class="muted">${g.targets
          .slice(0, 8)
          .map((t) => t.name)
          .join(', ')}${g.targets.length > 8 ? ` and ${g.targets.length - 8} more` : ''}</span>
        <ul>${g.changes
          .filter((c) => c.action !== 'no-op')
          .map(
            (c) =>
              html`<li class="${DESTRUCTIVE.has(c.action) ? 'destructive' : ''}">${c.action} <code>${c.address.slice(g.targets[0]!.id.length + 1)}</code> <span class="muted">${c.type}${c.protected ? ' · protected' : ''}</span></li>`,
          )}</ul>
      </div>`,
    )}`
}

/** One row of the rollouts list. */
export interface RolloutListRow {
  readonly id: string
  readonly state: string
  readonly revision: string
  readonly createdBy: string
  readonly createdAt: string
  readonly haltReason: string | null
}

/** The rollouts page: the newest first, and a form to start one. */
export function rolloutsPage(
  rows: readonly RolloutListRow[],
  csrf: string | undefined,
  signedIn: boolean,
): Html {
  return html`
    <h1>Rollouts</h1>
    ${
      signedIn
        ? html`<form class="inline" method="post" action="/rollouts">${csrfField(csrf)}<input name="rev" placeholder="revision (default: the branch served)" aria-label="Revision to roll out" /><button class="primary" type="submit">Start rollout</button></form><p class="muted">Approvals are recorded on the plan page, by the teams that own the targets: the one who starts a rollout never approves it.</p>`
        : ''
    }
    <p></p>
    <table id="rollouts"><thead><tr><th>Rollout</th><th>State</th><th>Revision</th><th>By</th><th>Started</th><th>Why</th></tr></thead><tbody>
      ${rows.map((r) => html`<tr><td><a href="/rollouts/${r.id}">${r.id}</a></td><td>${pill(r.state)}</td><td><code>${r.revision.slice(0, 12)}</code></td><td>${r.createdBy}</td><td>${r.createdAt.slice(0, 16).replace('T', ' ')}</td><td>${r.haltReason ?? ''}</td></tr>`)}
    </tbody></table>`
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
): Html {
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
              html`<tr><td>${wave.index}</td><td>${t.id}</td><td>${pill(t.state)}</td><td>${t.attempts}</td><td>${t.reason ?? ''}</td><td>${
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
