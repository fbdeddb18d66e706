// Regenerates the checked-in index of AWS resource types under src/core/resource-types/aws/
// from AWS's resource specification (npm run resource-types). Run it after updating
// @aws-cdk/aws-service-spec; src/core/resource-types/aws-index.test.ts fails until then.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec'
import { buildAwsIndex, specOf } from '../src/core/resource-types/aws-index.ts'

const dir = new URL('../src/core/resource-types/aws/', import.meta.url)
const files = buildAwsIndex(specOf(loadAwsServiceSpecSync()))
mkdirSync(dir, { recursive: true })
// A service that left the specification must not leave its file behind.
for (const name of readdirSync(dir)) {
  if (name.endsWith('.json') && !files.has(name)) rmSync(new URL(name, dir))
}
let bytes = 0
for (const [name, text] of files) {
  writeFileSync(new URL(name, dir), text)
  bytes += Buffer.byteLength(text)
}
console.log(`src/core/resource-types/aws/: ${files.size} files, ${Math.round(bytes / 1024)} KiB`)
