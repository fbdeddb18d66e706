/** Small measuring helpers: medians of interleaved runs after a warm-up, and a table printer. */

/**
 * Medians of several functions measured in interleaved rounds (a, b, c, a, b, c, …), so that a
 * burst of load on a noisy machine hits every function alike and their ratios stay meaningful.
 */
export async function interleavedMediansMs<K extends string>(
  fns: Readonly<Record<K, () => unknown>>,
  runs: number,
): Promise<Record<K, number>> {
  const keys = Object.keys(fns) as K[]
  const times = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>
  for (const k of keys) await fns[k]() // warm-up
  for (let i = 0; i < runs; i++) {
    for (const k of keys) {
      const start = performance.now()
      await fns[k]()
      times[k].push(performance.now() - start)
    }
  }
  const out = {} as Record<K, number>
  for (const k of keys) {
    const sorted = times[k].sort((a, b) => a - b)
    out[k] = sorted[Math.floor(sorted.length / 2)]!
  }
  return out
}

/** One row of the benchmark table. */
export interface Row {
  readonly name: string
  readonly value: string
  readonly target: string
  readonly pass?: boolean
}

/** Prints rows as a Markdown table (readable in a terminal and pasteable into an issue). */
export function printTable(title: string, rows: readonly Row[]): void {
  const header = ['benchmark', 'measured', 'target', '']
  const lines = rows.map((r) => [
    r.name,
    r.value,
    r.target,
    r.pass === undefined ? '' : r.pass ? 'ok' : 'MISSED',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  console.log(`\n${title}\n`)
  console.log(row(header))
  console.log(row(widths.map((w) => '-'.repeat(w))))
  for (const l of lines) console.log(row(l))
}

export const ms = (n: number): string => `${n.toFixed(n < 10 ? 2 : 0)} ms`
