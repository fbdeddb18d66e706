import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'

const COPY = new URL('./fixtures/corpus/', import.meta.url)
// The shared corpus sits next to the project on a developer machine; a clone elsewhere has only the copy.
const ORIGINAL = new URL('../../shared/corpus/', import.meta.url)

function listFiles(root: URL, dir = ''): string[] {
  return readdirSync(new URL(dir, root), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(root, `${dir}${e.name}/`) : [`${dir}${e.name}`],
  )
}

describe('the copy of the shared corpus', () => {
  test.runIf(existsSync(ORIGINAL))('is byte-for-byte the original (never edited)', () => {
    const files = listFiles(ORIGINAL).sort()
    expect(listFiles(COPY).sort()).toEqual(files)
    for (const file of files) {
      expect(readFileSync(new URL(file, COPY)).equals(readFileSync(new URL(file, ORIGINAL))), file).toBe(true)
    }
  })

  test('keeps the provenance and licenses that travel with the files', () => {
    expect(readFileSync(new URL('SOURCES.md', COPY), 'utf8')).toMatch(/Never edit these\s+files/)
    expect(listFiles(COPY)).toEqual(expect.arrayContaining(['LICENSES/Apache-2.0.txt', 'LICENSES/MIT-0.txt']))
  })
})
