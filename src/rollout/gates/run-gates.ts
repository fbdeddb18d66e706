/**
 * Running gates: one gate for one target (`runGate`), or the named gates of a stage one after the
 * other (`runGates`), each bounded by its timeout and failing closed.
 */
import { durationMs } from '../../core/model/common.ts'
import type { FleetSettings } from '../../core/model/fleet.ts'
import type { LoadedAccount, LoadedGate, Target } from '../../core/model/fleet-model.ts'
import type { Gate } from '../../core/model/rollout.ts'
import { fleetVariable } from '../../core/render/contexts.ts'
import { gateContext } from '../../core/validate/gates.ts'
import {
  formatDuration,
  type GateEnvironment,
  GateFailure,
  type GateResult,
  type GateRun,
  type GateType,
  type Outcome,
} from './gate-run.ts'
import { gateCheck } from './registry.ts'

/**
 * How long each type of gate may take when `rollout.yaml` sets no `timeout`, in milliseconds.
 * Past it, the gate fails (a command's process group is killed first).
 */
export const DEFAULT_GATE_TIMEOUT_MS: Readonly<Record<GateType, number>> = {
  health: 60_000,
  dns: 30_000,
  command: 5 * 60_000,
  http: 30_000,
  prometheus: 30_000,
}

/** The gate's own `timeout`, or the default of its type, in milliseconds. */
export function gateTimeoutMs(gate: Pick<Gate, 'type' | 'timeout'>): number {
  return gate.timeout === undefined ? DEFAULT_GATE_TIMEOUT_MS[gate.type] : durationMs(gate.timeout)
}

/** Whether every result passed (no results: no gate was asked, so nothing holds the target back). */
export function allPassed(results: readonly GateResult[]): boolean {
  return results.every((r) => r.state === 'passed')
}

/**
 * Runs one gate for one target and says whether the target may proceed. Never throws for
 * anything the world does (see the module comment); the gate's `timeout` (or
 * {@link DEFAULT_GATE_TIMEOUT_MS}) bounds it.
 *
 * @example
 * const result = await runGate('dns', fleet.rollout.gates.dns!, target, account, fleet.settings, environment)
 * if (result.state === 'failed') halt(result.detail)
 */
export async function runGate(
  name: string,
  gate: LoadedGate,
  target: Target,
  account: LoadedAccount,
  settings: FleetSettings,
  environment: GateEnvironment,
): Promise<GateResult> {
  const started = performance.now()
  const limitMs = gateTimeoutMs(gate)
  const deadline = AbortSignal.timeout(limitMs)
  const signal = environment.signal ? AbortSignal.any([deadline, environment.signal]) : deadline
  const run: GateRun = {
    gate,
    target,
    environment,
    signal,
    context: gateContext(target, account, fleetVariable(settings)),
    stopReason: () =>
      deadline.aborted
        ? `did not finish within ${gate.timeout ?? formatDuration(limitMs)} (its timeout); raise the gate's timeout in rollout.yaml if it needs longer`
        : 'was stopped before it finished (the rollout was aborted or paused)',
  }
  let outcome: Outcome
  if (environment.signal?.aborted) {
    outcome = { passed: false, detail: 'was not run: the rollout was aborted or paused' }
  } else {
    try {
      outcome = await gateCheck(gate.type)(run)
    } catch (error) {
      if (!(error instanceof GateFailure)) throw error
      outcome = { passed: false, detail: error.message, ...(error.output ? { output: error.output } : {}) }
    }
  }
  const state = outcome.passed ? 'passed' : 'failed'
  return {
    name,
    type: gate.type,
    state,
    detail: `${gate.type} gate "${name}" ${state} for ${target.kind} ${target.id}: ${outcome.detail}`,
    durationMs: Math.round(performance.now() - started),
    ...(outcome.output !== undefined ? { output: outcome.output } : {}),
  }
}

/**
 * Runs the named gates for one target, one after the other in the given order, and keeps every
 * result: a failed gate does not skip the ones after it, so the operator sees the whole picture.
 * A name that `gates` does not define fails.
 */
export async function runGates(
  names: readonly string[],
  gates: Readonly<Record<string, LoadedGate>>,
  target: Target,
  account: LoadedAccount,
  settings: FleetSettings,
  environment: GateEnvironment,
): Promise<GateResult[]> {
  const results: GateResult[] = []
  for (const name of names) {
    const gate = Object.hasOwn(gates, name) ? gates[name] : undefined
    if (gate === undefined) {
      results.push({
        name,
        type: 'unknown',
        state: 'failed',
        detail: `gate "${name}" failed for ${target.kind} ${target.id}: rollout.yaml defines no gate of that name (defined: ${Object.keys(gates).join(', ') || 'none'}); define it under gates`,
        durationMs: 0,
      })
      continue
    }
    results.push(await runGate(name, gate, target, account, settings, environment))
  }
  return results
}
