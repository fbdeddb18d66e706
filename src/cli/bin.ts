import { processIo } from './io.ts'
import { runCli } from './main.ts'

// The process entry: the only place that decides the exit code. exitCode (not exit()) lets
// piped output drain before the process ends.
process.exitCode = await runCli(process.argv.slice(2), processIo())
