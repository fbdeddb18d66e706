// Runs the full pipeline once in a fresh process and prints its peak memory, so the figure is
// the pipeline's own and not the benchmark runner's.
import { fullPipeline } from './load-pipeline.ts'

const repo = process.argv[2]!
const start = performance.now()
const targets = await fullPipeline(repo)
const elapsed = performance.now() - start
console.log(JSON.stringify({ targets, ms: elapsed, maxRssBytes: process.resourceUsage().maxRSS * 1024 }))
