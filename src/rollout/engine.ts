/**
 * The rollout engine: takes one allowed plan through the stages and waves of `rollout.yaml`.
 *
 * Durable by construction: every step is a transition of stored state, recorded (with its event)
 * before the work it announces and again after it. `runRollout` reads where the rollout stands
 * and continues from there, so a process killed at any moment is replaced by running it again:
 * a target found `applying` is applied again — which changes nothing that was already applied,
 * because applying a desired state is idempotent — and nothing is lost or done twice.
 *
 * This module is the engine's face; each part has its own module with one reason to change:
 * - `plan-and-schedule.ts`: planning a revision, starting a rollout, leaving the queue;
 * - `run-rollout.ts`: the loop through the stages, under a lease;
 * - `step.ts`: a wave's targets applied (through `operations/apply-target-plan.ts`) and gated;
 * - `halt.ts`: halting and rolling back;
 * - `status.ts`: the status document;
 * - `engine-deps.ts`: what the engine works with;
 * - `rollout-store.ts`, `target-rows-store.ts`, `plans-store.ts`: its tables.
 */
export type { EngineDeps, GateRunner } from './engine-deps.ts'
export { type Prepared, prepare, type StartOptions, startRollout } from './plan-and-schedule.ts'
export { runRollout } from './run-rollout.ts'
export { rolloutStatus } from './status.ts'
