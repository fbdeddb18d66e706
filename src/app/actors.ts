/** Actors that are no person: the names their rollouts and audit entries are recorded under. */

/** The actor the controller's rollouts (new commits, drift reverts) are recorded under; no user may take it. */
export const CONTROLLER_ACTOR = 'controller'

/** Who acts on a rollout or the fleet, for the faces: the actor, where from, and whether elevated. */
export type { Operator } from '../rollout/controls.ts'
