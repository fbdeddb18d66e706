import { distance } from 'fastest-levenshtein'

/**
 * The candidate closest to `input`, if it is close enough to be what the user meant: an edit
 * distance of at most a third of the word (at least 1, at most 3), ignoring case differences.
 * `Metadpata` → `Metadata`; `foo` → nothing.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase()
  const limit = Math.min(3, Math.max(1, Math.floor(input.length / 3)))
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    if (candidate === input) continue
    const d = distance(needle, candidate.toLowerCase())
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
