import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { ConflictError } from '../core/errors.ts'
import { loadFleet } from '../core/load/load-fleet.ts'
import { git, readRevisionSource } from '../source/git.ts'
import { generateExampleFleet } from './generate-example.ts'
import { writeExampleFleet } from './write-example.ts'

const SMALL = { accounts: 20, clusters: 15, seed: 7 }
const temporary: string[] = []

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-example-'))
  temporary.push(dir)
  return dir
}

afterEach(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function gitText(dir: string, args: string[]): Promise<string> {
  return (await git(dir, args)).toString().trim()
}

describe('writeExampleFleet', () => {
  test('commits the generated files on main, as Flotilla, with the seed in the message', async () => {
    const dir = join(tempDir(), 'fleet')
    const written = await writeExampleFleet(dir, SMALL)
    const generated = generateExampleFleet(SMALL)
    expect(written.files).toBe(generated.size)
    expect(written.commit).toMatch(/^[0-9a-f]{40}$/)
    expect(await gitText(dir, ['rev-parse', 'HEAD^{tree}'])).toBe(written.tree)
    expect(await gitText(dir, ['symbolic-ref', '--short', 'HEAD'])).toBe('main')
    expect(await gitText(dir, ['log', '-1', '--format=%an <%ae>|%cn <%ce>|%s'])).toBe(
      'Flotilla <flotilla@example.invalid>|Flotilla <flotilla@example.invalid>|Example fleet (seed 7)',
    )
    const listed = (await gitText(dir, ['ls-tree', '-r', '--name-only', 'HEAD'])).split('\n')
    expect(listed).toEqual([...generated.keys()])
    expect(await gitText(dir, ['ls-tree', 'HEAD', 'e2e/run.sh'])).toMatch(/^100755 blob /)
    expect(await gitText(dir, ['status', '--porcelain'])).toBe('')
  })

  test('gives the same tree and commit in two directories for the same options', async () => {
    const first = await writeExampleFleet(join(tempDir(), 'a'), SMALL)
    const second = await writeExampleFleet(tempDir(), SMALL) // an existing empty directory is fine
    expect(second).toEqual(first)
    const other = await writeExampleFleet(join(tempDir(), 'c'), { ...SMALL, seed: 8 })
    expect(other.tree).not.toBe(first.tree)
  })

  test('writes a repository that validates from its git revision', async () => {
    const dir = join(tempDir(), 'fleet')
    await writeExampleFleet(dir, SMALL)
    const result = loadFleet(await readRevisionSource(dir, 'HEAD'))
    expect(result.ok ? result.warnings : result.errors).toEqual([])
  })

  test('refuses a directory that is not empty, and leaves it alone', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'notes.txt'), 'mine')
    await expect(writeExampleFleet(dir, SMALL)).rejects.toThrow(ConflictError)
    expect(readdirSync(dir)).toEqual(['notes.txt'])
  })

  test('refuses a path that is a file', async () => {
    const file = join(tempDir(), 'fleet')
    writeFileSync(file, '')
    await expect(writeExampleFleet(file, SMALL)).rejects.toThrow(/is a file/)
  })

  test('checks the options before writing anything', async () => {
    const dir = join(tempDir(), 'fleet')
    mkdirSync(dir)
    await expect(writeExampleFleet(dir, { accounts: 3 })).rejects.toThrow(/--accounts/)
    expect(readdirSync(dir)).toEqual([])
  })
})
