import { useAwsIndexFiles } from '../resource-types/aws-index-files.ts'
import { processIo } from './io.ts'
import { runCli } from './main.ts'

// The process's adapters for core: the AWS resource type index is read from the files checked in.
useAwsIndexFiles()

// The process entry: the only place that decides the exit code. exitCode (not exit()) lets
// piped output drain before the process ends.
// A reader that stops early (`flotilla plan | head`) is not an error of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw error
})

process.exitCode = await runCli(process.argv.slice(2), processIo())
