/**
 * The portal's plan page: the verdict, the findings, the approvals grouped by the rule that asks
 * them, the blast radius, then the changes as people review them — the same change in N targets
 * shown once (as the markdown of a pull request shows it, {@link groupIdenticalChanges}),
 * destructive and protected first, each with its property diffs (multi-line strings by line) and
 * the list of its targets to expand. A change touching every target stays a light page: the groups
 * come a page at a time and long lists are cut with a link to the rest.
 */

import { html } from 'hono/html'
import type { CommitTest } from '../../controller/follower.ts'
import type { Finding, Plan, TargetPlan } from '../../core/model/plan.ts'
import { type ChangeGroup, groupIdenticalChanges, sectionOf } from '../../core/plan/change-groups.ts'
import { cloudPreviewLine, describeCloud } from '../../core/plan/cloud-preview.ts'
import { cutRows, describeLineChange, type PropertyView, propertyViews } from '../../core/plan/line-diff.ts'
import {
  ACTION_SYMBOLS,
  countEntries,
  describeRotation,
  formatCount,
  formatValue,
  relativeAddress,
  replacementNote,
  sortFindings,
  stageEntries,
  targetCount,
} from '../../core/plan/render-common.ts'
import { describePolicyTime, type PolicyTime } from '../../core/policy/policy-time.ts'
import { bar, csrfField, type Html, pill } from './layout.ts'

/** How often the plan page reloads while its plan is computed. */
export const PROGRESS_REFRESH_SECONDS = 2
/** Groups of changes per page. */
export const GROUPS_PER_PAGE = 25
/** Targets listed in a group before the rest is counted. */
const TARGETS_LISTED = 300
/** Approvals of one rule listed before the rest is linked to. */
export const APPROVALS_LISTED = 50
/** Property changes shown per group. */
const PROPERTIES_SHOWN = 30
/** Rows of a multi-line string's diff shown. */
const DIFF_ROWS_SHOWN = 80
/** Characters of a value shown. */
const VALUE_SHOWN = 300

/**
 * The time policies saw, in a line; a what-if time says that nothing can be started from it (a
 * rollout plans again, at the server's clock).
 */
export function policyTimeLine(time: PolicyTime | null | undefined, planAgain?: string): Html | string {
  if (!time) return ''
  return time.source === 'what-if'
    ? html`<div class="banner info" role="status" id="policy-time">What if: policies saw ${time.at}, a time chosen for this preview. Nothing can be started from it: a rollout plans again at the server's clock.${planAgain ? html` <a href="${planAgain}">Plan at the server's clock</a>` : ''}</div>`
    : html`<p class="muted" id="policy-time">Policy time: ${describePolicyTime(time)}</p>`
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

/** Where the plan page is: its revision, and which part of a long plan it shows. */
export interface PlanView {
  /** The revision as asked (`main`, a commit). */
  readonly rev: string
  /** The page of change groups, from 1. */
  readonly page: number
  /** The rule whose approvals are all listed (the others are cut at {@link APPROVALS_LISTED}). */
  readonly allApprovalsOf?: string
  /** Query parameters every link of the page keeps (a what-if `now`). */
  readonly keep: Readonly<Record<string, string>>
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

/** A link to the plan page with some of its parameters changed. */
function planLink(view: PlanView, change: Readonly<Record<string, string | undefined>>): string {
  const params = new URLSearchParams({ rev: view.rev, ...view.keep })
  if (view.page > 1) params.set('page', String(view.page))
  if (view.allApprovalsOf) params.set('approvals', view.allApprovalsOf)
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) params.delete(key)
    else params.set(key, value)
  }
  return `/plans?${params}`
}

/** The plan page: verdict, findings, approvals by rule, the blast radius, then the changes. */
export function planPage(
  plan: Plan,
  revision: string,
  view: PlanView,
  csrf: string | undefined,
  mayStart: boolean,
  approvals: PlanApprovals,
  tested?: CommitTest,
): Html {
  const { rev } = view
  const chart = (title: string, counts: Readonly<Record<string, number>>) => {
    const max = Math.max(1, ...Object.values(counts))
    return html`<div class="card"><b>${title}</b><div class="chart">
      ${countEntries(counts).map(
        ([k, n]) => html`<span>${k}</span>${bar(n, max, k === 'delete' || k === 'replace')}<span>${n}</span>`,
      )}
    </div></div>`
  }
  const startable =
    (plan.verdict === 'allowed' || plan.verdict === 'requires-approval') &&
    mayStart &&
    plan.policyTime?.source !== 'what-if'
  return html`
    <h1>Plan of <code>${rev}</code> <span class="count">(${revision.slice(0, 12)}, against the observed fleet)</span></h1>
    <form class="inline" method="get" action="/plans"><input name="rev" value="${rev}" aria-label="Revision" /><button type="submit">Plan</button></form>
    <p>Verdict: ${pill(plan.verdict)} — ${plan.summary.targetsChanged} of ${plan.summary.targets} targets change${
      plan.summary.protectedDestroyed > 0
        ? html`, <span class="destructive">${plan.summary.protectedDestroyed} protected resources destroyed</span>`
        : ''
    }; ${plan.summary.opsTargetsChanged} ops targets.</p>
    ${policyTimeLine(plan.policyTime, `/plans?rev=${encodeURIComponent(rev)}`)}
    ${plan.cloudPreview ? html`<p class="muted">${cloudPreviewLine(plan.cloudPreview)}</p>` : ''}
    ${tested ? testBlock(tested) : ''}
    ${findingsBlock(plan.findings)}
    ${approvalsBlock(plan, revision, view, csrf, mayStart, approvals)}
    <h2>Blast radius</h2>
    <div class="cards">${chart('By environment', plan.summary.byEnvironment)}${chart('By criticality', plan.summary.byCriticality)}${chart('Actions', plan.summary.actions)}</div>
    ${
      startable
        ? html`<h2>Roll it out</h2><form class="inline" method="get" action="/rollouts/new"><input type="hidden" name="rev" value="${rev}" /><button class="primary" type="submit">Start a rollout of ${rev}</button></form> <span class="muted">You see what it will do, stage by stage, and confirm before anything moves.</span>`
        : ''
    }
    ${changesBlock(plan, view)}`
}

function findingsBlock(findings: readonly Finding[]): Html | string {
  if (findings.length === 0) return ''
  return html`<h2>Findings</h2><ul id="findings">${sortFindings(findings).map(
    (f) =>
      html`<li>${pill(f.effect === 'deny' ? 'denied' : f.effect === 'require-approval' ? 'requires-approval' : 'warn')} <b>${f.rule}</b>: ${f.message} <span class="muted">(${formatCount(f.addresses.length)})</span></li>`,
  )}</ul>`
}

/**
 * The approvals a plan needs, by the rule that asks them: each rule with its count, how many are
 * given, one button to approve all of its ordinary ones, and its list — open when short, and cut
 * at {@link APPROVALS_LISTED} rows with a link to the whole list. A protected resource destroyed
 * is approved on its own, by its exact address, never in a batch.
 */
function approvalsBlock(
  plan: Plan,
  revision: string,
  view: PlanView,
  csrf: string | undefined,
  mayStart: boolean,
  approvals: PlanApprovals,
): Html | string {
  if (plan.approvalsRequired.length === 0 && approvals.recorded.length === 0) return ''
  const destroyed = new Set(
    plan.findings.filter((f) => f.rule === 'protected-destroy').flatMap((f) => f.addresses),
  )
  const approveForm = (list: readonly string[], label: string) =>
    html`<form class="inline" method="post" action="/approvals">${csrfField(csrf)}<input type="hidden" name="rev" value="${revision}" />${list.map((a) => html`<input type="hidden" name="approval" value="${a}" />`)}<button type="submit">${label}</button></form>`
  const givenBy = new Map<string, RecordedApprovalRow[]>()
  for (const r of approvals.recorded) givenBy.set(r.approval, [...(givenBy.get(r.approval) ?? []), r])
  const groups = approvalGroups(plan)
  const rows = (list: readonly string[]) =>
    list.map(
      (a) =>
        html`<tr data-approval="${a}"><td><code>${a}</code>${destroyed.has(a) ? html` <span class="destructive">protected, destroyed</span>` : ''}</td><td>${(
          givenBy.get(a) ?? []
        ).map(
          (r, i) =>
            html`${i > 0 ? ', ' : ''}${r.givenBy}${r.why ? html` <span class="muted" title="${r.why}">(does not count if you start it)</span>` : ''}`,
        )}</td><td>${mayStart && destroyed.has(a) && approvals.approvable.has(a) ? approveForm([a], 'Approve') : ''}</td></tr>`,
    )
  return html`<h2>Approvals <span class="count">(${formatCount(plan.approvalsRequired.length)} required)</span></h2>
    <div id="approvals">
    ${groups.map(({ rule, list }) => {
      const given = list.filter((a) => givenBy.has(a)).length
      const ordinary = list.filter((a) => !destroyed.has(a) && approvals.approvable.has(a))
      const all = view.allApprovalsOf === rule
      const shown = all ? list : list.slice(0, APPROVALS_LISTED)
      return html`<details class="approval-group card spaced" data-rule="${rule}"${list.length <= 10 || all ? html` open` : ''}>
        <summary><b>${rule}</b> · ${formatCount(list.length)} ${list.length === 1 ? 'approval' : 'approvals'} · ${formatCount(given)} given</summary>
        ${mayStart && ordinary.length > 0 ? approveForm(ordinary, `Approve all ${ordinary.length} of ${rule}`) : ''}
        <table><thead><tr><th>Required</th><th>Given by</th><th></th></tr></thead><tbody>${rows(shown)}</tbody></table>
        ${shown.length < list.length ? html`<p><a href="${planLink(view, { approvals: rule })}">Show all ${formatCount(list.length)} approvals of ${rule}</a></p>` : ''}
      </details>`
    })}
    ${
      mayStart
        ? html`<p class="muted">Each protected resource to be destroyed is approved on its own, by its exact address. Only the teams owning a target (or an admin) approve it, and approvals by the one who starts the rollout never count.${
            plan.approvalsRequired.some((a) => !approvals.approvable.has(a))
              ? ' Approvals you cannot give are for a member of the owning team, or an admin.'
              : ''
          }</p>`
        : ''
    }
    </div>
    ${
      approvals.recorded.length > 0
        ? html`<details id="recorded-approvals-block"${approvals.recorded.length <= 20 ? html` open` : ''}><summary>Recorded approvals (${formatCount(approvals.recorded.length)})</summary>
          <table id="recorded-approvals"><thead><tr><th>Approval</th><th>By</th><th>When (UTC)</th><th>Counts</th></tr></thead><tbody>
            ${approvals.recorded.map((r) => html`<tr><td><code>${r.approval}</code></td><td>${r.givenBy}</td><td>${r.at.toISOString().slice(0, 16).replace('T', ' ')}</td><td>${r.why ? html`<span class="muted">not if you start it: ${r.why}</span>` : 'yes'}</td></tr>`)}
          </tbody></table></details>`
        : ''
    }`
}

/** The required approvals by the rule that asks them (the first such finding), in the plan's order of rules. */
export function approvalGroups(plan: Plan): { rule: string; list: string[] }[] {
  const ruleOf = new Map<string, string>()
  for (const finding of sortFindings(plan.findings)) {
    if (finding.effect !== 'require-approval') continue
    const keys = finding.pattern
      ? [`${finding.pattern.glob} (expected ${finding.pattern.expectedCount})`]
      : finding.addresses
    for (const key of keys) if (!ruleOf.has(key)) ruleOf.set(key, finding.rule)
  }
  const groups = new Map<string, string[]>()
  for (const approval of plan.approvalsRequired) {
    const rule = ruleOf.get(approval) ?? 'other'
    groups.set(rule, [...(groups.get(rule) ?? []), approval])
  }
  return [...groups].map(([rule, list]) => ({ rule, list }))
}

/** The changes, grouped and in review order, a page of groups at a time. */
function changesBlock(plan: Plan, view: PlanView): Html {
  const groups = groupIdenticalChanges(plan.targets)
  const pages = Math.max(1, Math.ceil(groups.length / GROUPS_PER_PAGE))
  const current = Math.min(Math.max(1, view.page), pages)
  const shown = groups.slice((current - 1) * GROUPS_PER_PAGE, current * GROUPS_PER_PAGE)
  const stageOrder = Object.keys(plan.summary.byStage)
  const moves = plan.targets.filter((t) => t.stageMove)
  let section = ''
  const pager =
    pages > 1
      ? html`<nav class="pager" aria-label="Pages of changes">${Array.from({ length: pages }, (_, i) =>
          i + 1 === current
            ? html`<span aria-current="page">${i + 1}</span>`
            : html`<a href="${planLink(view, { page: String(i + 1) })}">${i + 1}</a>`,
        )}</nav>`
      : ''
  return html`<h2>Changes <span class="count">(${formatCount(groups.length)} distinct ${groups.length === 1 ? 'change' : 'changes'}${pages > 1 ? `, page ${current} of ${pages}` : ''})</span></h2>
    ${
      moves.length > 0
        ? html`<div class="card spaced" id="stage-moves"><b>Stage moves</b>: ${moves.length} ${moves.length === 1 ? 'target moves' : 'targets move'} to another stage — ${moves
            .slice(0, 20)
            .map((t) => `${t.name} (${t.stageMove!.from} → ${t.stageMove!.to})`)
            .join(', ')}${moves.length > 20 ? ` and ${moves.length - 20} more` : ''}</div>`
        : ''
    }
    ${pager}
    <div id="changes">
    ${shown.map((group) => {
      const heading = sectionOf(group.rank)
      const head = heading !== section ? html`<h3>${heading}</h3>` : ''
      section = heading
      return html`${head}${groupCard(group, stageOrder)}`
    })}
    </div>
    ${pager}`
}

function groupCard(group: ChangeGroup, stageOrder: readonly string[]): Html {
  const { change, targets } = group
  // Review ranks 0–3: a protected resource destroyed, a delete, a replacement, a possible one.
  const destructive = group.rank <= 3
  const facts = [
    ...(change.protected ? [html`<span class="pill failed">protected</span>`] : []),
    ...(change.mayReplace ? [html`<span class="destructive">may be replaced</span>`] : []),
    ...(change.cloud ? [html`<span class="muted">cloud: ${describeCloud(change.cloud)}</span>`] : []),
    ...(change.rotation
      ? [html`<span class="muted">rotates ${describeRotation(change.rotation, targets.length === 1)}</span>`]
      : []),
    ...(change.movedFrom === undefined
      ? []
      : [
          html`<span class="muted">moved from <code>${relativeAddress(targets[0]!.id, change.movedFrom)}</code></span>`,
        ]),
  ]
  return html`<section class="card spaced change-group" data-action="${change.action}" data-address="${group.relative}">
    <div><span class="${destructive ? 'destructive' : ''}">${ACTION_SYMBOLS[change.action]} ${change.action}</span> <code>${group.relative}</code> <span class="muted">${change.type}</span> ${facts}</div>
    ${targetsList(targets, stageOrder)}
    ${group.valuesDiffer ? html`<p class="muted">Values differ per target; shown for ${targets[0]!.name} (${targets[0]!.id}).</p>` : ''}
    ${propertiesTable(group)}
  </section>`
}

/** Where a change is made: one target named, or the count with the split by stage and a list to expand. */
function targetsList(targets: readonly TargetPlan[], stageOrder: readonly string[]): Html {
  const stages: Record<string, number> = {}
  for (const t of targets) if (t.stage !== null) stages[t.stage] = (stages[t.stage] ?? 0) + 1
  const split = stageEntries(stages, stageOrder)
    .map(([stage, n]) => `${stage} ${formatCount(n)}`)
    .join(' · ')
  if (targets.length === 1) {
    const t = targets[0]!
    return html`<p class="muted">in ${t.kind} <a href="/${t.kind}s/${encodeURIComponent(t.id)}">${t.name}</a> (${t.id})${t.stage ? ` · stage ${t.stage}` : ''}</p>`
  }
  const listed = targets.slice(0, TARGETS_LISTED)
  return html`<details class="targets"><summary>same change in ${targetCount(targets)}${split ? ` · ${split}` : ''}</summary>
    <ul class="target-list">${listed.map(
      (t) =>
        html`<li><a href="/${t.kind}s/${encodeURIComponent(t.id)}">${t.name}</a> <span class="muted">${t.id} · ${t.environment}${t.stage ? ` · ${t.stage}` : ''}</span></li>`,
    )}</ul>
    ${targets.length > listed.length ? html`<p class="muted">… and ${formatCount(targets.length - listed.length)} more (<code>flotilla plan --format json</code> lists them all).</p>` : ''}
  </details>`
}

/** The property changes of a group: `path: before → after`, and a multi-line string's diff by line. */
function propertiesTable(group: ChangeGroup): Html | string {
  const { properties } = group.change
  if (properties.length === 0) return ''
  const views = properties.slice(0, PROPERTIES_SHOWN).flatMap(propertyViews)
  return html`<table class="props"><thead><tr><th>Property</th><th>Before</th><th>After</th></tr></thead><tbody>
    ${views.map(propertyRow)}
  </tbody></table>
  ${properties.length > PROPERTIES_SHOWN ? html`<p class="muted">… and ${formatCount(properties.length - PROPERTIES_SHOWN)} more property changes.</p>` : ''}`
}

function propertyRow(view: PropertyView): Html {
  const note = replacementNote(view)
  const noteHtml = note ? html` <span class="destructive">(${note})</span>` : ''
  if (view.kind === 'value')
    return html`<tr class="prop"><td><code>${view.path}</code>${noteHtml}</td><td class="before">${view.before === null ? html`<span class="muted">absent</span>` : html`<code>${short(view.before)}</code>`}</td><td class="after">${view.after === null ? html`<span class="muted">absent</span>` : html`<code>${short(view.after)}</code>`}</td></tr>`
  const { shown, more } = cutRows(view.diff.rows, DIFF_ROWS_SHOWN)
  return html`<tr class="prop lines"><td><code>${view.path}</code>${noteHtml}<div class="muted">${describeLineChange(view)}</div></td><td colspan="2"><pre class="diff">${shown.map(
    (row) =>
      html`<span class="row ${row.kind}">${row.kind === 'added' ? '+' : row.kind === 'removed' ? '-' : row.kind === 'context' ? ' ' : ''}${row.text}</span>\n`,
  )}${more > 0 ? `… ${more} more lines of this diff` : ''}</pre></td></tr>`
}

function short(value: unknown): string {
  const text = formatValue(value)
  return text.length > VALUE_SHOWN
    ? `${text.slice(0, VALUE_SHOWN)}… (${formatCount(text.length)} characters)`
    : text
}

/** What `flotilla test` made of the commit before its rollout (`serve --test-commits`). */
function testBlock(test: CommitTest): Html {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  return html`<section aria-label="Tested as an upgrade">
    <h2>Tested as an upgrade</h2>
    <p>${pill(test.verdict)} <code>flotilla test</code> ${test.verdict === 'no-changes' ? 'had nothing to try' : test.verdict} — as an upgrade of <code>${test.base.slice(0, 12)}</code> and from empty, on ${test.targets} representative targets in an ephemeral simulated fleet, in ${seconds(test.ms)}.</p>
    <ul>${test.phases.map(
      (p) =>
        html`<li><b>${p.name === 'upgrade' ? 'upgrade' : 'from empty'}</b>: ${p.state} in ${seconds(p.ms)}${p.reason ? html` — ${p.reason}` : ''}</li>`,
    )}</ul>
    ${test.failures.length > 0 ? html`<details><summary>Events of what failed</summary><pre>${test.failures.join('\n')}</pre></details>` : ''}
  </section>`
}
