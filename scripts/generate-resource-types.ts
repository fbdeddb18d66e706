// Regenerates the checked-in index of AWS resource types under src/core/resource-types/aws/, and
// the list of stateful types in src/core/resource-types/aws-stateful.ts, from AWS's resource
// specification (npm run resource-types). Run it after updating @aws-cdk/aws-service-spec;
// src/core/resource-types/aws-index.test.ts and stateful-build.test.ts fail until then.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec'
import { buildAwsIndex, specOf } from '../src/core/resource-types/aws-index.ts'
import {
  STATEFUL_TYPES_FILE,
  statefulSourceOf,
  statefulTypesModule,
} from '../src/core/resource-types/stateful-build.ts'

const dir = new URL('../src/core/resource-types/aws/', import.meta.url)
const spec = specOf(loadAwsServiceSpecSync())
const files = buildAwsIndex(spec)
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

const stateful = statefulTypesModule(
  spec,
  statefulSourceOf(createRequire(import.meta.url)('@aws-cdk/aws-service-spec/package.json')),
)
writeFileSync(new URL(`../src/core/resource-types/${STATEFUL_TYPES_FILE}`, import.meta.url), stateful)
console.log(
  `src/core/resource-types/${STATEFUL_TYPES_FILE}: ${stateful.match(/^ {2}'/gm)?.length ?? 0} types`,
)
