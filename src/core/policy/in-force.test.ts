import { describe, expect, test } from 'vitest'
import { generateExampleFleet } from '../../example/generate-example.ts'
import { loadFleet } from '../load/load-fleet.ts'
import { memorySource } from '../model/source.ts'
import { timePoliciesInForce } from './in-force.ts'

describe('timePoliciesInForce', () => {
  const loaded = loadFleet(memorySource(generateExampleFleet({ accounts: 20, clusters: 15, seed: '7' })))
  if (!loaded.ok) throw new Error(loaded.errors[0]?.message)
  const names = (at: string) => timePoliciesInForce(loaded.fleet, new Date(at)).map((p) => p.name)

  test("the example's freeze and weekend rule are in force exactly when they would fire", () => {
    expect(names('2026-11-10T10:00:00Z')).toEqual([]) // an ordinary Tuesday
    expect(names('2026-11-14T10:00:00Z')).toEqual(['weekend-production-changes']) // a Saturday
    expect(names('2026-11-24T10:00:00Z')).toEqual(['cyber-week-freeze']) // Cyber Week, a Tuesday
    expect(names('2026-11-28T10:00:00Z')).toEqual(['cyber-week-freeze', 'weekend-production-changes'])
    expect(timePoliciesInForce(loaded.fleet, new Date('2026-11-24T10:00:00Z'))[0]).toEqual({
      name: 'cyber-week-freeze',
      description: 'No production changes during Cyber Week without an approval',
      effect: 'require-approval',
    })
  })
})
