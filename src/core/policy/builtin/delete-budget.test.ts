import { describe, expect, test } from 'vitest'
import { commonPattern } from './delete-budget.ts'

describe('commonPattern', () => {
  test('keeps the segments every address shares and stars the rest', () => {
    expect(
      commonPattern([
        '111111111111/global/dns/HostedZone',
        '222222222222/global/dns/HostedZone',
        '333333333333/global/dns/Certificate',
      ]),
    ).toBe('*/global/dns/*')
    expect(commonPattern(['a/b/c'])).toBe('a/b/c')
  })
})
