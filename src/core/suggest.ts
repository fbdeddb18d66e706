import { distance } from 'fastest-levenshtein'

/**
 * The candidate closest to `input`, if it is close enough to be what the user meant: an edit
 * distance of at most `limit` (by default a third of the word, at least 1, at most 3), ignoring
 * case differences.
 * Swapped neighbours count as one edit, the commonest typo of all.
 * `Metadpata` → `Metadata`; `dney` → `deny`; `foo` → nothing.
 */
export function closest(
  input: string,
  candidates: Iterable<string>,
  limit = Math.min(3, Math.max(1, Math.floor(input.length / 3))),
): string | undefined {
  const needle = input.toLowerCase()
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    if (candidate === input) continue
    const lower = candidate.toLowerCase()
    const d = isAdjacentSwap(needle, lower) ? 1 : distance(needle, lower)
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      best = candidate
      bestDistance = d
    }
  }
  return bestDistance <= limit ? best : undefined
}

/** `; did you mean "x"?` when a close candidate exists, else the empty string — for error messages. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const found = closest(input, candidates)
  return found === undefined ? '' : `; did you mean "${found}"?`
}

/** Whether `a` is `b` with two neighbouring characters swapped (`nmae` / `name`). */
function isAdjacentSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  return i < a.length - 1 && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2)
}
