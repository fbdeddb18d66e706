import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { formatDiagnostic } from '../core/diagnostics.ts'
import { FlotillaError, InputError } from '../core/errors.ts'
import { initCommand } from './commands/init.ts'
import { planCommand } from './commands/plan.ts'
import { POLICY_TEST_FORMATS, policyTestCommand } from './commands/policy-test.ts'
import { renderCommand } from './commands/render.ts'
import { validateCommand } from './commands/validate.ts'
import { type CliIo, FORMATS } from './io.ts'

/** Exit codes of `cli.md`. */
export const EXIT = { ok: 0, user: 1, planChanges: 2, denied: 3, internal: 4, waitingApproval: 5 } as const

function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number (0 or more)')
  return n
}

/** Collects a repeatable option's values. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

const repoOption = () =>
  new Option('--repo <dir>', 'fleet repository directory').default('.', 'the current directory')
const formatOption = () => new Option('--format <format>', 'output format').choices(FORMATS).default('text')

/** Builds the `flotilla` program; `run` receives each command's exit code. */
export function buildProgram(io: CliIo, run: (code: Promise<number>) => void): Command {
  const program = new Command('flotilla')
    .description(
      'Flotilla: a control plane for fleets of cloud accounts and Kubernetes clusters.\nValidates and renders a fleet repository at any git revision, and plans changes\nacross the fleet against its safety rules and deployment policy.',
    )
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()

  program
    .command('init')
    .description('create a fleet repository (git init + first commit)')
    .argument('<dir>', 'directory to create (must be empty or absent)')
    .option('--example', 'generate a realistic example fleet instead of an empty skeleton')
    .option('--accounts <n>', 'accounts in the example (default: 300)', positiveInt)
    .option('--clusters <n>', 'clusters in the example (default: 250)', positiveInt)
    .option('--seed <seed>', 'seed of the example; the same seed gives the same repository (default: "1")')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((dir: string, options) => run(initCommand({ dir, ...options }, io)))

  program
    .command('validate')
    .description(
      'load and check everything; print every problem as file:line:col: message (exit 1 on errors)',
    )
    .addOption(repoOption())
    .option('--rev <rev>', 'git revision to read (commit, branch, tag, HEAD~1); default: the working tree')
    .addOption(formatOption())
    .action((options) => run(validateCommand(options, io)))

  program
    .command('render')
    .description("print a target's rendered desired state (stacks or manifests) as YAML")
    .requiredOption('--target <id>', 'account id or name, cluster id or alias')
    .addOption(repoOption())
    .option('--rev <rev>', 'git revision to read; default: the working tree')
    .addOption(
      new Option('--format <format>', 'output format (text is YAML)')
        .choices(['text', 'json'])
        .default('text'),
    )
    .action((options) => run(renderCommand(options, io)))

  program
    .command('plan')
    .description(
      'preview every change from --base to --head across the fleet (exit 0 no changes, 2 allowed, 3 denied or needing approval)',
    )
    .addOption(repoOption())
    .option('--base <rev>', 'git revision to compare against (e.g. origin/main)')
    .option('--head <rev>', 'git revision to plan; default: the working tree')
    .option(
      '--target <cel>',
      'plan only the targets this CEL expression selects, e.g. "target.environment == \'production\'"',
    )
    .addOption(
      new Option('--approve <approval>', 'approve an address, or "PATTERN (expected N)" (repeatable)')
        .argParser(collect)
        .default([], 'none'),
    )
    .option('--approvals <file>', 'a YAML list of approvals')
    .option('--now <time>', 'the time policies see as now, in ISO 8601 (e.g. 2026-11-27T09:00:00Z)')
    .addOption(formatOption())
    .action((options) => run(planCommand(options, io)))

  const policy = program.command('policy').description('deployment policy (policies/*.yaml)')
  policy
    .command('test')
    .description(
      'run the policy tests of policies/tests/*.yaml: small plans and the findings expected of them (exit 1 if any fails)',
    )
    .addOption(repoOption())
    .option('--rev <rev>', 'git revision to read; default: the working tree')
    .addOption(new Option('--format <format>', 'output format').choices(POLICY_TEST_FORMATS).default('text'))
    .action((options) => run(policyTestCommand(options, io)))

  return program
}

/**
 * Runs the CLI and resolves to the exit code. User errors print their message (and every
 * diagnostic) without a stack trace; anything else is a bug, reported with a short id and the
 * details written to a log file.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let pending: Promise<number> | undefined
  const program = buildProgram(io, (code) => {
    pending = code
  })
  try {
    await program.parseAsync(argv as string[], { from: 'user' })
    return pending === undefined ? EXIT.ok : await pending
  } catch (error) {
    return reportError(error, io)
  }
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? EXIT.ok : EXIT.user
  }
  if (error instanceof InputError && error.diagnostics.length > 0) {
    for (const d of error.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`)
    io.stderr(`${error.message.split('\n')[0]}\n`)
    return EXIT.user
  }
  if (error instanceof FlotillaError) {
    io.stderr(`error: ${error.message}\n`)
    return error.kind === 'policy' ? EXIT.denied : EXIT.user
  }
  const id = randomBytes(4).toString('hex')
  const log = join(tmpdir(), `flotilla-error-${id}.log`)
  try {
    writeFileSync(log, `${(error as Error)?.stack ?? String(error)}\n`)
  } catch {
    // The report below still names the error; a log that cannot be written must not hide it.
  }
  io.stderr(
    `internal error ${id}: ${(error as Error)?.message ?? String(error)}\nThis is a bug in Flotilla; details are in ${log}\n`,
  )
  return EXIT.internal
}
