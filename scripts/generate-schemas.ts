// Regenerates the checked-in JSON Schemas under schema/ (npm run schema).
import { mkdirSync, writeFileSync } from 'node:fs'
import { repositorySchemas, schemaFileText } from '../src/core/model/json-schema.ts'
import { planJsonSchema } from '../src/core/plan/plan-schema.ts'

const dir = new URL('../schema/', import.meta.url)
mkdirSync(dir, { recursive: true })
const schemas = { ...repositorySchemas(), 'plan.schema.json': planJsonSchema() }
for (const [file, schema] of Object.entries(schemas)) {
  writeFileSync(new URL(file, dir), schemaFileText(schema))
  console.log(`schema/${file}`)
}
