/** The states of a rollout, of its targets, and the status document (`plan.md`, Rollout status). */
import type { Approval } from '../core/policy/approvals.ts'
import type { PolicyTime } from '../core/policy/policy-time.ts'

/**
 * How a rollout was asked for; kept with it, so that a queued rollout plans again the same way.
 * Never the time policies see: that is the server's clock whenever it plans (rows of older
 * versions may still hold a `policyNow`; it is ignored).
 */
export interface RolloutRequest {
  /** The ref the commit was named by (`HEAD`, a branch), for messages. */
  readonly ref: string
  readonly approvals: readonly Approval[]
  /** Only these targets (a drift revert); the whole fleet when absent. */
  readonly targets?: readonly string[]
  /**
   * The trusted revision whose rules judge the rollout too (policies, protect, limits, and the
   * stage requirements of its `rollout.yaml`): fixed at the start, so a queued rollout that plans
   * again is judged as it was when started.
   */
  readonly trusted?: { readonly commit: string; readonly label: string }
  /**
   * Why the revision was not trusted when the rollout started (not on the trusted branch): an
   * admin rolled it out anyway. Absent for a reviewed and merged revision.
   */
  readonly untrusted?: string
}

/** `queued` … `aborted`, as `plan.md` lists them. */
export const ROLLOUT_STATES = [
  'queued',
  'running',
  'waiting-approval',
  'paused',
  'halted',
  'rolled-back',
  'succeeded',
  'aborted',
] as const
export type RolloutState = (typeof ROLLOUT_STATES)[number]

/** States a rollout does not leave. */
export const FINAL_STATES: ReadonlySet<RolloutState> = new Set([
  'halted',
  'rolled-back',
  'succeeded',
  'aborted',
])

/** `pending` … `skipped`, as `plan.md` lists them. */
export type TargetState =
  | 'pending'
  | 'applying'
  | 'verifying'
  | 'succeeded'
  | 'failed'
  | 'rolled-back'
  | 'skipped'

/**
 * What a rollout does next: `queue` — wait until no other rollout holds its targets (it has not
 * started); then per stage `approval`, `waves`, `bake`, `gates`; `rollback` — the stage failed and
 * its targets are being rolled back.
 */
export type StagePhase = 'queue' | 'approval' | 'waves' | 'bake' | 'gates' | 'rollback'

/** A gate's result, as stored and shown. */
export interface GateOutcome {
  readonly name: string
  readonly state: 'passed' | 'failed'
  readonly detail: string
  /** The gate's type (`health`, `dns`, `command`, `http`, `prometheus`; `unknown` for an undefined name). */
  readonly type?: string
  /** How long it took, in milliseconds. */
  readonly durationMs?: number
  /** A command's output (its last 64 KiB), or the start of an unexpected HTTP answer. */
  readonly output?: string
}

/** `flotilla rollout status --format json` (and the API). */
export interface RolloutStatus {
  readonly id: string
  readonly revision: string
  readonly state: RolloutState
  readonly createdBy: string
  readonly createdAt: string
  /**
   * The time the policies of its plan saw and who set it (the plan of leaving the queue, for a
   * rollout that queued); null for a rollout started before the time was kept.
   */
  readonly policyTime: PolicyTime | null
  readonly stages: readonly {
    readonly name: string
    /** `aborted`: the stage the rollout was aborted in, begun but not done (every target done: `succeeded`). */
    readonly state: 'pending' | 'waiting-approval' | 'running' | 'succeeded' | 'failed' | 'aborted'
    readonly approval: 'required' | 'none'
    readonly approvedBy: string | null
    readonly waves: readonly {
      readonly index: number
      readonly state: 'pending' | 'running' | 'succeeded' | 'failed'
      readonly targets: readonly {
        readonly id: string
        readonly state: TargetState
        readonly attempts: number
        readonly reason: string | null
      }[]
    }[]
    readonly gates: readonly GateOutcome[]
    /**
     * The stage's bake: how long (`ms`, 0 for none), and — once it began — when it started, until
     * when it lasts, and when it finished (null while it bakes).
     */
    readonly bake: {
      readonly ms: number
      readonly startedAt: string | null
      readonly until: string | null
      readonly finishedAt: string | null
    }
  }[]
  readonly haltReason: string | null
  /** Why the revision was not trusted when an admin started it (see `RolloutRequest.untrusted`); null when it was. */
  readonly untrusted: string | null
}
