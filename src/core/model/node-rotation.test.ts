import { describe, expect, test } from 'vitest'
import { fleetSettingsSchema } from './fleet.ts'
import { type NodeRotationSettings, nodeRotationSchema, rotationLimits } from './node-rotation.ts'

const settings = (input: unknown): NodeRotationSettings => nodeRotationSchema.parse(input)

/** The issues of an invalid `nodeRotation`, as path and message. */
function issues(input: unknown): { path: PropertyKey[]; message: string }[] {
  const result = nodeRotationSchema.safeParse(input)
  if (result.success) return []
  return result.error.issues.map((i) => ({ path: i.path, message: i.message }))
}

describe('nodeRotationSchema', () => {
  test('defaults every setting when nodeRotation is absent', () => {
    expect(nodeRotationSchema.parse(undefined)).toEqual({
      maxSurge: 1,
      maxUnavailable: 1,
      drainTimeout: '15m',
      forcedEviction: {},
      production: {},
      statefulPools: { rotationsPerMonth: 1 },
    })
  })

  test('rejects a production minPodAge, gracePeriod or pause shorter than the fleet’s', () => {
    expect(issues({ production: { forcedEviction: { minPodAge: '5m' } } })).toEqual([
      {
        path: ['production', 'forcedEviction', 'minPodAge'],
        message:
          "5m is looser than the fleet's minPodAge (600s): production must be at least as strict; raise it or lower the fleet's",
      },
    ])
    expect(
      issues({
        forcedEviction: { gracePeriod: '1m', pause: '2m' },
        production: { forcedEviction: { gracePeriod: '30s', pause: '90s' } },
      }),
    ).toEqual([
      {
        path: ['production', 'forcedEviction', 'gracePeriod'],
        message:
          "30s is looser than the fleet's gracePeriod (60s): production must be at least as strict; raise it or lower the fleet's",
      },
      {
        path: ['production', 'forcedEviction', 'pause'],
        message:
          "90s is looser than the fleet's pause (120s): production must be at least as strict; raise it or lower the fleet's",
      },
    ])
  })

  test('rejects production allowing forced evictions the fleet forbids', () => {
    expect(
      issues({ forcedEviction: { allowed: false }, production: { forcedEviction: { allowed: true } } }),
    ).toEqual([
      {
        path: ['production', 'forcedEviction', 'allowed'],
        message:
          'true while the fleet forbids forced evictions: production must be at least as strict; remove it',
      },
    ])
  })

  test('rejects a production drainTimeout shorter than the fleet’s', () => {
    expect(issues({ drainTimeout: '30m', production: { drainTimeout: '20m' } })).toEqual([
      {
        path: ['production', 'drainTimeout'],
        message: "20m is shorter than the fleet's drainTimeout (30m): production must wait at least as long",
      },
    ])
  })

  test('accepts production rules as strict as the fleet’s or stricter, however written', () => {
    expect(
      issues({
        drainTimeout: '30m',
        forcedEviction: { minPodAge: '10m', allowed: true },
        production: {
          drainTimeout: '1800s',
          forcedEviction: { minPodAge: '600s', pause: '1h', allowed: false },
        },
      }),
    ).toEqual([])
  })

  test('reports the path under nodeRotation in fleet.yaml', () => {
    const result = fleetSettingsSchema.safeParse({
      apiVersion: 'flotilla/v1',
      name: 'acme',
      nodeRotation: { production: { forcedEviction: { pause: '10s' } } },
    })
    expect(result.success).toBe(false)
    expect(result.error?.issues.map((i) => i.path)).toEqual([
      ['nodeRotation', 'production', 'forcedEviction', 'pause'],
    ])
  })
})

describe('rotationLimits', () => {
  test('outside production: the fleet’s settings, with the default forced-eviction rules', () => {
    expect(rotationLimits(settings({}), 'staging')).toEqual({
      maxSurge: 1,
      maxUnavailable: 1,
      drainTimeoutMs: 15 * 60_000,
      forcedEviction: { allowed: true, gracePeriodSeconds: 30, minPodAgeMs: 10 * 60_000, pauseMs: 60_000 },
      statefulRotationsPerMonth: 1,
    })
    const custom = settings({
      maxSurge: 3,
      maxUnavailable: 2,
      drainTimeout: '5m',
      forcedEviction: { allowed: false, gracePeriod: '10s' },
      statefulPools: { rotationsPerMonth: 4 },
    })
    expect(rotationLimits(custom, 'test')).toEqual({
      maxSurge: 3,
      maxUnavailable: 2,
      drainTimeoutMs: 5 * 60_000,
      forcedEviction: { allowed: false, gracePeriodSeconds: 10, minPodAgeMs: 10 * 60_000, pauseMs: 60_000 },
      statefulRotationsPerMonth: 4,
    })
  })

  test('production: stricter defaults', () => {
    expect(rotationLimits(settings({}), 'production')).toEqual({
      maxSurge: 1,
      maxUnavailable: 1,
      drainTimeoutMs: 60 * 60_000,
      forcedEviction: {
        allowed: true,
        gracePeriodSeconds: 120,
        minPodAgeMs: 60 * 60_000,
        pauseMs: 5 * 60_000,
      },
      statefulRotationsPerMonth: 1,
    })
  })

  test('production: its own settings where given', () => {
    const given = settings({
      production: {
        drainTimeout: '2h',
        forcedEviction: { allowed: false, gracePeriod: '5m', minPodAge: '3h', pause: '15m' },
      },
    })
    expect(rotationLimits(given, 'production')).toMatchObject({
      drainTimeoutMs: 2 * 3_600_000,
      forcedEviction: {
        allowed: false,
        gracePeriodSeconds: 300,
        minPodAgeMs: 3 * 3_600_000,
        pauseMs: 15 * 60_000,
      },
    })
  })

  test('production: never looser than the fleet, even than a fleet stricter than the production defaults', () => {
    const strictFleet = settings({
      drainTimeout: '3h',
      forcedEviction: { allowed: false, gracePeriod: '10m', minPodAge: '2h', pause: '30m' },
    })
    expect(rotationLimits(strictFleet, 'production')).toMatchObject({
      drainTimeoutMs: 3 * 3_600_000,
      forcedEviction: {
        allowed: false,
        gracePeriodSeconds: 600,
        minPodAgeMs: 2 * 3_600_000,
        pauseMs: 30 * 60_000,
      },
    })
  })

  test('production: never looser than the fleet, even from settings that skipped validation', () => {
    const base = settings({ forcedEviction: { allowed: false, minPodAge: '2h' } })
    const loose: NodeRotationSettings = {
      ...base,
      production: { drainTimeout: '1m', forcedEviction: { allowed: true, minPodAge: '1m', pause: '1s' } },
    }
    expect(rotationLimits(loose, 'production')).toEqual({
      ...rotationLimits(base, 'production'),
      // Raised to the fleet's own rules, not to the production defaults (grace period: production's default).
      forcedEviction: {
        allowed: false,
        gracePeriodSeconds: 120,
        minPodAgeMs: 2 * 3_600_000,
        pauseMs: 60_000,
      },
      drainTimeoutMs: 15 * 60_000,
    })
  })
})
