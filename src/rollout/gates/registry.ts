/**
 * The gate kinds, each with its check: a map from kind to runner. Typed as a `Record` over the
 * kinds `rollout.yaml` knows, so each kind has exactly one check and adding a kind without one
 * does not compile.
 */
import { checkCommand } from './command.ts'
import { checkDns } from './dns.ts'
import type { Check, GateType } from './gate-run.ts'
import { checkHealth } from './health.ts'
import { checkHttp } from './http.ts'
import { checkPrometheus } from './prometheus.ts'

/** The check of each gate kind. */
export const GATE_CHECKS: Readonly<Record<GateType, Check>> = {
  health: checkHealth,
  dns: checkDns,
  command: checkCommand,
  http: checkHttp,
  prometheus: checkPrometheus,
}

/** The check of a gate kind. */
export function gateCheck(type: GateType): Check {
  return GATE_CHECKS[type]
}
