// Runs one pipeline once in a fresh process and prints its peak memory, so the figure is the
// pipeline's own and not the benchmark runner's. Modes: validate (default) or plan (needs a branch).

import { useAwsIndexFiles } from '../src/resource-types/aws-index-files.ts'
import { fullPipeline } from './load-pipeline.ts'
import { offlinePlan } from './plan-pipeline.ts'

useAwsIndexFiles()

const [repo, mode = 'validate', branch = ''] = process.argv.slice(2) as [string, string?, string?]
const start = performance.now()
const result =
  mode === 'plan' ? (await offlinePlan(repo, branch)).summary.targetsChanged : await fullPipeline(repo)
const elapsed = performance.now() - start
console.log(JSON.stringify({ result, ms: elapsed, maxRssBytes: process.resourceUsage().maxRSS * 1024 }))
