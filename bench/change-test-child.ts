// Runs `flotilla test` once, in this fresh process, as the command line does, and prints its wall
// time and the report's verdict. Arguments: the fleet repository, the base, the head, `now`.

import { runCli } from '../src/cli/main.ts'
import { useAwsIndexFiles } from '../src/resource-types/aws-index-files.ts'

useAwsIndexFiles()

const [repo, base, head, now] = process.argv.slice(2) as [string, string, string, string]
let report = ''
const start = performance.now()
const code = await runCli(
  ['test', '--repo', repo, '--base', base, '--head', head, '--now', now, '--format', 'json'],
  {
    stdout: (text) => {
      report += text
    },
    stderr: () => {},
    isTTY: false,
    cwd: process.cwd(),
  },
)
const ms = performance.now() - start
const { verdict, targets } = JSON.parse(report) as { verdict: string; targets: unknown[] }
console.log(JSON.stringify({ code, verdict, targets: targets.length, ms }))
