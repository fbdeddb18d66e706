import { z } from 'zod'
import { duration, durationMs } from './common.ts'

/** Forced-eviction rules: when a pod that blocks a drain may be deleted despite its budget. */
const forcedEvictionSchema = z.strictObject({
  allowed: z
    .boolean()
    .optional()
    .describe('Whether a drain that outlived drainTimeout may delete pods its budgets protect.'),
  gracePeriod: duration
    .optional()
    .describe('Termination grace period given to a force-evicted pod (its preStop hooks and shutdown).'),
  minPodAge: duration
    .optional()
    .describe('A pod younger than this is never force-evicted (it may still be starting).'),
  pause: duration.optional().describe('Time between two forced evictions in one cluster.'),
})

const environmentRulesSchema = z.strictObject({
  drainTimeout: duration
    .optional()
    .describe('How long a node may take to drain by evictions before forced evictions are considered.'),
  forcedEviction: forcedEvictionSchema.optional(),
})

/** `fleet.yaml` `nodeRotation`: how cluster updates replace nodes. */
export const nodeRotationSchema = z
  .strictObject({
    maxSurge: z.int().min(1).default(1).describe('Extra nodes a pool may have while it is rotated.'),
    maxUnavailable: z
      .int()
      .min(1)
      .default(1)
      .describe('Nodes of a pool that may be cordoned and draining at once, below its size.'),
    drainTimeout: duration.default('15m').describe(environmentRulesSchema.shape.drainTimeout.description!),
    forcedEviction: forcedEvictionSchema.prefault({}),
    production: environmentRulesSchema
      .prefault({})
      .describe('Stricter rules for production clusters: each must be at least as strict as the default.'),
    statefulPools: z
      .strictObject({
        rotationsPerMonth: z
          .int()
          .min(0)
          .default(1)
          .describe(
            'Rotations per calendar month (UTC) of a pool running StatefulSet pods; more are skipped and reported.',
          ),
      })
      .prefault({}),
  })
  .superRefine((settings, context) => {
    for (const problem of productionLooseness(settings))
      context.addIssue({ code: 'custom', path: problem.path.split('.').slice(1), message: problem.message })
  })
  .prefault({})
  .describe('How cluster updates (Kubernetes version, node pool instance types or profile) replace nodes.')
export type NodeRotationSettings = z.output<typeof nodeRotationSchema>

/** Forced-eviction rules resolved for one environment. */
export interface ForcedEvictionRules {
  readonly allowed: boolean
  readonly gracePeriodSeconds: number
  readonly minPodAgeMs: number
  readonly pauseMs: number
}

/** The rotation limits of one cluster: `fleet.yaml` `nodeRotation` resolved for its environment. */
export interface RotationLimits {
  readonly maxSurge: number
  readonly maxUnavailable: number
  readonly drainTimeoutMs: number
  readonly forcedEviction: ForcedEvictionRules
  readonly statefulRotationsPerMonth: number
}

const DEFAULT_FORCED = { allowed: true, gracePeriod: '30s', minPodAge: '10m', pause: '1m' }
const PRODUCTION_FORCED = { allowed: true, gracePeriod: '2m', minPodAge: '1h', pause: '5m' }
const PRODUCTION_DRAIN_TIMEOUT = '1h'

function resolveForced(
  given: z.output<typeof forcedEvictionSchema> | undefined,
  defaults: typeof DEFAULT_FORCED,
): ForcedEvictionRules {
  return {
    allowed: given?.allowed ?? defaults.allowed,
    gracePeriodSeconds: durationMs(given?.gracePeriod ?? defaults.gracePeriod) / 1000,
    minPodAgeMs: durationMs(given?.minPodAge ?? defaults.minPodAge),
    pauseMs: durationMs(given?.pause ?? defaults.pause),
  }
}

/**
 * The limits a cluster of `environment` rotates under. Production has its own drain timeout and
 * forced-eviction rules, stricter by default (longer grace period, older pods only, longer pauses)
 * and never looser than the fleet's (see {@link productionLooseness}).
 */
export function rotationLimits(settings: NodeRotationSettings, environment: string): RotationLimits {
  const base = {
    maxSurge: settings.maxSurge,
    maxUnavailable: settings.maxUnavailable,
    statefulRotationsPerMonth: settings.statefulPools.rotationsPerMonth,
  }
  const fleetForced = resolveForced(settings.forcedEviction, DEFAULT_FORCED)
  if (environment !== 'production') {
    return { ...base, drainTimeoutMs: durationMs(settings.drainTimeout), forcedEviction: fleetForced }
  }
  const production = resolveForced(settings.production.forcedEviction, PRODUCTION_FORCED)
  return {
    ...base,
    drainTimeoutMs: Math.max(
      durationMs(settings.production.drainTimeout ?? PRODUCTION_DRAIN_TIMEOUT),
      durationMs(settings.drainTimeout),
    ),
    // Never looser than the fleet's rules, whatever production says (validation reports it).
    forcedEviction: {
      allowed: production.allowed && fleetForced.allowed,
      gracePeriodSeconds: Math.max(production.gracePeriodSeconds, fleetForced.gracePeriodSeconds),
      minPodAgeMs: Math.max(production.minPodAgeMs, fleetForced.minPodAgeMs),
      pauseMs: Math.max(production.pauseMs, fleetForced.pauseMs),
    },
  }
}

/**
 * The production rules that are looser than the fleet's own (`path`, and what to do): production
 * must be at least as strict, so such a setting is a validation error rather than silently raised.
 */
export function productionLooseness(settings: NodeRotationSettings): { path: string; message: string }[] {
  const fleet = resolveForced(settings.forcedEviction, DEFAULT_FORCED)
  const given = settings.production
  const out: { path: string; message: string }[] = []
  const check = (key: 'gracePeriod' | 'minPodAge' | 'pause', ms: number) => {
    const value = given.forcedEviction?.[key]
    if (value !== undefined && durationMs(value) < ms)
      out.push({
        path: `nodeRotation.production.forcedEviction.${key}`,
        message: `${value} is looser than the fleet's ${key} (${ms / 1000}s): production must be at least as strict; raise it or lower the fleet's`,
      })
  }
  check('gracePeriod', fleet.gracePeriodSeconds * 1000)
  check('minPodAge', fleet.minPodAgeMs)
  check('pause', fleet.pauseMs)
  if (given.forcedEviction?.allowed === true && !fleet.allowed)
    out.push({
      path: 'nodeRotation.production.forcedEviction.allowed',
      message:
        'true while the fleet forbids forced evictions: production must be at least as strict; remove it',
    })
  if (given.drainTimeout !== undefined && durationMs(given.drainTimeout) < durationMs(settings.drainTimeout))
    out.push({
      path: 'nodeRotation.production.drainTimeout',
      message: `${given.drainTimeout} is shorter than the fleet's drainTimeout (${settings.drainTimeout}): production must wait at least as long`,
    })
  return out
}
