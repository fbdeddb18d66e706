import { describe, expect, test } from 'vitest'
import { diffValues, formatPath } from './value-diff.ts'

describe('diffValues', () => {
  test('finds leaf differences in mappings and lists, in a stable order', () => {
    const before = { b: 1, a: { x: [1, 2, 3], y: 'same' }, gone: true }
    const after = { a: { x: [1, 5], y: 'same' }, b: 1, added: 'new' }
    expect(diffValues(before, after)).toEqual([
      { path: ['a', 'x', 1], before: 2, after: 5 },
      { path: ['a', 'x', 2], before: 3, after: undefined },
      { path: ['added'], before: undefined, after: 'new' },
      { path: ['gone'], before: true, after: undefined },
    ])
  })

  test('a change of kind is one difference at that path', () => {
    expect(diffValues({ a: 'text' }, { a: ['list'] })).toEqual([
      { path: ['a'], before: 'text', after: ['list'] },
    ])
  })

  test('equal values, also when not the same object, differ in nothing', () => {
    expect(diffValues({ a: [{ b: 1 }] }, { a: [{ b: 1 }] })).toEqual([])
  })
})

describe('formatPath', () => {
  test('reads like the template: dots, indexes, and quoted keys that are not identifiers', () => {
    expect(formatPath(['Tags', 0, 'Value'])).toBe('Tags[0].Value')
    expect(formatPath(['metadata', 'labels', 'app.kubernetes.io/name'])).toBe(
      'metadata.labels["app.kubernetes.io/name"]',
    )
    expect(formatPath(['Fn::Sub'])).toBe('Fn::Sub')
  })
})
