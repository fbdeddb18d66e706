import { describe, expect, test } from 'vitest'
import { isKnownAwsResourceType } from './aws.ts'
import { AWS_STATEFUL_TYPES } from './aws-stateful.ts'
import { STATEFUL_SUPPLEMENT } from './stateful-supplement.ts'

describe('the reviewed supplement of stateful types', () => {
  test('stays small', () => {
    expect(STATEFUL_SUPPLEMENT.length).toBeLessThanOrEqual(10)
  })

  test.each(STATEFUL_SUPPLEMENT.map((entry) => [entry.type, entry] as const))(
    '%s: a type of the resource index, with a reason, and not (yet) in the generated list',
    (type, entry) => {
      expect(isKnownAwsResourceType(type), `${type} is not an AWS resource type: a typo?`).toBe(true)
      expect(entry.reason.length, `${type} needs its reason`).toBeGreaterThan(30)
      expect(
        AWS_STATEFUL_TYPES,
        `the source now lists ${type}: remove it from stateful-supplement.ts`,
      ).not.toContain(type)
    },
  )

  test('is sorted and has each type once', () => {
    const types = STATEFUL_SUPPLEMENT.map((entry) => entry.type)
    expect(new Set(types).size).toBe(types.length)
    expect([...types].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(types)
  })
})
