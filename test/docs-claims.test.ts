/**
 * The documentation speaks of what exists: a feature announced "to come" stays announced long
 * after it came (the rollouts guide said no server ran rollouts months after servers did). What is
 * not built is said in a section named "Not yet", which names the missing part, and nowhere else.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'

const ROOT = new URL('..', import.meta.url).pathname

/** Phrases that promise a feature instead of describing one. */
const PROMISES =
  /\b(?:to come\b(?! back)|coming soon|(?:will|shall) (?:be )?(?:added|built|supported|implemented|available)|in a (?:later|future) (?:version|release)|not (?:built|implemented) yet|\blater, the\b)/i

/** The Markdown files users read: the README and docs/. */
function documents(): string[] {
  return [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`),
  ]
}

/** Lines of `text` that promise something, outside a "Not yet" section. */
function promises(text: string): string[] {
  const found: string[] = []
  let inNotYet = false
  for (const [index, line] of text.split('\n').entries()) {
    if (/^#{1,6} /.test(line)) inNotYet = /^#{1,6} Not yet\b/i.test(line)
    if (!inNotYet && PROMISES.test(line)) found.push(`${index + 1}: ${line.trim()}`)
  }
  return found
}

describe('the documentation', () => {
  test('promises nothing outside a "Not yet" section', () => {
    const found = documents().flatMap((file) =>
      promises(readFileSync(join(ROOT, file), 'utf8')).map((line) => `${file}:${line}`),
    )
    expect(found).toEqual([])
  })

  test('the check finds the ways a promise is written, and leaves "Not yet" sections and other meanings alone', () => {
    expect(promises('Rollouts (to come) run the same code.')).toHaveLength(1)
    expect(promises('Node pools will be supported in a later release.')).toHaveLength(1)
    expect(promises('The metrics are not built yet.')).toHaveLength(1)
    expect(promises('How long the fleet takes to come back.')).toEqual([])
    expect(promises('## Not yet\n\nThis part is not built yet.\n\n## Next\n\nText.')).toEqual([])
    expect(promises('## Not yet\n\nok\n\n## Usage\n\nIt will be added.')).toEqual(['7: It will be added.'])
  })
})
