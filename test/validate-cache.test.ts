import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { yamlFilesParsed } from '../src/core/yaml/parse.ts'
import { PARSE_CACHE_FOLDER } from '../src/source/parse-store.ts'
import { BASE_FILES, writeFixtureDir } from './support/fixture-fleet.ts'
import { runCaptured } from './support/run-cli.ts'

// A manifest with a warning (a YAML 1.1 boolean) and a stack with an expression error: what
// validate reports must come back from the cache with the same file, line and column.
const WITH_WARNING = {
  ...BASE_FILES,
  'cluster/manifests/ingress/deployment.yaml': `${BASE_FILES['cluster/manifests/ingress/deployment.yaml']}  paused: no\n`,
}
const YAML_FILES = Object.keys(WITH_WARNING).filter((p) => p.endsWith('.yaml')).length

/** Runs `flotilla validate` and counts the YAML files it parsed. */
async function validate(dir: string) {
  const before = yamlFilesParsed()
  const run = await runCaptured(['validate', '--repo', dir])
  return { ...run, parsed: yamlFilesParsed() - before }
}

const cacheDir = (dir: string) => join(dir, '.flotilla', PARSE_CACHE_FOLDER)

describe('the parse cache of validate', () => {
  test('a second validate parses nothing and reports the same, to the column', async () => {
    const dir = writeFixtureDir(WITH_WARNING)
    const first = await validate(dir)
    expect(first.code).toBe(0)
    expect(first.parsed).toBe(YAML_FILES)
    expect(first.stderr).toContain('cluster/manifests/ingress/deployment.yaml:11:11: warning:')
    expect(readdirSync(cacheDir(dir)).filter((n) => n.endsWith('.json'))).toHaveLength(YAML_FILES)

    const second = await validate(dir)
    expect(second.parsed).toBe(0)
    expect(second).toMatchObject({ code: first.code, stdout: first.stdout, stderr: first.stderr })
  })

  test('an edited file is parsed again and its new problems reported where they are', async () => {
    const dir = writeFixtureDir(WITH_WARNING)
    await validate(dir)
    writeFileSync(
      join(dir, 'stacks/dns.yaml'),
      BASE_FILES['stacks/dns.yaml']!.replace('"*.{{ config.dns_domain }}"', '"*.{{ config.dns_domian }}"'),
    )
    const edited = await validate(dir)
    expect(edited.parsed).toBe(1)
    expect(edited.code).toBe(1)
    expect(edited.stderr).toMatch(/stacks\/dns\.yaml:19:\d+: .*dns_domian/)
    // The errors of a broken file are replayed from the cache as well.
    const again = await validate(dir)
    expect(again.parsed).toBe(0)
    expect(again.stderr).toBe(edited.stderr)

    writeFileSync(join(dir, 'fleet.yaml'), 'name: [broken\n')
    const malformed = await validate(dir)
    expect(malformed.parsed).toBe(1)
    expect(malformed.stderr).toMatch(/^fleet\.yaml:2:1: malformed YAML/m)
    expect((await validate(dir)).stderr).toBe(malformed.stderr)
  })

  test('a corrupt or truncated entry is parsed again, never an error', async () => {
    const dir = writeFixtureDir(WITH_WARNING)
    const first = await validate(dir)
    const entries = readdirSync(cacheDir(dir)).filter((n) => n.endsWith('.json'))
    const [garbage, truncated, wrongShape] = entries.map((n) => join(cacheDir(dir), n))
    writeFileSync(garbage!, 'not json at all')
    writeFileSync(truncated!, readFileSync(truncated!, 'utf8').slice(0, 40))
    writeFileSync(wrongShape!, JSON.stringify({ format: 1, file: 'elsewhere.yaml', documents: [] }))
    const after = await validate(dir)
    expect(after.parsed).toBe(3)
    expect(after).toMatchObject({ code: first.code, stdout: first.stdout, stderr: first.stderr })
    // …and the entries are written again, whole.
    expect((await validate(dir)).parsed).toBe(0)
  })

  test('a cache that cannot be written does not fail validate', async () => {
    const dir = writeFixtureDir(WITH_WARNING)
    // A file where the cache's folder would be: nothing can be written under it.
    writeFileSync(join(dir, '.flotilla'), 'in the way')
    const run = await validate(dir)
    expect(run.code).toBe(0)
    expect(run.parsed).toBe(YAML_FILES)
  })
})

describe('flotilla render --target', () => {
  test('prints the target alone, rendered from the cache like validate', async () => {
    const dir = writeFixtureDir(BASE_FILES)
    await validate(dir)
    const before = yamlFilesParsed()
    const run = await runCaptured(['render', '--repo', dir, '--target', 'teapot-prod'])
    expect(run.code).toBe(0)
    expect(yamlFilesParsed() - before).toBe(0)
    expect(run.stdout).toContain('stackName: route53-hostedzones')
  })
})
