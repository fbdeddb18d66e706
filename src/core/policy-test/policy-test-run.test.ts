import { describe, expect, test } from 'vitest'
import type { Finding } from '../model/plan.ts'
import { findingMatches, matchFindings } from './policy-test-run.ts'

const finding = (rule: string, effect: Finding['effect'], addresses: string[]): Finding => ({
  rule,
  effect,
  message: `${rule} fired`,
  addresses,
})

describe('findingMatches', () => {
  const actual = finding('protected-destroy', 'require-approval', ['a/1', 'a/2'])

  test('rule and effect must be equal; addresses and count only when the expectation gives them', () => {
    expect(findingMatches({ rule: 'protected-destroy', effect: 'require-approval' }, actual)).toBe(true)
    expect(findingMatches({ rule: 'protected-destroy', effect: 'deny' }, actual)).toBe(false)
    expect(findingMatches({ rule: 'stack-rename', effect: 'require-approval' }, actual)).toBe(false)
    expect(findingMatches({ rule: 'protected-destroy', effect: 'require-approval', count: 2 }, actual)).toBe(
      true,
    )
    expect(findingMatches({ rule: 'protected-destroy', effect: 'require-approval', count: 1 }, actual)).toBe(
      false,
    )
  })

  test('addresses are compared as a set: any order, none missing, none extra', () => {
    const expectAddresses = (addresses: string[]) =>
      findingMatches({ rule: 'protected-destroy', effect: 'require-approval', addresses }, actual)
    expect(expectAddresses(['a/2', 'a/1'])).toBe(true)
    expect(expectAddresses(['a/1'])).toBe(false)
    expect(expectAddresses(['a/1', 'a/2', 'a/3'])).toBe(false)
  })
})

describe('matchFindings', () => {
  test('pairs each expectation with its own finding, even when a vaguer one comes first', () => {
    // Taken first come first served, the vague entry would take a/1's finding and leave the
    // precise one without a match.
    const actual = [finding('freeze', 'warn', ['a/1']), finding('freeze', 'warn', ['b/1'])]
    expect(
      matchFindings(
        [
          { rule: 'freeze', effect: 'warn' },
          { rule: 'freeze', effect: 'warn', addresses: ['a/1'] },
        ],
        actual,
      ),
    ).toEqual({ missing: [], unexpected: [] })
  })

  test('reports expectations without a finding and findings without an expectation', () => {
    const actual = [
      finding('freeze', 'warn', ['a/1']),
      finding('protected-destroy', 'require-approval', ['a/1']),
    ]
    const { missing, unexpected } = matchFindings(
      [
        { rule: 'freeze', effect: 'warn' },
        { rule: 'freeze', effect: 'warn' },
      ],
      actual,
    )
    expect(missing).toEqual([{ rule: 'freeze', effect: 'warn' }])
    expect(unexpected).toEqual([actual[1]])
  })

  test('nothing expected, nothing found: a match', () => {
    expect(matchFindings([], [])).toEqual({ missing: [], unexpected: [] })
  })
})
