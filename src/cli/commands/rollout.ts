import { resolve } from 'node:path'
import { InputError } from '../../core/errors.ts'
import { resolveCommit } from '../../core/source/git.ts'
import { startMetricsServer } from '../../providers/sim/metrics-server.ts'
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
} from '../../rollout/controls.ts'
import { rolloutStatus, runRollout, startRollout } from '../../rollout/engine.ts'
import { RolloutMetrics } from '../../rollout/metrics.ts'
import type { RolloutState, RolloutStatus } from '../../rollout/rollout-model.ts'
import { FINAL_STATES } from '../../rollout/rollout-model.ts'
import { latestRollout, loadRollout, loadTargets, lockHolders } from '../../rollout/rollout-store.ts'
import { openRunner } from '../../rollout/runner.ts'
import { listRolloutEvents, type RolloutEvent } from '../../store/events.ts'
import { type FleetStore, openFleetStore, type StoreOptions } from '../fleet-store.ts'
import type { CliIo } from '../io.ts'
import { cliActor } from './apply.ts'
import { parseNow, readApprovals } from './plan.ts'

interface Common extends StoreOptions {
  readonly format?: 'text' | 'json'
}

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

const operator = (): Operator => ({ actor: process.env.FLOTILLA_ACTOR ?? cliActor(), source: 'cli' })

async function withStore<T>(
  options: StoreOptions,
  io: CliIo,
  use: (opened: FleetStore) => Promise<T>,
): Promise<T> {
  const opened = await openFleetStore(options, io.cwd)
  try {
    return await use(opened)
  } finally {
    await opened.close()
  }
}

/** How often `--wait` asks again whether the process running a rollout let go of it. */
const LEASE_POLL_MS = 1000

/**
 * Runs a rollout in this process until it ends or waits, printing its events as they happen.
 * While another process runs it (or a killed one's lease has not expired yet), follows its events
 * and takes over once that process lets go: `--wait` returns only when the rollout ended, waits
 * for an approval or was paused.
 */
async function runHere(
  opened: FleetStore,
  repoDir: string,
  id: string,
  io: CliIo,
  text: boolean,
  metricsPort: number | undefined,
): Promise<RolloutState> {
  const metrics = new RolloutMetrics(opened.store.db)
  const endpoint =
    metricsPort === undefined ? undefined : await startMetricsServer({ metrics, port: metricsPort })
  if (endpoint && text) io.stdout(`Metrics: ${endpoint.url}\n`)
  const runner = await openRunner({
    repoDir,
    db: opened.store.db,
    registry: opened.registry,
    sim: opened.sim,
    onEvent: (event) => metrics.observe(event),
  })
  let last = 0
  const seen = await listRolloutEvents(opened.store.db, id)
  last = seen.at(-1)?.id ?? 0
  const print = async () => {
    for (const event of await listRolloutEvents(opened.store.db, id, { afterId: last })) {
      last = event.id
      if (text) io.stdout(`${formatEvent(event)}\n`)
    }
  }
  let done = false
  const ticker = (async () => {
    while (!done) {
      await new Promise((r) => setTimeout(r, 300))
      await print()
    }
  })()
  try {
    let told = ''
    for (;;) {
      const state = await runRollout(runner.deps, id)
      // `running` comes back only when another process holds the rollout's lease; `queued` while
      // other rollouts hold its targets — worth waiting for only while those run by themselves.
      if (state === 'queued') {
        const blockers = await queueBlockers(opened, id)
        const why = blockers.map((b) => `${b.rolloutId} (${b.state})`).join(', ')
        if (text && why !== told) io.stdout(`Queued behind ${why}.\n`)
        told = why
        if (blockers.length > 0 && blockers.every((b) => NEEDS_A_PERSON.has(b.state))) return state
      } else if (state !== 'running') return state
      await new Promise((r) => setTimeout(r, LEASE_POLL_MS))
    }
  } finally {
    done = true
    await ticker
    await print()
    await runner.close()
    await endpoint?.close()
  }
}

/** States of a rollout that change only when someone acts: a rollout queued behind it waits for that person. */
const NEEDS_A_PERSON: ReadonlySet<RolloutState> = new Set(['paused', 'halted', 'waiting-approval'])

/** The rollouts holding the targets of a queued rollout. */
async function queueBlockers(opened: FleetStore, id: string) {
  const targets = (await loadTargets(opened.store.db, id)).map((t) => t.target)
  return lockHolders(opened.store.db, targets)
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

export interface RolloutStartOptions extends Common {
  readonly repo?: string
  readonly rev?: string
  readonly approve?: readonly string[]
  readonly approvals?: string
  readonly now?: string
  readonly wait?: boolean
  readonly metricsPort?: number
}

/**
 * `flotilla rollout start [--rev REV] [--wait]`: plans the commit against the observed fleet,
 * requires it allowed, records the rollout and — with `--wait` — runs it here until it ends or
 * waits for an approval.
 */
export async function rolloutStartCommand(options: RolloutStartOptions, io: CliIo): Promise<number> {
  const repoDir = resolve(io.cwd, options.repo ?? '.')
  const ref = options.rev ?? 'HEAD'
  const commit = await resolveCommit(repoDir, ref)
  const approvals = await readApprovals(options, io.cwd)
  const policyNow = options.now === undefined ? undefined : parseNow(options.now)
  return withStore(options, io, async (opened) => {
    const runner = await openRunner({
      repoDir,
      db: opened.store.db,
      registry: opened.registry,
      sim: opened.sim,
    })
    let started: Awaited<ReturnType<typeof startRollout>>
    try {
      const fleet = await runner.deps.loadRevision(commit)
      await opened.sim.seed(fleet.targets, fleet.clusters)
      started = await startRollout(runner.deps, {
        commit,
        ref,
        approvals,
        actor: operator().actor,
        ...(policyNow ? { policyNow } : {}),
      })
    } finally {
      await runner.close()
    }
    const { id } = started
    const text = options.format !== 'json'
    if (!text && !options.wait) io.stdout(`${JSON.stringify({ id })}\n`)
    if (text) {
      io.stdout(
        started.state === 'queued'
          ? `Queued rollout ${id} of ${ref} (${commit.slice(0, 12)}) behind ${started.queuedBehind.join(', ')}: it plans again and starts when nothing else holds its targets.\n`
          : `Started rollout ${id} of ${ref} (${commit.slice(0, 12)}).\n`,
      )
    }
    if (!options.wait) {
      if (text) io.stdout(`Run it with: flotilla rollout resume ${id} --wait\n`)
      return 0
    }
    const state = await runHere(opened, repoDir, id, io, text, options.metricsPort)
    if (text) io.stdout(formatStatus(await rolloutStatus(opened.store.db, id)))
    else io.stdout(`${JSON.stringify({ id, state }, null, 2)}\n`)
    return waitExitCode(state)
  })
}

export interface RolloutStatusOptions extends Common {
  readonly repo?: string
  readonly follow?: boolean
}

/** How often `status --follow` looks for new events. */
const FOLLOW_POLL_MS = 500

/**
 * `--follow`: prints each event of the rollout as it is stored (a JSON line each with `--format
 * json`) until the rollout ends, then its status; exit 0 when it succeeded, 3 otherwise. It only
 * reads: whoever runs the rollout (a `--wait`, the server) is unaffected.
 */
async function follow(opened: FleetStore, id: string, io: CliIo, json: boolean): Promise<number> {
  const db = opened.store.db
  if (!json) io.stdout(formatStatus(await rolloutStatus(db, id)))
  let last = 0
  for (;;) {
    // The state first, then the events: an ending's event is stored with the state, so it is printed.
    const state = (await loadRollout(db, id))!.state
    for (const event of await listRolloutEvents(db, id, { afterId: last })) {
      last = event.id
      io.stdout(json ? `${JSON.stringify(event)}\n` : `${formatEvent(event)}\n`)
    }
    if (FINAL_STATES.has(state)) break
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS))
  }
  const status = await rolloutStatus(db, id)
  io.stdout(json ? `${JSON.stringify(status)}\n` : formatStatus(status))
  return waitExitCode(status.state)
}

/** `flotilla rollout status [ID] [--follow]`: stages, waves, targets, gates and why it halted. */
export async function rolloutStatusCommand(
  id: string | undefined,
  options: RolloutStatusOptions,
  io: CliIo,
): Promise<number> {
  return withStore(options, io, async (opened) => {
    const rolloutId = id ?? (await latestRollout(opened.store.db))?.id
    if (!rolloutId) {
      io.stdout(
        options.format === 'json'
          ? 'null\n'
          : 'No rollouts yet. Start one with: flotilla rollout start --wait\n',
      )
      return 0
    }
    if (options.follow) return follow(opened, rolloutId, io, options.format === 'json')
    const status = await rolloutStatus(opened.store.db, rolloutId)
    io.stdout(options.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status))
    return 0
  })
}

/** The text rendering of a rollout's status. */
export function formatStatus(status: RolloutStatus): string {
  const lines = [
    `Rollout ${status.id}: ${status.state} (revision ${status.revision.slice(0, 12)}, by ${status.createdBy})`,
  ]
  if (status.haltReason) lines.push(`  why: ${status.haltReason}`)
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

export interface RolloutControlOptions extends Common {
  readonly repo?: string
  readonly wait?: boolean
  readonly metricsPort?: number
}

/** `flotilla rollout pause|resume|abort|approve|retry|skip ID [TARGET]`. */
export async function rolloutControlCommand(
  action: 'pause' | 'resume' | 'abort' | 'approve' | 'retry' | 'skip',
  id: string,
  target: string | undefined,
  options: RolloutControlOptions,
  io: CliIo,
): Promise<number> {
  const repoDir = resolve(io.cwd, options.repo ?? '.')
  return withStore(options, io, async (opened) => {
    const db = opened.store.db
    const who = operator()
    switch (action) {
      case 'pause':
        await pauseRollout(db, id, who)
        break
      case 'resume':
        await resumeRollout(db, id, who)
        break
      case 'abort':
        await abortRollout(db, id, who)
        break
      case 'approve': {
        const stage = await approveStage(db, id, who)
        if (options.format !== 'json') io.stdout(`Approved stage ${stage} of ${id}.\n`)
        break
      }
      case 'retry':
      case 'skip': {
        if (target === undefined) throw new InputError(`rollout ${action} needs the TARGET to ${action}`)
        await (action === 'retry' ? retryTarget : skipTarget)(db, id, target, who)
        break
      }
    }
    if (
      options.wait &&
      (action === 'resume' || action === 'approve' || action === 'retry' || action === 'skip')
    ) {
      const state = await runHere(opened, repoDir, id, io, options.format !== 'json', options.metricsPort)
      const status = await rolloutStatus(db, id)
      io.stdout(options.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status))
      return waitExitCode(state)
    }
    const status = await rolloutStatus(db, id)
    io.stdout(options.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status))
    return 0
  })
}

/** `flotilla stop --reason TEXT`: pauses every running rollout at once. */
export async function stopCommand(options: Common & { readonly reason: string }, io: CliIo): Promise<number> {
  return withStore(options, io, async (opened) => {
    const paused = await stopFleet(opened.store.db, options.reason, operator())
    io.stdout(
      options.format === 'json'
        ? `${JSON.stringify({ stopped: true, paused })}\n`
        : `Fleet-wide stop: ${paused.length} ${paused.length === 1 ? 'rollout' : 'rollouts'} paused${paused.length ? ` (${paused.join(', ')})` : ''}. Nothing starts until "flotilla unstop".\n`,
    )
    return 0
  })
}

/** `flotilla unstop`: releases the fleet-wide stop; the rollouts it paused run again. */
export async function unstopCommand(options: Common, io: CliIo): Promise<number> {
  return withStore(options, io, async (opened) => {
    const resumed = await unstopFleet(opened.store.db, operator())
    io.stdout(
      options.format === 'json'
        ? `${JSON.stringify({ stopped: false, resumed })}\n`
        : `Fleet-wide stop released; ${resumed.length} ${resumed.length === 1 ? 'rollout' : 'rollouts'} resumed${resumed.length ? ` (${resumed.join(', ')}); run each with "flotilla rollout resume ID --wait"` : ''}.\n`,
    )
    return 0
  })
}
