/**
 * The `flotilla` program: every command's declaration (`declarations.ts`) with its action.
 *
 * Commands start at once: this module imports no command. Each action loads its command's module
 * with a dynamic `import()` when that command runs, so `flotilla --version`, `--help` or
 * `validate` never load what other commands need (the store with PGlite and kysely, the AWS SDK,
 * the Kubernetes client, the HTTP server). Keep it so: a static import of a command here would
 * load all of it for every command (`test/cli-startup.test.ts` fails then).
 */
import { Command } from '@commander-js/extra-typings'
import {
  declareApply,
  declareDrill,
  declareInit,
  declarePlan,
  declarePolicy,
  declarePolicyTest,
  declareRender,
  declareRestore,
  declareRollout,
  declareRolloutControl,
  declareRolloutStart,
  declareRolloutStatus,
  declareServe,
  declareSim,
  declareSimFault,
  declareSimImage,
  declareSimReset,
  declareSimServe,
  declareSimSettings,
  declareSimStatus,
  declareSnapshots,
  declareStop,
  declareTest,
  declareUnstop,
  declareUsers,
  declareUsersList,
  declareUsersSwitch,
  declareUsersToken,
  declareValidate,
  ROLLOUT_CONTROLS,
} from './declarations.ts'
import type { CliIo } from './io.ts'
import { EXIT, reportError } from './report-error.ts'
import type { ServerChoice } from './through-server.ts'

export { EXIT } from './report-error.ts'

/**
 * Builds the `flotilla` program; `run` receives each command's exit code. `argv` is what a command
 * of the store sends to a server that holds the store (see `through-server.ts`).
 */
export function buildProgram(
  io: CliIo,
  run: (code: Promise<number>) => void,
  argv: readonly string[] = [],
): Command {
  const program = new Command('flotilla')
    .description(
      'Flotilla: a control plane for fleets of cloud accounts and Kubernetes clusters.\nValidates and renders a fleet repository at any git revision, plans changes across\nthe fleet (against a revision or the observed fleet) with its safety rules and\ndeployment policy, and applies them through providers, starting with the simulated fleet.',
    )
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()

  // Each action loads its command's module when it runs (see the module comment).
  /** Runs a command of the store: through the server that holds it (or is named), else here. */
  const throughStore = (
    options: ServerChoice,
    args: readonly string[],
    here: () => Promise<number>,
  ): Promise<number> =>
    io.application
      ? here() // a server runs it already
      : import('./through-server.ts').then((m) => {
          const link = m.serverFor(options, io)
          return link ? m.runThroughServer(link, args, io) : here()
        })
  const runOfStore = (options: ServerChoice, here: () => Promise<number>): void =>
    run(throughStore(options, argv, here))
  const rolloutCommands = () => import('./commands/rollout.ts')
  const simCommands = () => import('./commands/sim.ts')
  const snapshotCommands = () => import('./commands/snapshots.ts')

  declareInit(program).action((dir, options) =>
    run(import('./commands/init.ts').then((m) => m.initCommand(dir, options, io))),
  )
  declareValidate(program).action((options) =>
    run(import('./commands/validate.ts').then((m) => m.validateCommand(options, io))),
  )
  declareRender(program).action((options) =>
    run(import('./commands/render.ts').then((m) => m.renderCommand(options, io))),
  )
  declarePlan(program).action((options) => {
    const plan = () => import('./commands/plan.ts').then((m) => m.planCommand(options, io))
    // Between two revisions a plan needs no store: it runs here.
    if (options.base === undefined) runOfStore(options, plan)
    else run(plan())
  })
  declareApply(program).action((options) =>
    runOfStore(options, () => import('./commands/apply.ts').then((m) => m.applyCommand(options, io))),
  )

  const rollout = declareRollout(program)
  declareRolloutStart(rollout).action((options) => {
    const start = (o: typeof options, args: readonly string[]) =>
      throughStore(o, args, () => rolloutCommands().then((m) => m.rolloutStartCommand(o, io)))
    const { confirm } = io
    if (!confirm || options.yes || options.preview || options.format === 'json')
      return run(start(options, argv))
    // On a terminal: what it would do first, then a question; only a yes starts it.
    run(
      (async () => {
        const previewed = await start({ ...options, preview: true }, [...argv, '--preview'])
        if (previewed !== EXIT.ok) return previewed
        if (!(await confirm('Start this rollout? [y/N] '))) {
          io.stderr('Nothing was started.\n')
          return EXIT.user
        }
        return start({ ...options, yes: true }, [...argv, '--yes'])
      })(),
    )
  })
  declareRolloutStatus(rollout).action((id, options) =>
    runOfStore(options, () => rolloutCommands().then((m) => m.rolloutStatusCommand(id, options, io))),
  )
  for (const [action, help] of ROLLOUT_CONTROLS) {
    declareRolloutControl(rollout, action, help).action((id, target, options) =>
      runOfStore(options, () =>
        rolloutCommands().then((m) => m.rolloutControlCommand(action, id, target, options, io)),
      ),
    )
  }
  declareStop(program).action((options) =>
    runOfStore(options, () => rolloutCommands().then((m) => m.stopCommand(options, io))),
  )
  declareUnstop(program).action((options) =>
    runOfStore(options, () => rolloutCommands().then((m) => m.unstopCommand(options, io))),
  )

  declareServe(program).action((options) =>
    run(import('./commands/serve.ts').then((m) => m.serveCommand(options, io, undefined, runCli))),
  )
  declareSnapshots(program).action((options) =>
    runOfStore(options, () => snapshotCommands().then((m) => m.snapshotsCommand(options, io))),
  )
  declareRestore(program).action((id, options) =>
    runOfStore(options, () => snapshotCommands().then((m) => m.restoreCommand(id, options, io))),
  )
  declareDrill(program).action((options) =>
    run(import('./commands/drill.ts').then((m) => m.drillCommand(options, io))),
  )
  declareTest(program).action((options) =>
    run(import('./commands/test.ts').then((m) => m.testCommand(options, io))),
  )

  const sim = declareSim(program)
  declareSimStatus(sim).action((options) =>
    runOfStore(options, () => simCommands().then((m) => m.simStatusCommand(options, io))),
  )
  declareSimFault(sim).action((options) =>
    runOfStore(options, () => simCommands().then((m) => m.simFaultCommand(options, io))),
  )
  declareSimReset(sim).action((options) =>
    runOfStore(options, () => simCommands().then((m) => m.simResetCommand(options, io))),
  )
  declareSimImage(sim).action((options) =>
    runOfStore(options, () => simCommands().then((m) => m.simImageCommand(options, io))),
  )
  declareSimSettings(sim).action((options) =>
    runOfStore(options, () => simCommands().then((m) => m.simSettingsCommand(options, io))),
  )
  declareSimServe(sim).action((options) =>
    runOfStore(options, () => simCommands().then((m) => m.simServeCommand(options, io))),
  )

  const users = declareUsers(program)
  const userCommands = () => import('./commands/users.ts')
  declareUsersList(users).action((options) =>
    runOfStore(options, () => userCommands().then((m) => m.usersListCommand(options, io))),
  )
  declareUsersToken(users).action((user, options) =>
    runOfStore(options, () => userCommands().then((m) => m.usersTokenCommand(user, options, io))),
  )
  for (const action of ['disable', 'enable'] as const) {
    declareUsersSwitch(users, action).action((user, options) =>
      runOfStore(options, () => userCommands().then((m) => m.usersSwitchCommand(action, user, options, io))),
    )
  }

  const policy = declarePolicy(program)
  declarePolicyTest(policy).action((options) =>
    run(import('./commands/policy-test.ts').then((m) => m.policyTestCommand(options, io))),
  )

  return program
}

/**
 * Runs the CLI and resolves to the exit code. User errors print their message (and every
 * diagnostic) without a stack trace; anything else is a bug, reported with a short id and the
 * details written to a log file.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let pending: Promise<number> | undefined
  const program = buildProgram(
    io,
    (code) => {
      pending = code
    },
    argv,
  )
  try {
    await program.parseAsync(argv as string[], { from: 'user' })
    return pending === undefined ? EXIT.ok : await pending
  } catch (error) {
    return reportError(error, io)
  }
}
