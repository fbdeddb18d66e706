/**
 * A small seeded pseudo-random number generator for the example fleet. `Math.random` cannot be
 * seeded, and the example must be reproducible: the same seed gives byte-identical files, so a
 * bug report can say "seed 7" instead of attaching a repository.
 */

/** A deterministic source of random choices. */
export interface Random {
  /** A float in [0, 1). */
  next(): number
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number
  /** True with probability `p`. */
  chance(p: number): boolean
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T
  /** One value, chosen with the given relative weights (they need not sum to 1). */
  weighted<T>(choices: readonly (readonly [T, number])[]): T
  /** A shuffled copy (Fisher–Yates); the input is left alone. */
  shuffle<T>(items: readonly T[]): T[]
}

/**
 * Hashes any seed to 32 bits (FNV-1a over the seed's decimal or string form), so that `1` and
 * `"1"` are the same seed and `"team-a"` is a seed as good as a number.
 */
export function hashSeed(seed: string | number): number {
  let hash = 0x811c9dc5
  for (const char of String(seed)) {
    hash ^= char.codePointAt(0)!
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/**
 * A generator for one concern of the example (`accounts`, `clusters`, …). Each concern draws from
 * its own stream, derived from the seed and the concern's name, so that asking for more clusters
 * leaves every account exactly as it was.
 */
export function createRandom(seed: string | number, stream: string): Random {
  // mulberry32 (Tommy Ettinger, public domain): 32 bits of state, passes the statistical tests
  // that matter for picking names and weights, and is four lines long.
  let state = hashSeed(`${String(seed)}/${stream}`)
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1))
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError('pick() needs at least one item')
      return items[int(0, items.length - 1)]!
    },
    weighted<T>(choices: readonly (readonly [T, number])[]): T {
      const total = choices.reduce((sum, [, weight]) => sum + weight, 0)
      let roll = next() * total
      for (const [value, weight] of choices) {
        roll -= weight
        if (roll < 0) return value
      }
      // Floating-point rounding can leave a sliver past the last weight.
      return choices.at(-1)![0]
    },
    shuffle<T>(items: readonly T[]): T[] {
      const out = [...items]
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i)
        ;[out[i], out[j]] = [out[j]!, out[i]!]
      }
      return out
    },
  }
}
