/**
 * Rollouts: starting one, running one in this process until it stops, the operator controls, and
 * the fleet-wide stop — the same for the CLI, the API and the portal (each checks who may first).
 */
import { InputError } from '../core/errors.ts'
import type { Fleet } from '../core/model/fleet-model.ts'
import type { Plan } from '../core/model/plan.ts'
import type { Approval } from '../core/policy/approvals.ts'
import { sleep } from '../lib/abortable.ts'
import {
  abortRollout,
  approveStage,
  type Operator,
  pauseRollout,
  resumeRollout,
  retryTarget,
  skipTarget,
  stopFleet,
  unstopFleet,
} from '../rollout/controls.ts'
import { type EngineDeps, type Prepared, prepare, runRollout, startRollout } from '../rollout/engine.ts'
import type { RolloutRequest, RolloutState } from '../rollout/rollout-model.ts'
import { loadTargets, lockHolders } from '../rollout/rollout-store.ts'
import { findTrustedRevision } from '../source/trust.ts'
import type { Application } from './application.ts'

/** What starting a rollout takes. */
export interface StartRolloutRequest {
  /** The commit to roll out. */
  readonly commit: string
  /** The ref it was named by (`HEAD`, a branch), for messages. */
  readonly ref: string
  readonly approvals: readonly Approval[]
  readonly actor: string
  /**
   * Which trusted revision judges it too: `local`, the tip of the branch its `fleet.yaml` names
   * (`trust.branch`) in the application's repository, as a CLI on a clone finds it; or the one a
   * server found, with why the revision is not trusted when an admin starts it anyway.
   */
  readonly trust:
    | 'local'
    | {
        readonly judge?: { readonly commit: string; readonly label: string }
        readonly untrusted?: string
      }
  /** Checks the plan before anything is recorded (whose targets it touches); throws to refuse. */
  readonly authorize?: (plan: Plan) => void | Promise<void>
}

/** A rollout started (or queued), with the fleet of its revision. */
export interface StartedRollout {
  readonly id: string
  readonly plan: Plan
  readonly state: 'running' | 'queued'
  readonly queuedBehind: readonly string[]
  readonly fleet: Fleet
}

/** Plans the commit against the observed fleet and, if allowed, records the rollout. */
export async function startRolloutOf(
  app: Application,
  engine: EngineDeps,
  request: StartRolloutRequest,
): Promise<StartedRollout> {
  const fleet = await engine.loadRevision(request.commit)
  const trust =
    request.trust === 'local' ? await localTrust(app.repoDir, fleet.settings.trust.branch) : request.trust
  const started = await startRollout(engine, {
    commit: request.commit,
    ref: request.ref,
    approvals: request.approvals,
    actor: request.actor,
    ...(trust.judge ? { trusted: trust.judge } : {}),
    ...(trust.untrusted ? { untrusted: trust.untrusted } : {}),
    ...(request.authorize ? { authorize: request.authorize } : {}),
  })
  return { ...started, fleet }
}

/**
 * What starting a rollout of the commit would do, planned and judged exactly as the start would
 * (the same trusted rules), with nothing recorded: `rollout start --preview`, and what an
 * interactive `rollout start` asks to confirm.
 */
export async function previewRolloutOf(
  app: Application,
  engine: EngineDeps,
  request: Omit<StartRolloutRequest, 'actor' | 'authorize'>,
): Promise<{ readonly prepared: Prepared; readonly fleet: Fleet }> {
  const fleet = await engine.loadRevision(request.commit)
  const trust =
    request.trust === 'local' ? await localTrust(app.repoDir, fleet.settings.trust.branch) : request.trust
  const prepared = await prepare(engine, fleet, request.commit, {
    ref: request.ref,
    approvals: request.approvals,
    ...(trust.judge ? { trusted: trust.judge } : {}),
    ...(trust.untrusted ? { untrusted: trust.untrusted } : {}),
  })
  return { prepared, fleet }
}

/** The tip of `branch` in the repository, as the trusted revision of a CLI on a clone. */
async function localTrust(
  repoDir: string,
  branch: string,
): Promise<{ judge?: { commit: string; label: string }; untrusted?: string }> {
  const trusted = await findTrustedRevision(repoDir, branch)
  return trusted
    ? { judge: { commit: trusted.commit, label: `${trusted.branch} ${trusted.commit.slice(0, 12)}` } }
    : {}
}

/**
 * Plans a commit for a rollout, as starting one would, without recording anything: whether it
 * would start, and if not, why (the controller decides on each new commit so).
 */
export async function prepareRolloutOf(
  engine: EngineDeps,
  fleet: Fleet,
  commit: string,
  request: RolloutRequest,
): Promise<Prepared> {
  return prepare(engine, fleet, commit, request)
}

/** How {@link runUntilItStops} reports what it waits for. */
export interface RunUntilItStopsOptions {
  /** The rollout is queued behind these rollouts (called when they change). */
  readonly onQueued?: (blockers: readonly { rolloutId: string; state: RolloutState }[]) => void
  /** How often to ask again whether the process running the rollout let go of it. @default 1 s */
  readonly pollMs?: number
}

/** States of a rollout that change only when someone acts: a rollout queued behind it waits for that person. */
const NEEDS_A_PERSON: ReadonlySet<RolloutState> = new Set(['paused', 'halted', 'waiting-approval'])

/**
 * Runs a rollout in this process until it ends, waits for an approval or is paused. While another
 * process runs it (or a killed one's lease has not expired yet), waits and takes over once that
 * process lets go; a rollout queued behind rollouts that wait for a person returns `queued`.
 */
export async function runUntilItStops(
  app: Application,
  engine: EngineDeps,
  id: string,
  options: RunUntilItStopsOptions,
): Promise<RolloutState> {
  let told = ''
  for (;;) {
    const state = await runRollout(engine, id)
    // Stopped (the engine's signal: a Ctrl-C, a server stopping): the rollout stays as stored.
    if (engine.signal?.aborted) return state
    // `running` comes back only when another process holds the rollout's lease; `queued` while
    // other rollouts hold its targets — worth waiting for only while those run by themselves.
    if (state === 'queued') {
      const targets = (await loadTargets(app.db, id)).map((t) => t.target)
      const blockers = await lockHolders(app.db, targets)
      const why = blockers.map((b) => `${b.rolloutId} (${b.state})`).join(', ')
      if (why !== told) options.onQueued?.(blockers)
      told = why
      if (blockers.length > 0 && blockers.every((b) => NEEDS_A_PERSON.has(b.state))) return state
    } else if (state !== 'running') return state
    await sleep(options.pollMs ?? 1000, engine.signal).catch(() => {})
    if (engine.signal?.aborted) return state
  }
}

/** The operator controls of a rollout. */
export type RolloutAction = 'pause' | 'resume' | 'abort' | 'approve' | 'retry' | 'skip'

/** One control: `target` for retry and skip. */
export interface RolloutControl {
  readonly action: RolloutAction
  readonly id: string
  readonly target?: string | undefined
}

/** Applies an operator control; `approve` returns the stage approved. */
export async function controlRollout(
  app: Application,
  control: RolloutControl,
  who: Operator,
): Promise<{ stage?: string }> {
  const { action, id, target } = control
  switch (action) {
    case 'pause':
      await pauseRollout(app.db, id, who)
      return {}
    case 'resume':
      await resumeRollout(app.db, id, who)
      return {}
    case 'abort':
      await abortRollout(app.db, id, who)
      return {}
    case 'approve':
      return { stage: await approveStage(app.db, id, who) }
    case 'retry':
    case 'skip':
      if (target === undefined) throw new InputError(`rollout ${action} needs the TARGET to ${action}`)
      await (action === 'retry' ? retryTarget : skipTarget)(app.db, id, target, who)
      return {}
  }
}

/** Pulls the fleet-wide stop. */
export function stopTheFleet(app: Application, reason: string, who: Operator): Promise<string[]> {
  return stopFleet(app.db, reason, who)
}

/** Releases the fleet-wide stop. */
export function unstopTheFleet(app: Application, who: Operator): Promise<string[]> {
  return unstopFleet(app.db, who)
}
