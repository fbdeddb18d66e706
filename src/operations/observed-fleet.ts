/**
 * The observed side of a plan: what the providers report for every target of the head revision,
 * shaped like a rendered revision so the same differ and rules apply, with drift against what
 * Flotilla last applied.
 */
import type { Kysely } from 'kysely'
import type { DesiredState } from '../core/model/desired-state.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import { judge, type TrustedFleet } from '../core/plan/judgement.ts'
import { fleetState, type PlanOutcome, planFleet } from '../core/plan/plan-fleet.ts'
import type { Approval } from '../core/policy/approvals.ts'
import { type DriftRecord, type FleetState, rolloutStages } from '../core/policy/plan-context.ts'
import type { PolicyTimeSource } from '../core/policy/policy-time.ts'
import { differingAddresses, fingerprintsOf } from '../core/provider/fingerprint.ts'
import type { ObservedTarget } from '../core/provider/port.ts'
import type { ProviderRegistry } from '../core/provider/registry.ts'
import type { Database } from '../store/tables.ts'
import { appliedStates } from './applied-states.ts'

/** How many targets one `observe` call is given. */
const OBSERVE_SLICE = 25
/** How long comparing with what was applied runs before it lets the event loop run. */
const SLICE_MS = 10

function letLoopRun(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

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
  // In slices, the event loop let run between them: observing 550 targets at once holds a server's
  // loop for seconds (PGlite parses every row on the main thread), and requests would wait.
  for (const [provider, group] of registry.partition(targets)) {
    for (let i = 0; i < group.length; i += OBSERVE_SLICE) {
      for (const [id, state] of await provider.observe(group.slice(i, i + OBSERVE_SLICE)))
        observed.set(id, state)
      await letLoopRun()
    }
  }
  const applied = await appliedStates(
    db,
    targets.map((t) => t.id),
  )
  const desired = new Map<string, DesiredState>()
  const drift = new Map<string, DriftRecord>()
  let slice = performance.now()
  for (const target of targets) {
    if (performance.now() - slice > SLICE_MS) {
      await letLoopRun()
      slice = performance.now()
    }
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
  /** Who set `now`, recorded with the plan (see `PlanInput.nowSource`). */
  readonly nowSource?: PolicyTimeSource
  /** Only these targets are observed and planned. @default all */
  readonly include?: (target: Target) => boolean
  /** The trusted revision, whose rules judge the change too. @default the head's alone */
  readonly trusted?: TrustedFleet
}

/**
 * Plans `head` against the fleet as its providers observe it, judged by the rules of the trusted
 * revision and the head, strictest wins: what a rollout, an apply, the controller and the portal's plan page start
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
    ...judge(head, options.trusted ? { trusted: options.trusted } : {}),
    approvals: options.approvals ?? [],
    ...(options.include ? { includeTarget: options.include } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.nowSource ? { nowSource: options.nowSource } : {}),
  })
  return { observed, outcome }
}
