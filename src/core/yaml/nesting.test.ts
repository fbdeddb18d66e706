import { describe, expect, test } from 'vitest'
import { Parser } from 'yaml'
import { findTooDeep, MAX_NESTING } from './nesting.ts'

const tooDeep = (text: string, limit?: number) => findTooDeep([...new Parser().parse(text)], limit)

describe('findTooDeep', () => {
  test(`${MAX_NESTING} levels are fine, the next one is too deep, at its start`, () => {
    expect(tooDeep(`${'['.repeat(MAX_NESTING)}${']'.repeat(MAX_NESTING)}`)).toBeUndefined()
    expect(tooDeep(`${'['.repeat(MAX_NESTING + 1)}${']'.repeat(MAX_NESTING + 1)}`)).toBe(MAX_NESTING)
  })

  test.each([
    ['flow lists', (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`],
    ['flow mappings', (n: number) => `${'{a: '.repeat(n)}1${'}'.repeat(n)}`],
    ['block lists', (n: number) => `${'- '.repeat(n)}x\n`],
    [
      'block mappings',
      (n: number) => `${Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} 1\n`,
    ],
    ['keys that are mappings', (n: number) => `${'? '.repeat(n)}x\n`],
    [
      'block lists holding flow lists',
      (n: number) => `${'- '.repeat(n / 2)}${'['.repeat(n / 2)}${']'.repeat(n / 2)}\n`,
    ],
  ])('counts %s', (_name, nest) => {
    expect(tooDeep(nest(10), 10)).toBeUndefined()
    expect(tooDeep(nest(12), 10)).toBeDefined()
  })

  test('finds the first place in document order, in any document', () => {
    const deep = '['.repeat(5)
    const text = `a: 1\n---\nb: ${deep}\nc: ${deep}\n`
    expect(tooDeep(text, 4)).toBe(text.indexOf('b: ') + 3 + 3)
  })

  test('needs no stack on 20,000 levels', () => {
    const started = performance.now()
    expect(tooDeep('['.repeat(20_000))).toBe(MAX_NESTING)
    expect(performance.now() - started).toBeLessThan(10_000)
  })
})
