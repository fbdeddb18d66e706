/**
 * Rollout gates: whether a target may proceed. A gate from `rollout.yaml` is rendered for one
 * target and checked against the real world — the provider's health view, DNS, a command, an
 * HTTP endpoint, a Prometheus query — and gives one {@link GateResult}.
 *
 * Every gate fails closed: an error, a timeout, an unreachable data source, an answer that cannot
 * be read or a template that cannot be rendered for the target is a `failed` result whose detail
 * says which gate, which target, what happened and what to do. Nothing here throws for the
 * world misbehaving; a throw is a bug.
 *
 * One file per kind under `gates/` (`health`, `dns`, `command`, `http`, `prometheus`), found
 * through `gates/registry.ts`; what they share is `gates/gate-run.ts`; running them is
 * `gates/run-gates.ts`. This module is their face.
 */
export { COMMAND_KILL_GRACE_MS, COMMAND_OUTPUT_LIMIT_BYTES } from './gates/command.ts'
export type { GateEnvironment, GateResult, GateType } from './gates/gate-run.ts'
export { GATE_CHECKS, gateCheck } from './gates/registry.ts'
export { allPassed, DEFAULT_GATE_TIMEOUT_MS, gateTimeoutMs, runGate, runGates } from './gates/run-gates.ts'
