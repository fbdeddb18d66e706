import { resolve } from 'node:path'
import { runChangeTest } from '../../change-test/change-test.ts'
import { testMarkdown, testText } from '../../change-test/test-report.ts'
import type { TestOptions } from '../declarations.ts'
import { parseNow } from '../inputs.ts'
import type { CliIo } from '../io.ts'

/**
 * `flotilla test`: a change tried as an upgrade in an ephemeral simulated fleet (see
 * `src/change-test/change-test.ts`). Exit 0 when it passed (or changes nothing), 3 when it failed.
 */
export async function testCommand(options: TestOptions, io: CliIo): Promise<number> {
  const report = await runChangeTest({
    repo: resolve(io.cwd, options.repo ?? '.'),
    base: options.base,
    head: options.head,
    ...(options.now === undefined ? {} : { now: parseNow(options.now) }),
    // Progress goes to stderr, so that the JSON or markdown on stdout stays one document.
    progress: (line) => io.stderr(`${line}\n`),
  })
  if (options.format === 'json') io.stdout(`${JSON.stringify(report, null, 2)}\n`)
  else if (options.format === 'markdown') io.stdout(testMarkdown(report))
  else io.stdout(testText(report))
  return report.verdict === 'failed' ? 3 : 0
}
