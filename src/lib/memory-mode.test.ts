import { getHeapStatistics } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { favouringMemory } from './memory-mode.ts'

// V8 does not say which flags are set; what it does with them shows. In the memory mode a heap
// full of garbage is collected before it grows far: the heap stays near what is alive.
async function heapAfterGarbage(): Promise<number> {
  let keep: unknown[] = []
  let peak = 0
  for (let round = 0; round < 200; round++) {
    keep = Array.from({ length: 20_000 }, (_, i) => ({ round, i, text: `value ${i}` }))
    peak = Math.max(peak, getHeapStatistics().total_heap_size)
    await new Promise((resolve) => setImmediate(resolve))
  }
  return keep.length > 0 ? peak : 0
}

describe('favouringMemory', () => {
  it('gives back what the work returns or throws, and nests', async () => {
    await expect(favouringMemory(async () => favouringMemory(async () => 42))).resolves.toBe(42)
    await expect(
      favouringMemory(async () => {
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
  })

  it('keeps the heap of a burst of garbage smaller than the default does', async () => {
    const inMode = await favouringMemory(heapAfterGarbage)
    const after = await heapAfterGarbage()
    expect(inMode).toBeLessThan(after)
  })
})
