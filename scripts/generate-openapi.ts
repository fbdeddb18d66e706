// Writes schema/openapi.json: the API's OpenAPI document, as the server serves it at /api/openapi.json.
import { writeFileSync } from 'node:fs'
import { openApiDocument } from '../src/server/openapi.ts'

writeFileSync(
  new URL('../schema/openapi.json', import.meta.url),
  `${JSON.stringify(openApiDocument(), null, 2)}\n`,
)
