/**
 * `flotilla serve --revert-drift`: drift undone through the normal rollout path. For each revision
 * that drifted targets last received from Flotilla, a rollout of that revision limited to those
 * targets is started — planned against the observed fleet, checked by the policies and the
 * approvals recorded for the commit, staged and gated like any other. A revert the policies refuse
 * is reported and not tried again until the drift changes: a refused revert never loops.
 */
import { ConflictError, FlotillaError, isProviderError } from '../core/errors.ts'
import { parseApproval } from '../core/policy/approvals.ts'
import type { PolicyTime } from '../core/policy/policy-time.ts'
import { heldTargets } from '../operations/target-locks.ts'
import { type EngineDeps, startRollout } from '../rollout/engine.ts'
import { appendAuditEntry } from '../store/audit.ts'
import { CONTROLLER_ACTOR } from './follower.ts'
import type { Leadership } from './leadership.ts'

/** A drifted target, as the drift check reports it. */
export interface DriftedTarget {
  readonly id: string
  /** The revision Flotilla last applied to it. */
  readonly revision: string
  readonly addresses: readonly string[]
}

/** What became of one revert. */
export interface DriftRevert {
  readonly targets: readonly string[]
  readonly revision: string
  /**
   * `started`: a rollout (maybe queued) brings them back; `refused`: its plan is not allowed
   * (policies, approvals); `not-reverted`: nothing a rollout can bring back (see `detail`).
   */
  readonly status: 'started' | 'refused' | 'not-reverted'
  readonly rollout: string | null
  readonly detail: string
  /** The time the policies of the revert's plan saw (a started revert). */
  readonly policyTime?: PolicyTime
  readonly at: string
}

/** What {@link DriftReverter} needs. */
export interface DriftReverterOptions {
  readonly engine: EngineDeps
  /** The approvals recorded for a commit (as written). */
  readonly approvalsOf: (commit: string) => Promise<readonly string[]>
  /** With several servers: only the leader reverts. @default this server always leads */
  readonly leadership?: Leadership
  /**
   * Why a revision is not trusted (not on the trusted branch), or undefined when it is: the
   * controller brings back only reviewed and merged revisions. @default every revision is trusted
   */
  readonly untrusted?: (revision: string) => Promise<string | undefined>
}

const COMMIT = /^[0-9a-f]{40}$/

/** Starts the rollouts that undo drift (see the module comment). */
export class DriftReverter {
  private readonly options: DriftReverterOptions
  /** Per target, the drift last acted on: the same drift is not acted on twice. */
  private readonly handled = new Map<string, string>()

  constructor(options: DriftReverterOptions) {
    this.options = options
  }

  /** Acts on the drift of one check; returns what it did (nothing when another server leads). */
  async revert(drifted: readonly DriftedTarget[]): Promise<DriftRevert[]> {
    if (this.options.leadership && !this.options.leadership.isLeader()) return []
    const { db } = this.options.engine
    const signature = (t: DriftedTarget) => `${t.revision} ${t.addresses.join(' ')}`
    // Drift that went away (reverted, or changed back by hand) may be acted on again if it returns.
    const current = new Set(drifted.map((t) => t.id))
    for (const id of this.handled.keys()) if (!current.has(id)) this.handled.delete(id)
    // Held by a rollout, or by an apply or a restore under way (`operations/fleet-gate.ts`).
    const locked = await heldTargets(
      db,
      drifted.map((t) => t.id),
    )
    // A target a rollout holds is that rollout's to change: its drift is looked at after it.
    const fresh = drifted.filter((t) => !locked.has(t.id) && this.handled.get(t.id) !== signature(t))
    const byRevision = new Map<string, DriftedTarget[]>()
    for (const target of fresh)
      byRevision.set(target.revision, [...(byRevision.get(target.revision) ?? []), target])
    const outcomes: DriftRevert[] = []
    for (const [revision, targets] of byRevision) {
      const outcome = await this.revertOne(
        revision,
        targets.map((t) => t.id),
      )
      for (const target of targets) this.handled.set(target.id, signature(target))
      outcomes.push(outcome)
      await appendAuditEntry(db, {
        actor: CONTROLLER_ACTOR,
        action: 'drift-revert',
        subject: outcome.targets.join(', '),
        source: 'controller',
        detail: {
          revision,
          status: outcome.status,
          rollout: outcome.rollout,
          detail: outcome.detail,
          ...(outcome.policyTime ? { policyTime: { ...outcome.policyTime } } : {}),
        },
      })
    }
    return outcomes
  }

  private async revertOne(revision: string, targets: readonly string[]): Promise<DriftRevert> {
    const at = new Date().toISOString()
    const base = { targets, revision, at }
    if (!COMMIT.test(revision))
      return {
        ...base,
        status: 'not-reverted',
        rollout: null,
        detail: `last applied from "${revision}", not from a commit: apply the target again from its repository`,
      }
    const untrusted = await this.options.untrusted?.(revision)
    if (untrusted)
      return {
        ...base,
        status: 'refused',
        rollout: null,
        detail: `${untrusted}: the controller brings back only reviewed and merged revisions; roll out the trusted branch, or an admin rolls this revision out`,
      }
    try {
      const started = await startRollout(this.options.engine, {
        commit: revision,
        ref: `drift revert of ${revision.slice(0, 12)}`,
        approvals: (await this.options.approvalsOf(revision)).map(parseApproval),
        actor: CONTROLLER_ACTOR,
        targets,
      })
      return {
        ...base,
        status: 'started',
        rollout: started.id,
        ...(started.plan.policyTime ? { policyTime: started.plan.policyTime } : {}),
        detail:
          started.state === 'queued'
            ? `queued behind ${started.queuedBehind.join(', ')}`
            : 'rolling back the drift',
      }
    } catch (error) {
      if (error instanceof ConflictError)
        return { ...base, status: 'not-reverted', rollout: null, detail: error.message }
      // A provider's failure (planning observes the fleet) is not the controller refusing: thrown,
      // the drift stays unhandled and the next check tries again.
      if (error instanceof FlotillaError && !isProviderError(error))
        return { ...base, status: 'refused', rollout: null, detail: error.message }
      throw error
    }
  }
}
