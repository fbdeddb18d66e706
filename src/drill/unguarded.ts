/**
 * `flotilla drill --unsafe`: what the same mistake does when nothing stands in its way — the way
 * home-grown automation applied it in 2022. Every target the mistake changes is changed at once:
 * no validation, no policy, no stages, no gates, every destruction taken as approved. Only the
 * providers' own snapshots of destroyed zones remain, and the drill restores from them (ops
 * tooling first, as the people restoring DNS by hand did), timing how long it takes until every
 * service answers again. Only ever on a drill's own simulated fleet.
 */

import type { SimServiceState } from '../app/simulator.ts'
import type { DesiredState } from '../core/model/desired-state.ts'
import type { Target } from '../core/model/fleet-model.ts'
import type { Plan } from '../core/model/plan.ts'
import { fleetState, planFleet, strictestSettings } from '../core/plan/plan-fleet.ts'
import { RuleRegistry } from '../core/policy/rules.ts'
import type { SnapshotInfo } from '../core/provider/port.ts'
import { waitUntilSettled } from '../operations/settle.ts'
import type { Outage, Restore, ServiceCount } from './drill-report.ts'
import type { ScratchFleet } from './scratch-fleet.ts'

/** What the unguarded apply did. */
export interface UnguardedApply {
  readonly plan: Plan
  readonly snapshots: readonly SnapshotInfo[]
}

/** Applies `desired` to its targets at once, with every safeguard off (see the module comment). */
export async function applyUnguarded(
  scratch: ScratchFleet,
  desired: ReadonlyMap<string, DesiredState>,
  revision: string,
): Promise<UnguardedApply> {
  const { baseFleet } = scratch
  const { registry } = scratch.app
  const include = (target: Target) => desired.has(target.id)
  const observed = await scratch.app.observe(baseFleet, include)
  const outcome = planFleet({
    base: observed.state,
    head: { ...fleetState(baseFleet), desired },
    ...strictestSettings(baseFleet.settings, baseFleet.settings),
    includeTarget: include,
    rules: new RuleRegistry(), // safeguards off: no rule looks at the plan
  })
  if (!outcome.ok) throw new Error(`the unguarded change cannot be planned: ${outcome.errors[0]?.message}`)
  const { plan } = outcome
  const everything = new Set(plan.targets.flatMap((t) => t.changes.map((c) => c.address)))
  const byId = new Map(baseFleet.targets.map((t) => [t.id, t]))
  const queue = [...plan.targets]
  const snapshots: SnapshotInfo[] = []
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const target = byId.get(next.id)!
      const provider = registry.forTarget(target)
      const report = await provider.apply({
        target,
        desired: desired.get(target.id)!,
        plan: next,
        approvedDestruction: everything,
        revision,
      })
      snapshots.push(...report.snapshots)
      await waitUntilSettled(provider, target, { timeoutMs: 60_000, pollMs: 20 })
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return { plan, snapshots }
}

/** The services that stopped answering between `before` and `after`, counted as the report shows them. */
export function outageOf(
  applied: UnguardedApply,
  before: readonly SimServiceState[],
  after: readonly SimServiceState[],
): Outage {
  const count = (group: (s: SimServiceState) => boolean): ServiceCount => {
    const deployed = after.filter((s) => s.deployed && group(s))
    return { down: deployed.filter((s) => !s.healthy).length, total: deployed.length }
  }
  const wasUp = new Set(before.filter((s) => s.healthy).map(serviceKey))
  const changes = applied.plan.targets.flatMap((t) => t.changes)
  return {
    targetsChanged: applied.plan.targets.length,
    deleted: changes.filter((c) => c.action === 'delete').length,
    snapshots: applied.snapshots.length,
    production: count((s) => s.environment === 'production' && s.group !== 'ops'),
    ops: count((s) => s.group === 'ops'),
    examples: after
      .filter((s) => !s.healthy && wasUp.has(serviceKey(s)))
      .sort((a, b) => Number(b.group === 'ops') - Number(a.group === 'ops'))
      .slice(0, 3)
      .map((s) => `${s.accountName}/${s.name}: ${s.detail}`),
  }
}

/**
 * Brings the fleet back: the snapshots restored, ops tooling's first; or, when nothing was
 * destroyed, the last good revision applied again to what the mistake changed. Timed from the
 * first call until every service that answered before answers again.
 */
export async function restoreFleet(
  scratch: ScratchFleet,
  applied: UnguardedApply,
  before: readonly SimServiceState[],
): Promise<Restore> {
  const started = performance.now()
  const wasUp = new Set(before.filter((s) => s.healthy).map(serviceKey))
  const downOf = async (group?: string) =>
    (await scratch.simulator.serviceStates())
      .filter((s) => wasUp.has(serviceKey(s)) && !s.healthy && (group === undefined || s.group === group))
      .map((s) => `${s.accountName}/${s.name}`)
  let opsSeconds: number | null = null
  const how = applied.snapshots.length > 0 ? 'snapshots' : 'revert'
  if (how === 'snapshots') {
    const groupOf = new Map(scratch.baseFleet.targets.map((t) => [t.id, t.group]))
    const ops = applied.snapshots.filter((s) => groupOf.get(s.target) === 'ops')
    const rest = applied.snapshots.filter((s) => groupOf.get(s.target) !== 'ops')
    for (const batch of [ops, rest]) {
      for (const snapshot of batch) await scratch.app.registry.named(snapshot.provider)!.restore(snapshot.id)
      if (opsSeconds === null && (await downOf('ops')).length === 0)
        opsSeconds = (performance.now() - started) / 1000
    }
  } else {
    const changed = new Set(applied.plan.targets.map((t) => t.id))
    const lastGood = new Map([...scratch.baseFleet.desired].filter(([id]) => changed.has(id)))
    await applyUnguarded(scratch, lastGood, scratch.base)
  }
  const stillDown = await downOf()
  const seconds = (performance.now() - started) / 1000
  if (opsSeconds === null && (await downOf('ops')).length === 0) opsSeconds = seconds
  return { how, seconds, opsSeconds, recovered: stillDown.length === 0, stillDown: stillDown.slice(0, 10) }
}

const serviceKey = (s: SimServiceState) => `${s.account}/${s.name}`
