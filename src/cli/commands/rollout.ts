import { resolve } from 'node:path'
import type { Application } from '../../app/application.ts'
import type { RolloutAction } from '../../app/rollouts.ts'
import { startMetricsServer } from '../../app/simulator.ts'
import { ConflictError, PolicyError } from '../../core/errors.ts'
import { describePolicyTime } from '../../core/policy/policy-time.ts'
import { sleep } from '../../lib/abortable.ts'
import { rolloutStatus } from '../../rollout/engine.ts'
import { RolloutMetrics } from '../../rollout/metrics.ts'
import { previewLines, previewRollout } from '../../rollout/preview.ts'
import type { RolloutState, RolloutStatus } from '../../rollout/rollout-model.ts'
import { FINAL_STATES } from '../../rollout/rollout-model.ts'
import { latestRollout, loadRollout, rolloutAttended } from '../../rollout/rollout-store.ts'
import { resolveCommit } from '../../source/git.ts'
import { listRolloutEvents, type RolloutEvent } from '../../store/events.ts'
import { withApplication } from '../application.ts'
import type {
  RolloutControlOptions,
  RolloutStartOptions,
  RolloutStatusOptions,
  StopOptions,
  UnstopOptions,
} from '../declarations.ts'
import { readApprovals, refuseNow } from '../inputs.ts'
import { onInterrupt } from '../interrupt.ts'
import type { CliIo } from '../io.ts'
import { cliOperator } from '../operator.ts'
import { trustNote } from '../trust-note.ts'

/**
 * Exit codes of `--wait` (cli.md): 0 succeeded, 5 waiting for an approval, 3 halted, rolled back
 * or aborted — and, failing closed, 3 as well for a rollout that stopped short of the end for any
 * other reason (paused by an operator or the fleet-wide stop, or queued behind a rollout that
 * waits for a person): a script that goes on after `--wait` must never take those for success.
 */
export function waitExitCode(state: RolloutState): number {
  if (state === 'succeeded') return 0
  if (state === 'waiting-approval') return 5
  return 3
}

/** How often `--wait` asks again whether the process running a rollout let go of it. */
const LEASE_POLL_MS = 1000

/** What {@link runHere} returns when Ctrl-C stopped it. */
const STOPPED_HERE = 'stopped-here'

/**
 * Runs a rollout in this process until it stops (see `Application.runUntilItStops`), printing its
 * events as they are stored — also those of another process that runs it meanwhile — and, with
 * `metricsPort`, serving the engine's Prometheus metrics while it runs. Ctrl-C stops running it
 * here — the step under way is cut short and stays as stored, as after a killed process, for the
 * next runner — and says what becomes of the rollout.
 */
async function runHere(
  app: Application,
  id: string,
  io: CliIo,
  text: boolean,
  metricsPort: number | undefined,
): Promise<RolloutState | typeof STOPPED_HERE> {
  const metrics = new RolloutMetrics(app.db)
  const endpoint =
    metricsPort === undefined ? undefined : await startMetricsServer({ metrics, port: metricsPort })
  if (endpoint && text) io.stdout(`Metrics: ${endpoint.url}\n`)
  const engine = await app.openEngine({ onEvent: (event) => metrics.observe(event) })
  let last = (await listRolloutEvents(app.db, id)).at(-1)?.id ?? 0
  const print = async () => {
    for (const event of await listRolloutEvents(app.db, id, { afterId: last })) {
      last = event.id
      if (text) io.stdout(`${formatEvent(event)}\n`)
    }
  }
  const interrupted = new AbortController()
  const stopOn = onInterrupt(io, () => interrupted.abort(new Error('interrupted')))
  let done = false
  const ticker = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, 300))
      await print()
    }
  })()
  try {
    const state = await app.runUntilItStops(
      id,
      {
        pollMs: LEASE_POLL_MS,
        onQueued: (blockers) => {
          if (text)
            io.stdout(`Queued behind ${blockers.map((b) => `${b.rolloutId} (${b.state})`).join(', ')}.\n`)
        },
      },
      { ...engine.deps, signal: interrupted.signal },
    )
    if (!interrupted.signal.aborted || FINAL_STATES.has(state)) return state
    const goesOn =
      state !== 'running'
        ? ''
        : io.application
          ? ' and the server runs it on in a moment'
          : ` and goes on when something runs it: "flotilla rollout resume ${id} --wait", or a server (flotilla serve)`
    io.stderr(`Stopped running rollout ${id} here; the rollout itself is ${state}${goesOn}.\n`)
    return STOPPED_HERE
  } finally {
    stopOn()
    done = true
    await ticker
    await print()
    await engine.close()
    await endpoint?.close()
  }
}

function formatEvent(event: RolloutEvent): string {
  const detail = (event.detail ?? {}) as Record<string, unknown>
  const what =
    typeof detail.reason === 'string'
      ? `: ${detail.reason}`
      : event.type === 'provider-event'
        ? `: ${String(detail.address)}: ${String(detail.message)}`
        : typeof detail.stage === 'string'
          ? ` (${detail.stage})`
          : ''
  return `${event.at.toISOString().slice(11, 19)}  ${event.type}${event.target ? ` ${event.target}` : ''}${what}`
}

/**
 * `flotilla rollout start [--rev REV] [--wait]`: plans the commit against the observed fleet at
 * this machine's clock, requires it allowed, records the rollout and — with `--wait` — runs it
 * here until it ends or waits for an approval.
 */
export async function rolloutStartCommand(options: RolloutStartOptions, io: CliIo): Promise<number> {
  refuseNow('rollout start', options.now)
  const ref = options.rev ?? 'HEAD'
  // Mistakes in the input are reported before the store is opened (another process may hold it).
  const commit = await resolveCommit(resolve(io.cwd, options.repo ?? '.'), ref)
  const approvals = await readApprovals(options, io.cwd)
  if (options.preview) return rolloutPreviewCommand(options, io, commit, ref, approvals)
  return withApplication(options, io, async (app) => {
    const started = await app.startRollout({
      commit,
      ref,
      approvals,
      actor: cliOperator(io).actor,
      trust: 'local',
    })
    // No server judged who starts it or whether the revision was merged: say which trust was used.
    io.stderr(`${await trustNote(app.repoDir, started.fleet, 'rolled out')}\n`)
    const { id } = started
    const text = options.format !== 'json'
    if (!text && !options.wait) io.stdout(`${JSON.stringify({ id })}\n`)
    if (text) {
      io.stdout(
        started.state === 'queued'
          ? `Queued rollout ${id} of ${ref} (${commit.slice(0, 12)}) behind ${started.queuedBehind.join(', ')}: it plans again and starts when nothing else holds its targets.\n`
          : `Started rollout ${id} of ${ref} (${commit.slice(0, 12)}).\n`,
      )
      // What it will do, stage by stage: what the portal asks to confirm. (A queued rollout plans
      // again when it leaves the queue: what it will do is known then.)
      if (started.state !== 'queued')
        for (const line of previewLines(previewRollout(started.fleet, started.plan))) io.stdout(`${line}\n`)
    }
    if (!options.wait) {
      if (text) io.stdout(`Run it with: flotilla rollout resume ${id} --wait\n`)
      return 0
    }
    const state = await runHere(app, id, io, text, options.metricsPort)
    if (state === STOPPED_HERE) return INTERRUPTED
    if (text) io.stdout(formatStatus(await rolloutStatus(app.db, id)))
    else io.stdout(`${JSON.stringify({ id, state }, null, 2)}\n`)
    return waitExitCode(state)
  })
}

/**
 * `rollout start --preview`: plans and judges the commit as the start would and prints what the
 * rollout would do, stage by stage; records nothing. Exit 0 when it could start; otherwise the
 * start's refusal (why, and the exit code of a refused start).
 */
async function rolloutPreviewCommand(
  options: RolloutStartOptions,
  io: CliIo,
  commit: string,
  ref: string,
  approvals: Awaited<ReturnType<typeof readApprovals>>,
): Promise<number> {
  return withApplication(options, io, async (app) => {
    const { prepared, fleet } = await app.previewRollout({ commit, ref, approvals, trust: 'local' })
    if (!prepared.ok) {
      if (prepared.verdict === 'no-changes') throw new ConflictError(prepared.why)
      throw new PolicyError(prepared.why)
    }
    const preview = previewRollout(fleet, prepared.plan)
    if (options.format === 'json') io.stdout(`${JSON.stringify({ commit, ref, preview }, null, 2)}\n`)
    else {
      io.stdout(`A rollout of ${ref} (${commit.slice(0, 12)}) would do this; nothing was started.\n`)
      for (const line of previewLines(preview)) io.stdout(`${line}\n`)
    }
    return 0
  })
}

/** How often `status --follow` looks for new events. */
const FOLLOW_POLL_MS = 500

/** How long a followed rollout may go without a process running it before the follower says so. */
export const UNRUN_NOTE_MS = 3000

/**
 * `--follow`: prints each event of the rollout as it is stored (a JSON line each with `--format
 * json`) until the rollout ends, then its status; exit 0 when it succeeded, 3 otherwise. It only
 * reads: whoever runs the rollout (a `--wait`, the server) is unaffected. A rollout that nothing
 * runs would be followed in silence forever: after {@link UNRUN_NOTE_MS} without a runner, it
 * says so on stderr with how to run it, and follows on (a server may take it up).
 */
export async function followRollout(app: Application, id: string, io: CliIo, json: boolean): Promise<number> {
  const db = app.db
  if (!json) io.stdout(formatStatus(await rolloutStatus(db, id)))
  let last = 0
  let unrunSince: number | undefined
  let told = false
  // Ctrl-C stops the following, not the rollout: it says so, and what (if anything) runs it.
  const interrupted = new AbortController()
  const stopOn = onInterrupt(io, () => interrupted.abort())
  try {
    for (;;) {
      // The state first, then the events: an ending's event is stored with the state, so it is printed.
      const state = (await loadRollout(db, id))!.state
      for (const event of await listRolloutEvents(db, id, { afterId: last })) {
        last = event.id
        io.stdout(json ? `${JSON.stringify(event)}\n` : `${formatEvent(event)}\n`)
      }
      if (FINAL_STATES.has(state)) break
      // Whether a process runs it matters only while it is running (queued, paused or waiting for
      // an approval, it waits for something else).
      const unattended = state === 'running' && !(await rolloutAttended(db, id))
      if (interrupted.signal.aborted) {
        const goesOn =
          state !== 'running'
            ? ''
            : unattended
              ? ` and goes on when something runs it: nothing does now (flotilla rollout resume ${id} --wait, or a server)`
              : ' and goes on in the process that runs it'
        io.stderr(`Stopped following rollout ${id}; the rollout itself is ${state}${goesOn}.\n`)
        return INTERRUPTED
      }
      if (unattended) {
        unrunSince ??= Date.now()
        if (!told && Date.now() - unrunSince >= UNRUN_NOTE_MS) {
          told = true
          io.stderr(
            `Nothing runs rollout ${id}: no server has taken it up and no "flotilla rollout resume ${id} --wait" runs it, so it makes no progress. Run it here with: flotilla rollout resume ${id} --wait (or start a server: flotilla serve). Still following.\n`,
          )
        }
      } else unrunSince = undefined
      await sleep(FOLLOW_POLL_MS, interrupted.signal).catch(() => {})
    }
  } finally {
    stopOn()
  }
  const status = await rolloutStatus(db, id)
  io.stdout(json ? `${JSON.stringify(status)}\n` : formatStatus(status))
  return waitExitCode(status.state)
}

/** The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it. */
const INTERRUPTED = 130

/** `flotilla rollout status [ID] [--follow]`: stages, waves, targets, gates and why it halted. */
export async function rolloutStatusCommand(
  id: string | undefined,
  options: RolloutStatusOptions,
  io: CliIo,
): Promise<number> {
  return withApplication(options, io, async (app) => {
    const rolloutId = id ?? (await latestRollout(app.db))?.id
    if (!rolloutId) {
      io.stdout(
        options.format === 'json'
          ? 'null\n'
          : 'No rollouts yet. Start one with: flotilla rollout start --wait\n',
      )
      return 0
    }
    if (options.follow) return followRollout(app, rolloutId, io, options.format === 'json')
    const status = await rolloutStatus(app.db, rolloutId)
    io.stdout(options.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status))
    return 0
  })
}

/** The text rendering of a rollout's status. */
export function formatStatus(status: RolloutStatus): string {
  const lines = [
    `Rollout ${status.id}: ${status.state} (revision ${status.revision.slice(0, 12)}, by ${status.createdBy})`,
  ]
  if (status.policyTime) lines.push(`  policy time: ${describePolicyTime(status.policyTime)}`)
  if (status.haltReason) lines.push(`  why: ${status.haltReason}`)
  if (status.untrusted) lines.push(`  untrusted revision, started by an admin: ${status.untrusted}`)
  for (const stage of status.stages) {
    const count = stage.waves.reduce((n, w) => n + w.targets.length, 0)
    const done = stage.waves.reduce((n, w) => n + w.targets.filter((t) => t.state === 'succeeded').length, 0)
    const approval =
      stage.approval === 'required'
        ? `, approval ${stage.approvedBy ? `by ${stage.approvedBy}` : 'required'}`
        : ''
    lines.push(
      `  ${stage.name.padEnd(10)} ${stage.state.padEnd(16)} ${done}/${count} targets in ${stage.waves.length} ${stage.waves.length === 1 ? 'wave' : 'waves'}${approval}`,
    )
    for (const wave of stage.waves) {
      for (const target of wave.targets) {
        if (target.state === 'succeeded' || target.state === 'pending') continue
        lines.push(
          `    wave ${wave.index}  ${target.id}  ${target.state}${target.reason ? `: ${target.reason}` : ''}`,
        )
      }
    }
    for (const gate of stage.gates.filter((g) => g.state === 'failed'))
      lines.push(`    gate ${gate.name} failed: ${gate.detail}`)
  }
  return `${lines.join('\n')}\n`
}

/** `flotilla rollout pause|resume|abort|approve|retry|skip ID [TARGET]`. */
export async function rolloutControlCommand(
  action: RolloutAction,
  id: string,
  target: string | undefined,
  options: RolloutControlOptions,
  io: CliIo,
): Promise<number> {
  return withApplication(options, io, async (app) => {
    const { stage } = await app.controlRollout({ action, id, target }, cliOperator(io))
    if (action === 'approve' && options.format !== 'json') io.stdout(`Approved stage ${stage} of ${id}.\n`)
    if (
      options.wait &&
      (action === 'resume' || action === 'approve' || action === 'retry' || action === 'skip')
    ) {
      const state = await runHere(app, id, io, options.format !== 'json', options.metricsPort)
      if (state === STOPPED_HERE) return INTERRUPTED
      const status = await rolloutStatus(app.db, id)
      io.stdout(options.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status))
      return waitExitCode(state)
    }
    const status = await rolloutStatus(app.db, id)
    io.stdout(options.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status))
    return 0
  })
}

/** `flotilla stop --reason TEXT`: pauses every running rollout at once. */
export async function stopCommand(options: StopOptions, io: CliIo): Promise<number> {
  return withApplication(options, io, async (app) => {
    const paused = await app.stopFleet(options.reason, cliOperator(io))
    io.stdout(
      options.format === 'json'
        ? `${JSON.stringify({ stopped: true, paused })}\n`
        : `Fleet-wide stop: ${paused.length} ${paused.length === 1 ? 'rollout' : 'rollouts'} paused${paused.length ? ` (${paused.join(', ')})` : ''}. Nothing starts until "flotilla unstop".\n`,
    )
    return 0
  })
}

/** `flotilla unstop`: releases the fleet-wide stop; the rollouts it paused run again. */
export async function unstopCommand(options: UnstopOptions, io: CliIo): Promise<number> {
  return withApplication(options, io, async (app) => {
    const resumed = await app.unstopFleet(cliOperator(io))
    io.stdout(
      options.format === 'json'
        ? `${JSON.stringify({ stopped: false, resumed })}\n`
        : `Fleet-wide stop released; ${resumed.length} ${resumed.length === 1 ? 'rollout' : 'rollouts'} resumed${resumed.length ? ` (${resumed.join(', ')}); run each with "flotilla rollout resume ID --wait"` : ''}.\n`,
    )
    return 0
  })
}
