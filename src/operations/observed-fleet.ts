/**
 * The observed side of a plan: what the providers report for every target of the head revision,
 * shaped like a rendered revision so the same differ and rules apply, with drift against what
 * Flotilla last applied.
 */
import type { Kysely } from 'kysely'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import { fleetState, type PlanOutcome, planFleet, strictestSettings } from '../core/plan/plan-fleet.ts'
import type { Approval } from '../core/policy/approvals.ts'
import { type DriftRecord, type FleetState, rolloutStages } from '../core/policy/plan-context.ts'
import { policyRegistry } from '../core/policy/policy-rules.ts'
import { differingAddresses, fingerprintsOf } from '../core/provider/fingerprint.ts'
import type { ObservedTarget } from '../core/provider/port.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import type { DesiredState } from '../core/render/desired-state.ts'
import type { Database } from '../store/tables.ts'
import { appliedStates } from './applied-states.ts'

/** The observed fleet, and what the providers said per target. */
export interface ObservedFleet {
  readonly state: FleetState
  readonly observed: ReadonlyMap<string, ObservedTarget>
}

/**
 * Observes the targets of `head` (those `include` keeps) through their providers. Targets are
 * the head's inventory entries: the observed world has no inventory of its own.
 */
export async function observeFleet(
  head: Fleet,
  registry: ProviderRegistry,
  db: Kysely<Database>,
  include: (target: Target) => boolean = () => true,
): Promise<ObservedFleet> {
  const targets = head.targets.filter(include)
  const observed = new Map<string, ObservedTarget>()
  for (const [provider, group] of registry.partition(targets)) {
    for (const [id, state] of await provider.observe(group)) observed.set(id, state)
  }
  const applied = await appliedStates(
    db,
    targets.map((t) => t.id),
  )
  const desired = new Map<string, DesiredState>()
  const drift = new Map<string, DriftRecord>()
  for (const target of targets) {
    const state = observed.get(target.id)
    if (!state) continue
    desired.set(target.id, {
      target,
      stacks: state.stacks,
      manifests: state.manifests,
      ...(state.nodes ? { nodes: state.nodes } : {}),
    })
    const record = applied.get(target.id)
    if (record) {
      const actual = fingerprintsOf(state)
      const fromApplied = differingAddresses(record.fingerprints, actual)
      const fromIntended = record.intended ? new Set(differingAddresses(record.intended, actual)) : undefined
      const addresses = fromIntended ? fromApplied.filter((a) => fromIntended.has(a)) : fromApplied
      if (addresses.length > 0) drift.set(target.id, { revision: record.revision, addresses })
    }
  }
  return {
    state: {
      side: { kind: 'observed' },
      targets: new Map(targets.map((t) => [t.id, t])),
      desired,
      // Stages are the repository's, not the fleet's: the observed side has the head's, so a plan
      // against the observed fleet shows no stage moves (the plan between revisions does).
      stageOf: head.stageOf,
      stages: rolloutStages(head.rollout),
      drift,
    },
    observed,
  }
}

/** What {@link planAgainstObserved} takes besides the fleet. */
export interface ObservedPlanOptions {
  readonly approvals?: readonly Approval[]
  /** What policies see as `now`. @default the current time */
  readonly now?: Date
  /** Only these targets are observed and planned. @default all */
  readonly include?: (target: Target) => boolean
}

/**
 * Plans `head` against the fleet as its providers observe it, with the built-in safety rules and
 * the head's policies: what a rollout, an apply, the controller and the portal's plan page start
 * from. Returns the observation too (a rollout keeps what each target had, for rollback).
 */
export async function planAgainstObserved(
  head: Fleet,
  registry: ProviderRegistry,
  db: Kysely<Database>,
  options: ObservedPlanOptions = {},
): Promise<{ observed: ObservedFleet; outcome: PlanOutcome }> {
  const observed = await observeFleet(head, registry, db, options.include)
  const outcome = planFleet({
    base: observed.state,
    head: fleetState(head),
    ...strictestSettings(head.settings, head.settings),
    rules: policyRegistry(head),
    approvals: options.approvals ?? [],
    ...(options.include ? { includeTarget: options.include } : {}),
    ...(options.now ? { now: options.now } : {}),
  })
  return { observed, outcome }
}
