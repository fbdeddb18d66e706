// Regenerates the checked-in JSON Schemas under schema/ (npm run schema).
import { mkdirSync, writeFileSync } from 'node:fs'
import { repositorySchemas, schemaFileText } from '../src/core/model/json-schema.ts'

const dir = new URL('../schema/', import.meta.url)
mkdirSync(dir, { recursive: true })
for (const [file, schema] of Object.entries(repositorySchemas())) {
  writeFileSync(new URL(file, dir), schemaFileText(schema))
  console.log(`schema/${file}`)
}
