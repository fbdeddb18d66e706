import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { BASE_FILES } from '../../test/support/fixture-fleet.ts'
import { commitFiles, gitFixture } from '../../test/support/git-fixture.ts'
import { NotFoundError } from '../core/errors.ts'
import { loadFleet } from '../core/load/load-fleet.ts'
import { readDirectorySource } from './directory.ts'
import { git, readRevisionSource } from './git.ts'

const changedAccounts = BASE_FILES['inventory/accounts.yaml']!.replace(
  'teapot.example.org',
  'teapot.example.com',
)

describe('reading revisions without a checkout', () => {
  test('loads two revisions side by side, and branches, tags and HEAD~1 resolve', async () => {
    const dir = await gitFixture(BASE_FILES)
    await git(dir, ['tag', 'v1'])
    await commitFiles(dir, { 'inventory/accounts.yaml': changedAccounts }, 'change domain')
    // An uncommitted edit in the working tree must not leak into any revision.
    writeFileSync(join(dir, 'fleet.yaml'), 'not: [valid')

    const [head, previous, tag, branch] = await Promise.all([
      readRevisionSource(dir, 'HEAD'),
      readRevisionSource(dir, 'HEAD~1'),
      readRevisionSource(dir, 'v1'),
      readRevisionSource(dir, 'main'),
    ])
    expect(previous.ref).toMatchObject({ kind: 'revision', ref: 'HEAD~1' })
    expect(tag.ref).toEqual({ ...previous.ref, ref: 'v1' })
    expect(branch.ref).toEqual({ ...head.ref, ref: 'main' })
    expect(head.ref.kind === 'revision' && head.ref.commit).toMatch(/^[0-9a-f]{40}$/)

    const a = loadFleet(head)
    const b = loadFleet(previous)
    if (!a.ok || !b.ok) throw new Error('both revisions should load')
    const domain = (f: typeof a.fleet) => f.accounts.get('111111111111')?.config.dns_domain
    expect(domain(a.fleet)).toBe('teapot.example.com')
    expect(domain(b.fleet)).toBe('teapot.example.org')

    const workingTree = loadFleet(await readDirectorySource(dir))
    expect(workingTree.ok).toBe(false)
  })

  test('an unknown revision is a clear not-found error', async () => {
    const dir = await gitFixture(BASE_FILES)
    await expect(readRevisionSource(dir, 'no-such-branch')).rejects.toThrow(NotFoundError)
    await expect(readRevisionSource(dir, 'no-such-branch')).rejects.toThrow(
      /unknown revision "no-such-branch"/,
    )
  })

  test('a revision argument cannot smuggle in an option', async () => {
    const dir = await gitFixture(BASE_FILES)
    await expect(readRevisionSource(dir, '--output=/tmp/x')).rejects.toThrow(/cannot start with "-"/)
  })

  test('files outside the fleet layout are not read', async () => {
    const dir = await gitFixture({ ...BASE_FILES, 'docs/notes.yaml': 'anything: [' })
    const source = await readRevisionSource(dir, 'HEAD')
    expect([...source.files.keys()]).not.toContain('docs/notes.yaml')
    expect(loadFleet(source).ok).toBe(true)
  })
})
