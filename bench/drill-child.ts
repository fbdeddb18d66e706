// Runs `flotilla drill` once, in this fresh process, as the command line does, and prints what it
// took: its wall time (from the command's start) and the process's peak memory, so the figures
// are the drill's own and not the benchmark runner's. Arguments: the fleet repository, `now`.

import { runCli } from '../src/cli/main.ts'
import { useAwsIndexFiles } from '../src/resource-types/aws-index-files.ts'

useAwsIndexFiles()

const [repo, now] = process.argv.slice(2) as [string, string]
let report = ''
const start = performance.now()
const code = await runCli(['drill', '--repo', repo, '--now', now, '--format', 'json'], {
  stdout: (text) => {
    report += text
  },
  stderr: () => {},
  isTTY: false,
  cwd: process.cwd(),
})
const ms = performance.now() - start
const scenarios = (JSON.parse(report) as { scenarios: unknown[] }).scenarios.length
console.log(JSON.stringify({ code, scenarios, ms, maxRssBytes: process.resourceUsage().maxRSS * 1024 }))
