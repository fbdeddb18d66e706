/** Portal pages of the inventory: the accounts table (filters, search, sorting), accounts and clusters. */
import { html } from 'hono/html'
import {
  type AccountFilters,
  type AccountRow,
  type AccountSort,
  type ClusterFilters,
  type ClusterRow,
  type ClusterSort,
  distinct,
} from '../../app/inventory-view.ts'
import type { DriftRevert } from '../../controller/drift-revert.ts'
import type { ClusterNodes } from '../../core/model/desired-state.ts'
import type { Change } from '../../core/model/plan.ts'
import type { Health } from '../../core/provider/port.ts'
import type { CachedHealth } from '../health-cache.ts'
import { bar, type Html, pill } from './layout.ts'

/** A filter of a table as a select: "All", then each value; `id` is the label's target. */
function filterSelect(
  id: string,
  name: string,
  label: string,
  values: readonly string[],
  chosen: string | undefined,
): Html {
  return html`
    <label for="${id}">${label}</label>
    <select id="${id}" name="${name}">
      <option value="">All</option>
      ${values.map((v) => html`<option value="${v}" ${chosen === v ? 'selected' : ''}>${v}</option>`)}
    </select>`
}

/**
 * A sortable column header: a link to `path` with the filters kept and this column sorted
 * (descending when it is sorted ascending already); `aria-sort` on the header, the link sorts.
 */
function sortHeader(
  path: string,
  filters: AccountFilters | ClusterFilters,
  sorted: { readonly column: string; readonly desc: boolean },
  column: string,
  label: string,
): Html {
  const params = new URLSearchParams(Object.entries(filters).filter(([, v]) => v) as [string, string][])
  params.set('sort', column)
  const current = sorted.column === column
  if (current && !sorted.desc) params.set('order', 'desc')
  const arrow = current ? (sorted.desc ? ' ↓' : ' ↑') : ''
  return html`<th aria-sort="${current ? (sorted.desc ? 'descending' : 'ascending') : 'none'}"><a href="${path}?${params.toString()}">${label}${arrow}</a></th>`
}

/** The accounts page: filters on the left, a search box, a sortable table; every state is a URL. */
export function accountsPage(
  all: readonly AccountRow[],
  shown: readonly AccountRow[],
  filters: AccountFilters,
  sort: AccountSort,
  desc: boolean,
): Html {
  const select = (
    name: keyof AccountFilters & string,
    label: string,
    column: Parameters<typeof distinct>[1],
  ) => filterSelect(`f-${name}`, name, label, distinct(all, column), filters[name])
  const link = (column: AccountSort, label: string) =>
    sortHeader('/accounts', filters, { column: sort, desc }, column, label)
  return html`
    <h1>Cloud Infrastructure</h1>
    <div class="sub">AWS Accounts <span class="count">(${shown.length} of ${all.length})</span></div>
    <div class="layout">
      <form class="filters" method="get" action="/accounts" role="search" aria-label="Filter accounts">
        <label for="f-q">Search</label>
        <input id="f-q" name="q" type="search" value="${filters.q ?? ''}" placeholder="name, id, team, cost center" />
        ${select('environment', 'Environment', 'environment')}
        ${select('criticality', 'Criticality', 'criticality')}
        ${select('costCenter', 'Cost Center', 'costCenter')}
        ${select('team', 'Team', 'team')}
        ${select('channel', 'Channel', 'channel')}
        ${select('group', 'Account Group', 'group')}
        <input type="hidden" name="sort" value="${sort}" />
        ${desc ? html`<input type="hidden" name="order" value="desc" />` : ''}
        <p><button class="primary" type="submit">Apply</button> <a href="/accounts">Clear</a></p>
      </form>
      <table id="accounts">
        <thead>
          <tr>
            ${link('name', 'Account')}
            ${link('environment', 'Environment')}
            ${link('criticality', 'Criticality')}
            ${link('costCenter', 'Cost Center')}
            ${link('group', 'Account Group')}
            ${link('channel', 'Channel')}
            ${link('team', 'Team')}
            ${link('tagCompliance', 'Tag Compliance')}
          </tr>
        </thead>
        <tbody>
          ${shown.map(
            (a) => html`<tr>
              <td><a href="/accounts/${a.id}">${a.name}</a><div class="id">${a.id}</div></td>
              <td>${a.environment}</td>
              <td>${a.criticality}</td>
              <td>${a.costCenter}</td>
              <td>${a.group}</td>
              <td>${a.channel}</td>
              <td>${a.team}</td>
              <td>${a.tagCompliance} %${bar(a.tagCompliance, 100, a.tagCompliance < 100)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${shown.length === 0 ? html`<p class="card" id="no-accounts">No account matches these filters. <a href="/accounts">Clear them</a> to see all ${all.length}.</p>` : ''}
    </div>`
}

/** One recent rollout of a target, as listed on its page. */
export interface TargetRollout {
  readonly id: string
  readonly state: string
  readonly revision: string
  readonly createdAt: string
  readonly targetState: string
}

/** What was applied to a target and what its branch would change now. */
export interface TargetState {
  readonly applied: { revision: string; at: Date } | null
  readonly pending: { revision: string; verdict: string; changes: readonly Change[] }
  /** Addresses changed outside Flotilla at the last drift check, or null before the first. */
  readonly drift: readonly string[] | null
  /** The last drift revert of the target (`--revert-drift`), if any. */
  readonly revert: DriftRevert | null
}

/** One drift revert: what it did, with its rollout linked. */
function revertLine(revert: DriftRevert): Html {
  const when = revert.at.slice(0, 16).replace('T', ' ')
  return revert.rollout
    ? html`${when} UTC: <a href="/rollouts/${revert.rollout}">${revert.rollout}</a> brings back <code>${revert.revision.slice(0, 12)}</code> (${revert.detail})`
    : html`${when} UTC: ${pill(revert.status)} ${revert.detail}`
}

/** The applied revision and the pending changes of a target. */
function targetState(state: TargetState, targetId: string): Html {
  const changes = state.pending.changes.filter((c) => c.action !== 'no-op')
  return html`<div class="card"><b>Applied</b> ${
    state.applied
      ? html`<code>${state.applied.revision.slice(0, 12)}</code> at ${state.applied.at.toISOString().slice(0, 16).replace('T', ' ')} UTC`
      : 'nothing yet'
  }<br /><b>Drift</b> ${
    state.drift === null
      ? 'not checked yet'
      : state.drift.length === 0
        ? 'none'
        : html`<span class="destructive">${state.drift.length} changed outside Flotilla</span>: ${state.drift.slice(0, 5).map((a) => html`<code>${a.slice(targetId.length + 1)}</code> `)}`
  }${state.revert ? html`<br /><b>Drift revert</b> ${revertLine(state.revert)}` : ''}<br /><b>About to change</b> (<code>${state.pending.revision.slice(0, 12)}</code>): ${
    changes.length === 0
      ? 'nothing'
      : html`${changes.length} ${changes.length === 1 ? 'change' : 'changes'}, ${pill(state.pending.verdict)}
        <ul>${changes.slice(0, 20).map((c) => html`<li class="${c.action === 'delete' || c.action === 'replace' ? 'destructive' : ''}">${c.action} <code>${c.address.slice(targetId.length + 1)}</code></li>`)}</ul>`
  }</div>`
}

/** The page of one account. */
export function accountPage(
  account: AccountRow,
  stacks: readonly AccountStack[],
  health: Health | undefined,
  rollouts: readonly TargetRollout[],
  state: TargetState,
): Html {
  return html`
    <h1>${account.name}</h1>
    <div class="sub">${account.id} · team ${account.team} · ${account.environment} · ${account.criticality} · cost center ${account.costCenter} · group ${account.group} · channel ${account.channel} · stage ${account.stage ?? 'none'} · ${account.lifecycle}</div>
    ${account.lifecycle === 'requested' ? html`<div class="banner info" role="status" id="not-deployed">Requested: being set up, not deployed yet. Its stacks below are what its first rollout creates; nothing of it is down.</div>` : ''}
    <div class="cards">
      <div class="card"><b>Tag compliance</b> ${account.tagCompliance} %${bar(account.tagCompliance, 100, account.tagCompliance < 100)}${
        account.missingTags.length > 0
          ? html`<div class="muted">missing: ${account.missingTags.join(', ')}</div>`
          : ''
      }</div>
      <div class="card"><b>Regions</b> ${account.regions.join(', ')}<br /><b>Clusters</b> ${
        account.clusters.length > 0
          ? account.clusters.map((c) => html`<a href="/clusters/${encodeURIComponent(c)}">${c}</a> `)
          : 'none'
      }</div>
      ${targetState(state, account.id)}
    </div>
    <h2>Stacks <span class="count">(${stacks.length})</span></h2>
    ${stackTree(stacks, health, state.drift)}
    ${recentRollouts(rollouts)}`
}

/** A stack of an account as its page lists it: its resources by logical id and type. */
export interface AccountStack {
  readonly address: string
  readonly stackName: string
  readonly region: string
  readonly resources: readonly { readonly logicalId: string; readonly type: string }[]
}

/**
 * An account's stacks as a tree of what they run: each stack (region, name) with its resources,
 * each resource with what the provider's health says of it (a zone that answers, a resource not
 * settled and why) and whether it drifted; a stack with trouble is open, the others closed.
 */
function stackTree(
  stacks: readonly AccountStack[],
  health: Health | undefined,
  drift: readonly string[] | null,
): Html {
  const drifted = new Set(drift ?? [])
  const checkOf = (address: string) => health?.checks.find((c) => c.name === address)
  const stackCheck = (stack: AccountStack) =>
    health?.checks.filter(
      (c) => !c.healthy && (c.name === stack.address || c.name.startsWith(`${stack.address}/`)),
    ) ?? []
  return html`<div id="stacks">${stacks.map((stack) => {
    const failing = stackCheck(stack)
    const driftedHere = stack.resources.filter((r) => drifted.has(`${stack.address}/${r.logicalId}`)).length
    return html`<details class="stack card spaced" data-stack="${stack.address}"${failing.length + driftedHere > 0 ? html` open` : ''}>
      <summary><b>${stack.stackName}</b> · ${stack.region} · ${stack.resources.length} ${stack.resources.length === 1 ? 'resource' : 'resources'}${failing.length > 0 ? html` · <span class="destructive">${failing.length} failing</span>` : ''}${driftedHere > 0 ? html` · <span class="destructive">${driftedHere} drifted</span>` : ''} <span class="id">${stack.address}</span></summary>
      ${failing
        .filter((c) => c.name === stack.address)
        .map((c) => html`<div class="error">${c.detail}</div>`)}
      <table><thead><tr><th>Resource</th><th>Type</th><th>Health</th><th>Drift</th></tr></thead><tbody>
      ${stack.resources.map((r) => {
        const address = `${stack.address}/${r.logicalId}`
        const check = checkOf(address)
        return html`<tr data-resource="${address}"><td>${r.logicalId}</td><td><code>${r.type}</code></td><td>${
          check
            ? html`<span class="pill ${check.healthy ? 'passed' : 'failed'}">${check.healthy ? 'healthy' : 'failing'}</span> <span class="muted">${check.detail}</span>`
            : health
              ? html`<span class="muted">no check of its own</span>`
              : html`<span class="pill unknown">unknown</span>`
        }</td><td>${drifted.has(address) ? html`<span class="destructive">changed outside Flotilla</span>` : drift === null ? html`<span class="muted">not checked yet</span>` : 'in sync'}</td></tr>`
      })}
      </tbody></table>
    </details>`
  })}</div>`
}

/** The page of one cluster. */
export function clusterPage(
  cluster: ClusterRow,
  manifests: readonly string[],
  health: Health | undefined,
  /** The control plane and node pools as the provider observes them (absent when it does not manage nodes). */
  nodes: ClusterNodes | undefined,
  rollouts: readonly TargetRollout[],
  state: TargetState,
): Html {
  return html`
    <h1>${cluster.alias}</h1>
    <div class="sub">${cluster.id} · account <a href="/accounts/${cluster.account}">${cluster.accountName}</a> · ${cluster.environment} · channel ${cluster.channel} · Kubernetes ${cluster.kubernetesVersion} · ${cluster.lifecycle}</div>
    <div class="cards">
      <div class="card"><b>Health</b> ${
        health
          ? health.healthy
            ? pill('passed')
            : html`${pill('failed')} ${health.checks
                .filter((c) => !c.healthy)
                .slice(0, 5)
                .map((c) => html`<div>${c.name}: ${c.detail}</div>`)}`
          : 'unknown'
      }</div>
      <div class="card" id="node-pools"><b>Node pools</b> ${nodePools(cluster, nodes)}</div>
      ${targetState(state, cluster.id)}
    </div>
    <h2>Objects <span class="count">(${manifests.length})</span></h2>
    ${objectTree(cluster.id, manifests, health, state.drift)}
    ${recentRollouts(rollouts)}`
}

/**
 * The node pools: as declared, and — when the provider manages nodes — their nodes by kubelet
 * version (those not at the cluster's version are what a rotation replaces), whether the pool is
 * stateful, and its rotations this month (budgeted for stateful pools).
 */
function nodePools(cluster: ClusterRow, nodes: ClusterNodes | undefined): Html {
  const observed = new Map((nodes?.pools ?? []).map((p) => [p.name, p]))
  return html`${nodes && nodes.kubernetesVersion !== cluster.kubernetesVersion ? html`<div class="destructive">control plane at ${nodes.kubernetesVersion}, ${cluster.kubernetesVersion} wanted</div>` : ''}${cluster.nodePools.map(
    (p) => {
      const seen = observed.get(p.name)
      const versions = new Map<string, number>()
      for (const node of seen?.nodes ?? []) versions.set(node.version, (versions.get(node.version) ?? 0) + 1)
      const behind = (seen?.nodes ?? []).filter((n) => n.version !== cluster.kubernetesVersion).length
      return html`<div class="pool" data-pool="${p.name}">${p.name} (${p.profile}): ${p.instanceTypes.join(', ')}, ${p.min}–${p.max}${
        seen?.nodes
          ? html`<div class="muted">${seen.nodes.length} ${seen.nodes.length === 1 ? 'node' : 'nodes'}: ${[
              ...versions,
            ]
              .sort(([a], [b]) => (a < b ? 1 : -1))
              .map(([v, n]) => `${n} at ${v}`)
              .join(
                ', ',
              )}${seen.stateful ? ' · stateful' : ''}${seen.rotationsThisMonth ? ` · ${seen.rotationsThisMonth} rotated this month` : ''}${behind > 0 ? html` · <span class="destructive">${behind} to rotate to ${cluster.kubernetesVersion}</span>` : ''}</div>`
          : ''
      }</div>`
    },
  )}`
}

/** An object's status on its cluster page. */
type ObjectStatus = 'ready' | 'not ready' | 'not deployed' | 'unknown'

/**
 * What the provider's health says of one object: its health names each object that is not
 * ready by its address (with why); every other object is ready once something is applied.
 */
function objectStatus(address: string, health: Health | undefined): { status: ObjectStatus; detail: string } {
  if (!health) return { status: 'unknown', detail: 'the provider did not answer' }
  const check = health.checks.find((c) => c.name === address)
  if (check && !check.healthy) return { status: 'not ready', detail: check.detail }
  if (health.checks.some((c) => c.name === 'objects' && c.detail === 'nothing applied yet'))
    return { status: 'not deployed', detail: 'nothing is applied to the cluster yet' }
  return { status: 'ready', detail: '' }
}

/**
 * A cluster's objects as a tree of what it runs, as Argo CD's resource tree: by namespace, then
 * kind, each object with its status and whether it drifted; a namespace with an object not ready
 * or drifted is open, the others closed.
 */
function objectTree(
  clusterId: string,
  addresses: readonly string[],
  health: Health | undefined,
  drift: readonly string[] | null,
): Html {
  const drifted = new Set(drift ?? [])
  const statusOf = new Map(addresses.map((a) => [a, objectStatus(a, health)]))
  const byNamespace = new Map<string, Map<string, string[]>>()
  for (const address of addresses) {
    // `<clusterId>/<namespace|_>/<Kind>/<name>`; the cluster id has no slash.
    const [namespace = '_', kind = '?', ...name] = address.slice(clusterId.length + 1).split('/')
    const kinds = byNamespace.get(namespace) ?? new Map<string, string[]>()
    kinds.set(kind, [...(kinds.get(kind) ?? []), name.join('/')])
    byNamespace.set(namespace, kinds)
  }
  const pillOf: Record<ObjectStatus, string> = {
    ready: 'passed',
    'not ready': 'failed',
    'not deployed': 'pending',
    unknown: 'unknown',
  }
  return html`<div id="objects">${[...byNamespace]
    .sort(([a], [b]) => (a === '_' ? -1 : b === '_' ? 1 : a < b ? -1 : 1))
    .map(([namespace, kinds]) => {
      const all = [...kinds].flatMap(([kind, names]) =>
        names.map((n) => `${clusterId}/${namespace}/${kind}/${n}`),
      )
      const notReady = all.filter((a) => statusOf.get(a)?.status === 'not ready').length
      const driftedHere = all.filter((a) => drifted.has(a)).length
      return html`<details class="namespace card spaced" data-namespace="${namespace}"${notReady + driftedHere > 0 ? html` open` : ''}>
        <summary><b>${namespace === '_' ? 'cluster-scoped' : `namespace ${namespace}`}</b> · ${all.length} ${all.length === 1 ? 'object' : 'objects'}${notReady > 0 ? html` · <span class="destructive">${notReady} not ready</span>` : ''}${driftedHere > 0 ? html` · <span class="destructive">${driftedHere} drifted</span>` : ''}</summary>
        <table><thead><tr><th>Kind</th><th>Name</th><th>Status</th><th>Drift</th></tr></thead><tbody>
        ${[...kinds]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .flatMap(([kind, names]) =>
            names.sort().map((name) => {
              const address = `${clusterId}/${namespace}/${kind}/${name}`
              const { status, detail } = statusOf.get(address) ?? objectStatus(address, health)
              return html`<tr data-object="${address}"><td>${kind}</td><td>${name}</td><td><span class="pill ${pillOf[status]}">${status}</span>${detail && status !== 'not deployed' ? html` <span class="muted">${detail}</span>` : ''}</td><td>${drifted.has(address) ? html`<span class="destructive">changed outside Flotilla</span>` : drift === null ? html`<span class="muted">not checked yet</span>` : 'in sync'}</td></tr>`
            }),
          )}
        </tbody></table>
      </details>`
    })}</div>`
}

/** The clusters page: filters and a search box, a table sortable by its columns; every state is a URL. */
export function clustersPage(
  all: readonly ClusterRow[],
  rows: readonly ClusterRow[],
  filters: ClusterFilters,
  sort: ClusterSort,
  desc: boolean,
  health: (id: string) => CachedHealth,
): Html {
  const select = (name: 'environment' | 'channel' | 'team', label: string) =>
    filterSelect(`c-${name}`, name, label, [...new Set(all.map((c) => c[name]))].sort(), filters[name])
  const link = (column: ClusterSort, label: string) =>
    sortHeader('/clusters', filters, { column: sort, desc }, column, label)
  return html`
    <h1>Clusters <span class="count">(${rows.length} of ${all.length})</span></h1>
    <div class="layout">
      <form class="filters" method="get" action="/clusters" role="search" aria-label="Filter clusters">
        <label for="c-q">Search</label>
        <input id="c-q" type="search" name="q" value="${filters.q ?? ''}" placeholder="alias, id, account, team" />
        ${select('environment', 'Environment')}
        ${select('channel', 'Channel')}
        ${select('team', 'Team')}
        <input type="hidden" name="sort" value="${sort}" />
        ${desc ? html`<input type="hidden" name="order" value="desc" />` : ''}
        <p><button class="primary" type="submit">Apply</button> <a href="/clusters">Clear</a></p>
      </form>
      <div>
      <table id="clusters">
        <thead><tr>${link('alias', 'Cluster')}${link('accountName', 'Account')}${link('environment', 'Environment')}${link('channel', 'Channel')}${link('kubernetesVersion', 'Kubernetes')}<th>Node pools</th>${link('lifecycle', 'Lifecycle')}<th>Health</th></tr></thead>
        <tbody>
          ${rows.map(
            (c) => html`<tr>
              <td><a href="/clusters/${encodeURIComponent(c.id)}">${c.alias}</a><div class="id">${c.id}</div></td>
              <td><a href="/accounts/${c.account}">${c.accountName}</a></td>
              <td>${c.environment}</td><td>${c.channel}</td><td>${c.kubernetesVersion}</td>
              <td>${c.nodePools.map((p) => `${p.name} ${p.min}–${p.max}`).join(', ')}</td>
              <td>${c.lifecycle}</td>
              <td>${c.lifecycle === 'requested' ? html`<span class="pill" title="requested: nothing is deployed to it yet">not deployed yet</span>` : healthCell(health(c.id))}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${rows.length === 0 ? html`<p class="card" id="no-clusters">No cluster matches these filters. <a href="/clusters">Clear them</a> to see all ${all.length}.</p>` : ''}
      </div>
    </div>`
}

/** A cluster's cached health: a pill, why when it is not healthy, and how old it is. */
function healthCell(h: CachedHealth): Html {
  const label = h.state === 'healthy' ? 'passed' : h.state === 'unhealthy' ? 'failed' : 'unknown'
  return html`<span class="pill ${label}" title="${h.detail}${h.at ? ` (as of ${h.at.toISOString().slice(11, 19)} UTC)` : ''}">${h.state}</span>${
    h.state === 'unhealthy' ? html`<div class="muted">${h.detail}</div>` : ''
  }`
}

function recentRollouts(rollouts: readonly TargetRollout[]): Html {
  return html`<h2>Recent rollouts</h2>
    ${
      rollouts.length === 0
        ? html`<p class="muted">None yet.</p>`
        : html`<table><thead><tr><th>Rollout</th><th>State</th><th>Here</th><th>Revision</th><th>Started</th></tr></thead><tbody>
          ${rollouts.map((r) => html`<tr><td><a href="/rollouts/${r.id}">${r.id}</a></td><td>${pill(r.state)}</td><td>${pill(r.targetState)}</td><td><code>${r.revision.slice(0, 12)}</code></td><td>${r.createdAt.slice(0, 16).replace('T', ' ')}</td></tr>`)}
        </tbody></table>`
    }`
}
