import { describe, expect, test } from 'vitest'
import { BASE_FILES, fixtureSource, writeFixtureDir } from '../../../test/support/fixture-fleet.ts'
import { commitFiles, gitFixture } from '../../../test/support/git-fixture.ts'
import { errorsFor } from '../../../test/support/load-fleet-helpers.ts'
import { readDirectorySource } from '../../source/directory.ts'
import { readRevisionSource } from '../../source/git.ts'
import { formatDiagnostic } from '../diagnostics.ts'
import { loadFleet } from './load-fleet.ts'

describe('top-level entries that look like part of the repository', () => {
  test.each([
    ['polices/freeze.yaml', 'polices/', 'policies/'],
    ['policy/freeze.yaml', 'policy/', 'policies/'],
    ['stack/vpc.yaml', 'stack/', 'stacks/'],
    ['Stacks/vpc.yaml', 'Stacks/', 'stacks/'],
    ['accounts.yaml', 'accounts.yaml', 'inventory/accounts.yaml'],
    ['acounts.yaml', 'acounts.yaml', 'inventory/accounts.yaml'],
    ['rolout.yml', 'rolout.yml', 'rollout.yaml'],
    ['manifests/dns/a.yaml', 'manifests/', 'cluster/manifests/'],
  ])('%s is an error, not silently ignored', (path, entry, meant) => {
    expect(errorsFor({ [path]: '- name: x\n' })).toEqual([
      `${entry}:1:1: Flotilla does not read ${entry}; did you mean ${meant}? Rename or move it (as it is, it is ignored)`,
    ])
  })

  test('unrelated top-level files and folders are left alone', () => {
    const result = loadFleet(
      fixtureSource({
        'docs/notes.yaml': 'x: [',
        'e2e/run.sh': 'exit 0',
        'README.md': '#',
        'catalog-info.yaml': 'a: 1',
      }),
    )
    expect(result.ok ? [] : result.errors.map(formatDiagnostic)).toEqual([])
  })

  test('directories and revisions report their top-level entries alike', async () => {
    const files = { ...BASE_FILES, 'polices/freeze.yaml': '[]\n', 'README.md': '#\n' }
    const fromDir = await readDirectorySource(writeFixtureDir(files))
    const repo = await gitFixture(files)
    await commitFiles(repo, { 'README.md': '# changed\n' }, 'touch')
    const fromRev = await readRevisionSource(repo, 'HEAD')
    expect(fromDir.topLevel).toEqual(fromRev.topLevel)
    expect(fromRev.topLevel).toEqual(
      expect.arrayContaining(['polices/', 'README.md', 'fleet.yaml', 'stacks/']),
    )
    const result = loadFleet(fromRev)
    expect(result.ok).toBe(false)
  })
})

describe('file and folder names', () => {
  test.each([
    [
      'an invisible character in a stack',
      'stacks/v\u200bpc.yaml',
      'the path contains invisible character U+200B (zero-width space); rename the file or folder',
    ],
    [
      'a look-alike letter in a component folder',
      'cluster/manifests/corеdns/a.yaml',
      'in the path, "corеdns" mixes Latin and Cyrillic: U+0435 is Cyrillic and looks like "e"; rename the file or folder',
    ],
    [
      'a no-break space in a policy test',
      'policies/tests/a\u00a0b.yaml',
      'the path contains unusual space U+00A0 (no-break space); rename the file or folder',
    ],
  ])('%s is an error, and the file is not read', (_name, path, message) => {
    expect(errorsFor({ [path]: 'a: 1\n' })).toEqual([`${path}:1:1: ${message}`])
  })

  test('names in one script are fine', () => {
    // A policy file may be empty, and its name is free.
    const result = loadFleet(fixtureSource({ 'policies/заморозка.yaml': '', 'policies/凍結.yaml': '' }))
    expect(result.ok ? [] : result.errors.map(formatDiagnostic)).toEqual([])
  })
})
