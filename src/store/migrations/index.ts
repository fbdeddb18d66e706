import type { Migration } from 'kysely'
import * as initial from './0001-initial.ts'
import * as providersAndSim from './0002-providers-and-sim.ts'
import * as rolloutEngine from './0003-rollout-engine.ts'
import * as rolloutQueue from './0004-rollout-queue.ts'
import * as access from './0005-access.ts'
import * as simAwsApi from './0006-sim-aws-api.ts'
import * as simKubernetesApi from './0007-sim-kubernetes-api.ts'
import * as sessionsAndRequests from './0008-sessions-and-requests.ts'
import * as policyTimeAndOperationLocks from './0010-policy-time-and-operation-locks.ts'
import * as simSchema from './0011-sim-schema.ts'
import * as planCache from './0012-plan-cache.ts'

/**
 * Every migration, by name; Kysely applies them in name order. Add a file `NNNN-what.ts` and
 * list it here: a static list works the same under `tsx`, `vitest` and any bundle, where
 * reading the folder at run time would not.
 */
export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-providers-and-sim': providersAndSim,
  '0003-rollout-engine': rolloutEngine,
  '0004-rollout-queue': rolloutQueue,
  '0005-access': access,
  '0006-sim-aws-api': simAwsApi,
  '0007-sim-kubernetes-api': simKubernetesApi,
  '0008-sessions-and-requests': sessionsAndRequests,
  '0010-policy-time-and-operation-locks': policyTimeAndOperationLocks,
  '0011-sim-schema': simSchema,
  '0012-plan-cache': planCache,
}
