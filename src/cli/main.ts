import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { formatDiagnostic } from '../core/diagnostics.ts'
import { FlotillaError, InputError } from '../core/errors.ts'
import { ProviderError } from '../core/provider/port.ts'
import { SCENARIO_NAMES } from '../drill/scenarios.ts'
import { applyCommand } from './commands/apply.ts'
import { drillCommand } from './commands/drill.ts'
import { initCommand } from './commands/init.ts'
import { planCommand } from './commands/plan.ts'
import { POLICY_TEST_FORMATS, policyTestCommand } from './commands/policy-test.ts'
import { renderCommand } from './commands/render.ts'
import {
  rolloutControlCommand,
  rolloutStartCommand,
  rolloutStatusCommand,
  stopCommand,
  unstopCommand,
} from './commands/rollout.ts'
import { serveCommand } from './commands/serve.ts'
import {
  simFaultCommand,
  simImageCommand,
  simResetCommand,
  simServeCommand,
  simSettingsCommand,
  simStatusCommand,
} from './commands/sim.ts'
import { restoreCommand, snapshotsCommand } from './commands/snapshots.ts'
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
const textJsonOption = () =>
  new Option('--format <format>', 'output format').choices(['text', 'json']).default('text')
const dataOption = () =>
  new Option(
    '--data <dir>',
    'where the embedded store keeps its data (ignored when FLOTILLA_DATABASE_URL is set)',
  ).default(undefined, '<repo>/.flotilla')

/** `--metrics-port`: where a `--wait` serves the engine's Prometheus metrics. */
function metricsPortOption(): Option {
  return new Option(
    '--metrics-port <port>',
    "with --wait: serve the rollout engine's Prometheus metrics on http://127.0.0.1:PORT/metrics while it runs",
  ).argParser(port)
}

function port(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('expected a TCP port, 1 to 65535 (or 0 for any free one)')
  return n
}

function seconds(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds above 0')
  return n
}

const FAULT_HELP =
  'api-errors | throttling (with --rate), latency (with --latency-ms), region-outage (with --region), stuck-stack, resource-failure, drift (once, needs --target), surprise-replacement'

/** Builds the `flotilla` program; `run` receives each command's exit code. */
export function buildProgram(io: CliIo, run: (code: Promise<number>) => void): Command {
  const program = new Command('flotilla')
    .description(
      'Flotilla: a control plane for fleets of cloud accounts and Kubernetes clusters.\nValidates and renders a fleet repository at any git revision, plans changes across\nthe fleet (against a revision or the observed fleet) with its safety rules and\ndeployment policy, and applies them through providers, starting with the simulated fleet.',
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
    .option(
      '--evaluated',
      "show each stack as CloudFormation will create it for this account and region: conditions' values, resources whose condition is false left out, Fn::If, Fn::FindInMap, Fn::Sub, Fn::Join, Ref to parameters resolved (what is known only at deploy time stays a function)",
    )
    .addOption(
      new Option('--format <format>', 'output format (text is YAML)')
        .choices(['text', 'json'])
        .default('text'),
    )
    .action((options) => run(renderCommand(options, io)))

  program
    .command('plan')
    .description(
      'preview every change from --base (or, without it, from the observed fleet) to --head across the fleet (exit 0 no changes, 2 allowed, 3 denied or needing approval)',
    )
    .addOption(repoOption())
    .option(
      '--base <rev>',
      'git revision to compare against (e.g. origin/main); default: the fleet as the providers observe it, with drift reported',
    )
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
    .option(
      '--cloud-preview',
      "also ask the cloud: a CloudFormation change set per changed stack of accounts on provider aws, read and deleted, never executed; what the cloud says is shown with each change, and a disagreement with Flotilla's prediction is a finding (not with --base)",
    )
    .addOption(
      new Option(
        '--preview-concurrency <n>',
        'change sets worked on at once across the fleet (--cloud-preview)',
      )
        .argParser(positiveInt)
        .default(8),
    )
    .addOption(formatOption())
    .addOption(dataOption())
    .action((options) => run(planCommand(options, io)))

  program
    .command('apply')
    .description(
      'plan one target against its observed state and, if the plan is allowed, apply it through its provider (exit 0 applied or up to date, 3 denied, needing approval or failed); fleet-wide changes go through rollouts',
    )
    .requiredOption('--target <id>', 'account id or name, cluster id or alias')
    .addOption(repoOption())
    .option('--rev <rev>', 'git revision to apply; default: the working tree')
    .addOption(
      new Option('--approve <approval>', 'approve an address, or "PATTERN (expected N)" (repeatable)')
        .argParser(collect)
        .default([], 'none'),
    )
    .option('--approvals <file>', 'a YAML list of approvals')
    .option('--now <time>', 'the time policies see as now, in ISO 8601')
    .option('--timeout <seconds>', 'give up waiting for the target to settle (default: 1800)', seconds)
    .addOption(textJsonOption())
    .addOption(dataOption())
    .action((options) => run(applyCommand(options, io)))

  const rollout = program
    .command('rollout')
    .description('staged rollouts of a revision through the stages and waves of rollout.yaml')
  rollout
    .command('start')
    .description(
      'plan a commit against the observed fleet and, if allowed, start rolling it out (with --wait: run it here; exit 0 succeeded, 5 waiting for an approval, 3 anything else: halted, rolled back, aborted, paused)',
    )
    .option('--rev <rev>', 'the git revision to roll out (default: HEAD)')
    .addOption(
      new Option('--approve <approval>', 'approve an address, or "PATTERN (expected N)" (repeatable)')
        .argParser(collect)
        .default([], 'none'),
    )
    .option('--approvals <file>', 'a YAML list of approvals')
    .option('--now <time>', 'the time policies see as now, in ISO 8601')
    .option('--wait', 'run the rollout in this process until it ends or waits for an approval')
    .addOption(metricsPortOption())
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .action((options) => run(rolloutStartCommand(options, io)))
  rollout
    .command('status')
    .description('show a rollout (the latest by default): stages, waves, targets, gates, why it halted')
    .argument('[id]', 'rollout id')
    .option(
      '--follow',
      'print its events as they happen until it ends, then its status (exit 0 succeeded, 3 otherwise)',
    )
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .action((id: string | undefined, options) => run(rolloutStatusCommand(id, options, io)))
  for (const [action, help] of [
    ['pause', 'pause a rollout: targets under way finish, no new one starts'],
    ['resume', 'resume a paused rollout (or continue one whose process died); --wait runs it here'],
    ['abort', 'abort a rollout: nothing more is applied, nothing is rolled back'],
    ['approve', "approve the stage a rollout waits for (not by the rollout's author)"],
    ['retry', 'give a failed target another attempt'],
    ['skip', 'skip a failed target'],
  ] as const) {
    rollout
      .command(action)
      .description(help)
      .argument('<id>', 'rollout id')
      .argument(action === 'retry' || action === 'skip' ? '<target>' : '[target]', 'target id (retry, skip)')
      .option('--wait', 'then run the rollout in this process until it ends or waits')
      .addOption(metricsPortOption())
      .addOption(repoOption())
      .addOption(textJsonOption())
      .addOption(dataOption())
      .action((id: string, target: string | undefined, options) =>
        run(rolloutControlCommand(action, id, target, options, io)),
      )
  }
  program
    .command('stop')
    .description('pull the emergency brake: pause every running rollout at once')
    .requiredOption('--reason <text>', 'why (shown with every paused rollout and in the audit log)')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .action((options) => run(stopCommand(options, io)))
  program
    .command('unstop')
    .description('release the fleet-wide stop; the rollouts it paused resume')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .action((options) => run(unstopCommand(options, io)))

  program
    .command('serve')
    .description(
      'serve the API and the portal, and run rollouts in the background, until stopped (SIGINT, SIGTERM)',
    )
    .option('--port <port>', 'the TCP port; 0 picks a free one (default: 8080)', port)
    .option('--host <address>', 'the address to listen on (default: 127.0.0.1)')
    .option('--branch <ref>', 'the branch (or ref) shown and rolled out by default (default: HEAD)')
    .option('--now <time>', 'the time policies see unless a request says, in ISO 8601 (drills, demos)')
    .option(
      '--follow <repo>',
      'follow a repository (a path or any URL git can fetch): roll out each new commit of --branch (default: main) that policy allows',
    )
    .option(
      '--poll-interval <seconds>',
      'with --follow: how often to fetch (default: 30); POST /api/webhook fetches at once',
      seconds,
    )
    .option(
      '--revert-drift',
      'undo drift by itself: each drifted target gets a rollout of the revision Flotilla last applied to it, planned, checked by policy and staged like any other',
    )
    .addOption(repoOption())
    .addOption(dataOption())
    .action((options) => run(serveCommand(options, io)))

  program
    .command('snapshots')
    .description('list the snapshots taken before protected stateful resources (DNS zones) were destroyed')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .action((options) => run(snapshotsCommand(options, io)))

  program
    .command('restore')
    .description('recreate a destroyed protected resource from a snapshot, with everything it held')
    .argument('<snapshot-id>', 'a snapshot id from "flotilla snapshots"')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .action((id: string, options) => run(restoreCommand(id, options, io)))

  program
    .command('drill')
    .description(
      'a game-day on a simulated copy of the fleet: commits the known dangerous changes into a scratch clone and reports which safeguard stopped each, where, and whether anything reached production (exit 0 all stopped, 3 otherwise); your repository and store are not touched',
    )
    .addOption(repoOption())
    .option('--rev <rev>', 'the revision to drill', 'HEAD')
    .addOption(
      new Option('--scenario <name>', `run only this scenario (repeatable): ${SCENARIO_NAMES.join(', ')}`)
        .argParser(collect)
        .default([], 'all'),
    )
    .option(
      '--unsafe',
      'safeguards off: apply each change at once as unguarded automation would, show the outage, restore from snapshots and time it (exit 3 if anything stays down)',
    )
    .option('--now <time>', 'the time policies see as now, in ISO 8601 (e.g. 2026-11-10T10:00:00Z)')
    .addOption(textJsonOption())
    .action((options) => run(drillCommand(options, io)))

  const sim = program
    .command('sim')
    .description('the simulated fleet: accounts, stacks, DNS zones, clusters and services you can break')
  sim
    .command('status')
    .description('what the simulated fleet holds: targets, stacks by state, zones, services, faults')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .action((options) => run(simStatusCommand(options, io)))
  sim
    .command('fault')
    .description(`inject a fault, or clear faults with --clear. Kinds: ${FAULT_HELP}`)
    .option('--kind <kind>', 'the fault (see above)')
    .option('--target <id>', 'only this target (account id or name, cluster id or alias)')
    .option('--region <name>', 'only this region (region-outage needs it)')
    .option(
      '--rate <share>',
      'for api-errors and throttling: the share of calls that fail, 0 to 1 (default: 1)',
    )
    .option('--latency-ms <n>', 'for latency: extra milliseconds per operation', positiveInt)
    .option('--for <seconds>', 'the fault ends by itself after this long', seconds)
    .option('--clear', 'clear faults instead: all, those of --target/--region, or --id')
    .option('--id <fault-id>', 'with --clear: the fault to clear')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .action((options) => run(simFaultCommand(options, io)))
  sim
    .command('reset')
    .description(
      'forget the simulated fleet: stacks, zones, objects, faults, settings, its snapshots and what Flotilla recorded as applied to it',
    )
    .addOption(repoOption())
    .addOption(dataOption())
    .action((options) => run(simResetCommand(options, io)))
  sim
    .command('image')
    .description(
      'push images to the simulated registry (--add REF, repeatable), or list those pushed; pods whose image the registry lacks stay in ImagePullBackOff',
    )
    .option('--add <reference...>', 'image references to push, e.g. registry.example.com/shop/web:1.4.2')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .action((options) => run(simImageCommand(options, io)))
  sim
    .command('settings')
    .description('show or change the simulator settings')
    .option(
      '--latency-scale <x>',
      'multiplies every simulated duration: 1 is the default pace, 0 settles at once',
    )
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .action((options) => run(simSettingsCommand(options, io)))
  sim
    .command('serve')
    .description(
      'serve the simulated fleet\'s endpoints (its DNS server, its AWS-compatible API — CloudFormation, Route 53, STS —, its Kubernetes-compatible API per cluster and the Prometheus metrics of its services) in the foreground; prints them as one JSON line first, e.g. {"dns":"127.0.0.1:5353","aws":"http://127.0.0.1:4566","kubernetes":{"<cluster id>":"http://127.0.0.1:6443/clusters/<cluster id>"},"metrics":"http://127.0.0.1:9464/metrics"}',
    )
    .option('--host <address>', 'address to listen on (loopback by default)', '127.0.0.1')
    .option('--dns-port <port>', 'UDP port of the DNS server (default: any free port)', positiveInt)
    .option(
      '--aws-port <port>',
      'TCP port of the AWS-compatible endpoint for the AWS SDK (default: any free port); the access key id names the account: its 12-digit id',
      positiveInt,
    )
    .option(
      '--kubernetes-port <port>',
      'TCP port of the Kubernetes-compatible API, one base URL per cluster: http://HOST:PORT/clusters/<cluster id> (default: any free port)',
      positiveInt,
    )
    .option(
      '--metrics-port <port>',
      'TCP port of the Prometheus metrics endpoint, /metrics (default: any free port)',
      positiveInt,
    )
    .addOption(repoOption())
    .addOption(dataOption())
    .action((options) => run(simServeCommand(options, io)))

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
  // A cloud that refuses or fails (credentials of the wrong account, access denied, an outage
  // outlasting the retries) is not a bug in Flotilla: say what it said, and whether to retry.
  if (error instanceof ProviderError) {
    io.stderr(`error: ${error.message}${error.retryable ? ' (a passing problem: try again later)' : ''}\n`)
    return EXIT.user
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
