/**
 * Plans against the observed fleet, computed once per key and kept in the store: the portal's
 * plan page and `GET /api/plans` would otherwise observe all 550 targets and plan them on every
 * load. The key is what a plan depends on:
 * - the head commit, and the tip of the trusted branch whose rules judge it too;
 * - the observed state's version: each provider's change cursor (`changedSince`; a provider
 *   without one gets a time slice of {@link SLOW_POLL_MS}, so its plans are at most that old)
 *   and the applied records' version — an apply, a rollout step, a change in the simulated fleet
 *   or drift all make a new version, a new commit a new head;
 * - the approvals the plan is judged with;
 * - the time policies see, when it matters: the minute of the server's clock when a policy of
 *   the head reads `now`, the exact time when it was chosen (a what-if, `--now`), nothing
 *   otherwise (the plan then says when it was computed).
 *
 * While a plan is computed the portal shows how far it is instead of waiting ({@link peek}); one
 * computation per key runs at a time, however many ask.
 */

import { createHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import { appliedVersion } from '../app/plan.ts'
import { SLOW_POLL_MS } from '../controller/changed-targets.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import type { Plan } from '../core/model/plan.ts'
import type { TrustedFleet } from '../core/plan/judgement.ts'
import type { PolicyTime } from '../core/policy/policy-time.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import { favouringMemory } from '../lib/memory-mode.ts'
import type { Database } from '../store/tables.ts'
import { cachedPlan, keepPlan } from './plan-cache-store.ts'

/** What the cache needs: the store, the providers, the revisions and the planner. */
export interface PlanCacheDeps {
  readonly db: Kysely<Database>
  readonly registry: ProviderRegistry
  readonly loadRevision: (commit: string) => Promise<Fleet>
  /** The trusted revision whose rules judge every plan too, with its commit; undefined when none is found. */
  readonly trusted: () => Promise<(TrustedFleet & { readonly commit: string }) | undefined>
  /** Computes the plan of `commit` against the observed fleet, judged by `trusted` too. */
  readonly compute: (
    commit: string,
    approvals: readonly string[],
    time: PolicyTime,
    trusted: TrustedFleet | undefined,
  ) => Promise<Plan>
}

/** A plan being computed, as the portal shows it. */
export interface PlanInProgress {
  readonly targets: number
  readonly since: Date
}

/** Plans in memory besides the store: the one or two people look at, without parsing them again. */
const IN_MEMORY = 2

/** See the module comment. */
export class PlanCache {
  private readonly deps: PlanCacheDeps
  private readonly memory = new Map<string, Plan>()
  private readonly running = new Map<
    string,
    PlanInProgress & { readonly plan: Promise<Plan>; failure?: unknown; done?: boolean }
  >()
  private computed = 0

  constructor(deps: PlanCacheDeps) {
    this.deps = deps
  }

  /** How many plans this cache computed (a reused plan is not computed again). */
  get computations(): number {
    return this.computed
  }

  /** The plan of `commit` with `approvals` at `time`: the cached one, or computed now (and kept). */
  async plan(commit: string, approvals: readonly string[], time: PolicyTime): Promise<Plan> {
    const state = await this.lookup(commit, approvals, time)
    if (state.plan) return state.plan
    if (state.done && state.failure !== undefined) this.running.delete(state.key) // the next asks again
    return state.running.plan
  }

  /**
   * The plan when it is ready; otherwise its computation is started (or found under way) and
   * what it is computing is returned at once. A computation that failed is reported to the next
   * caller (and then forgotten, so that the one after tries again).
   */
  async peek(
    commit: string,
    approvals: readonly string[],
    time: PolicyTime,
  ): Promise<{ plan: Plan } | { computing: PlanInProgress }> {
    const state = await this.lookup(commit, approvals, time)
    if (state.plan) return { plan: state.plan }
    if (state.done) {
      this.running.delete(state.key)
      if (state.failure !== undefined) throw state.failure
      return { plan: await state.running.plan }
    }
    return { computing: { targets: state.running.targets, since: state.running.since } }
  }

  private async lookup(commit: string, approvals: readonly string[], time: PolicyTime) {
    const fleet = await this.deps.loadRevision(commit)
    const trusted = await this.deps.trusted()
    const observed = await this.observedVersion(fleet)
    const key = planKey(commit, trusted?.commit ?? 'none', observed, approvals, timeKey(fleet, time))
    const inMemory = this.memory.get(key)
    if (inMemory) {
      this.memory.delete(key)
      this.memory.set(key, inMemory) // the newest last
      return { plan: inMemory }
    }
    let running = this.running.get(key)
    if (!running) {
      const stored = await cachedPlan(this.deps.db, key)
      if (stored) return { plan: this.remember(key, stored) }
      running = this.start(key, commit, observed, fleet, approvals, time, trusted)
    }
    return { key, running, done: running.done === true, failure: running.failure }
  }

  private start(
    key: string,
    commit: string,
    observed: string,
    fleet: Fleet,
    approvals: readonly string[],
    time: PolicyTime,
    trusted: TrustedFleet | undefined,
  ) {
    const started = performance.now()
    this.computed++
    // Planning the whole fleet is a burst of short-lived objects: computed with the process
    // favouring memory (`lib/memory-mode.ts`), so the server's heap does not stay grown after it.
    const plan = favouringMemory(async () => {
      const computed = await this.deps.compute(commit, approvals, time, trusted)
      await keepPlan(this.deps.db, {
        key,
        head: commit,
        observed,
        plan: computed,
        computedMs: performance.now() - started,
      })
      return this.remember(key, computed)
    })
    const entry: PlanInProgress & { plan: Promise<Plan>; failure?: unknown; done?: boolean } = {
      targets: fleet.targets.length,
      since: new Date(),
      plan,
    }
    this.running.set(key, entry)
    plan.then(
      () => {
        entry.done = true
        this.running.delete(key) // kept in memory and in the store now
      },
      (error: unknown) => {
        entry.done = true
        entry.failure = error
      },
    )
    return entry
  }

  private remember(key: string, plan: Plan): Plan {
    this.memory.delete(key)
    this.memory.set(key, plan)
    for (const old of this.memory.keys()) {
      if (this.memory.size <= IN_MEMORY) break
      this.memory.delete(old)
    }
    return plan
  }

  /** The observed state's version for the targets of `fleet` (see the module comment). */
  private async observedVersion(fleet: Fleet): Promise<string> {
    const parts: string[] = []
    for (const [provider, group] of this.deps.registry.partition(fleet.targets)) {
      const cursor = provider.changedSince
        ? (await provider.changedSince(group, undefined)).cursor
        : `polled ${Math.floor(Date.now() / SLOW_POLL_MS)}`
      parts.push(`${provider.name}=${cursor}`)
    }
    parts.push(`applied=${await appliedVersion(this.deps.db)}`)
    return parts.join(' ')
  }
}

/** Whether a policy of `fleet` reads `now` (then the time it is judged at is part of the key). */
function readsNow(fleet: Fleet): boolean {
  return fleet.policies.some((rule) => /\bnow\b/.test(rule.when ?? ''))
}

/** The time part of a key: see the module comment. */
function timeKey(fleet: Fleet, time: PolicyTime): string {
  if (time.source !== 'clock') return `${time.source} ${time.at}`
  return readsNow(fleet) ? `clock ${time.at.slice(0, 16)}` : ''
}

function planKey(
  commit: string,
  judge: string,
  observed: string,
  approvals: readonly string[],
  time: string,
): string {
  return createHash('sha256')
    .update(JSON.stringify([commit, judge, observed, [...new Set(approvals)].sort(), time]))
    .digest('base64url')
}
