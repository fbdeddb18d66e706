import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { repositorySchemas, schemaFileText } from './json-schema.ts'

const dir = new URL('../../../schema/', import.meta.url)

describe('checked-in JSON Schemas', () => {
  const generated = repositorySchemas()

  test.each(Object.keys(generated))('schema/%s is up to date (run "npm run schema" if not)', (file) => {
    expect(readFileSync(new URL(file, dir), 'utf8')).toBe(schemaFileText(generated[file]))
  })

  test('no stale schema files remain', () => {
    const onDisk = readdirSync(dir).filter((f) => f.endsWith('.schema.json') && !f.startsWith('plan'))
    expect(onDisk.sort()).toEqual(Object.keys(generated).sort())
  })

  test('the account schema rejects an unknown key, as the loader does', () => {
    const accounts = generated['accounts.schema.json'] as {
      items: { additionalProperties: unknown; required: string[] }
    }
    expect(accounts.items.additionalProperties).toBe(false)
    expect(accounts.items.required).toEqual(expect.arrayContaining(['id', 'team', 'environment']))
  })
})
