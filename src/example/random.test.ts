import { describe, expect, test } from 'vitest'
import { createRandom, hashSeed } from './random.ts'

describe('createRandom', () => {
  test('gives the same sequence for the same seed and stream, and another for another', () => {
    const draw = (seed: string | number, stream: string) => {
      const random = createRandom(seed, stream)
      return Array.from({ length: 8 }, () => random.next())
    }
    expect(draw(1, 'accounts')).toEqual(draw('1', 'accounts'))
    expect(draw(1, 'accounts')).not.toEqual(draw(2, 'accounts'))
    expect(draw(1, 'accounts')).not.toEqual(draw(1, 'clusters'))
    expect(hashSeed('1')).toBe(hashSeed(1))
  })

  test('stays within bounds and follows the weights', () => {
    const random = createRandom(1, 'test')
    const ints = Array.from({ length: 2000 }, () => random.int(3, 5))
    expect(new Set(ints)).toEqual(new Set([3, 4, 5]))
    const picks = Array.from({ length: 2000 }, () =>
      random.weighted([
        ['never', 0],
        ['rare', 1],
        ['common', 9],
      ] as const),
    )
    expect(picks).not.toContain('never')
    const rare = picks.filter((p) => p === 'rare').length
    expect(rare).toBeGreaterThan(100)
    expect(rare).toBeLessThan(320)
  })

  test('shuffles a copy, keeping every element', () => {
    const items = [1, 2, 3, 4, 5, 6, 7, 8]
    const shuffled = createRandom(1, 'shuffle').shuffle(items)
    expect(items).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect([...shuffled].sort()).toEqual(items)
    expect(shuffled).not.toEqual(items)
  })
})
