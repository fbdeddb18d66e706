/**
 * The declaration of every command: its arguments, options, defaults and help, once. The types
 * of a command's options are derived from its declaration (`@commander-js/extra-typings` infers
 * them from the \`.option()\` calls), so a declaration and the function that runs the command
 * cannot drift apart; `main.ts` attaches each command's action.
 */
import { type Command, InvalidArgumentError, Option } from '@commander-js/extra-typings'
import { SCENARIO_NAMES } from '../drill/scenario-names.ts'
import { FORMATS } from './io.ts'

/** The options a declared command passes to its action. */
export type OptionsOf<Declare extends (...args: never[]) => { opts(): unknown }> = ReturnType<
  ReturnType<Declare>['opts']
>

/** Output formats of `flotilla policy test`. */
export const POLICY_TEST_FORMATS = ['text', 'json'] as const

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
/**
 * `--server`: run a command that uses the store through a running server's API instead of
 * opening the store (`cli/through-server.ts` finds one by itself for the embedded store).
 */
const serverOption = () =>
  new Option(
    '--server <url>',
    'run the command through the Flotilla server at URL (also FLOTILLA_SERVER; its token in FLOTILLA_TOKEN); by default through the server that holds the embedded store, when one runs',
  )

/** `--metrics-port`: where a `--wait` serves the engine's Prometheus metrics. */
function metricsPortOption() {
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

/**
 * `--now` of a command that changes the fleet: not shown, and refused with a clear message
 * (`refuseNow`) rather than commander's "unknown option". Policies see the machine's clock.
 */
function refusedNowOption() {
  return new Option('--now <time>', 'refused: policies see the clock; --now is for plan and drill').hideHelp()
}

const FAULT_HELP =
  'api-errors | throttling (with --rate), latency (with --latency-ms), region-outage (with --region), stuck-stack, resource-failure, drift (once, needs --target), surprise-replacement'

/** `--approve`: an address, or "PATTERN (expected N)"; repeatable. */
const approveOption = () =>
  new Option('--approve <approval>', 'approve an address, or "PATTERN (expected N)" (repeatable)')
    .argParser(collect)
    .default([], 'none')

/** `flotilla init` */
export function declareInit(parent: Command) {
  return parent
    .command('init')
    .description('create a fleet repository (git init + first commit)')
    .argument('<dir>', 'directory to create (must be empty or absent)')
    .option('--example', 'generate a realistic example fleet instead of an empty skeleton')
    .option('--accounts <n>', 'accounts in the example (default: 300)', positiveInt)
    .option('--clusters <n>', 'clusters in the example (default: 250)', positiveInt)
    .option('--seed <seed>', 'seed of the example; the same seed gives the same repository (default: "1")')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
}

/** The options of `flotilla init`, as declared. */
export type InitOptions = OptionsOf<typeof declareInit>

/** `flotilla validate` */
export function declareValidate(parent: Command) {
  return parent
    .command('validate')
    .description(
      'load and check everything; print every problem as file:line:col: message (exit 1 on errors)',
    )
    .addOption(repoOption())
    .option('--rev <rev>', 'git revision to read (commit, branch, tag, HEAD~1); default: the working tree')
    .addOption(formatOption())
}

/** The options of `flotilla validate`, as declared. */
export type ValidateOptions = OptionsOf<typeof declareValidate>

/** `flotilla render` */
export function declareRender(parent: Command) {
  return parent
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
}

/** The options of `flotilla render`, as declared. */
export type RenderOptions = OptionsOf<typeof declareRender>

/** `flotilla plan` */
export function declarePlan(parent: Command) {
  return parent
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
    .addOption(approveOption())
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
    .addOption(serverOption())
}

/** The options of `flotilla plan`, as declared. */
export type PlanOptions = OptionsOf<typeof declarePlan>

/** `flotilla apply` */
export function declareApply(parent: Command) {
  return parent
    .command('apply')
    .description(
      'plan one target against its observed state and, if the plan is allowed, apply it through its provider (exit 0 applied or up to date, 3 denied, needing approval or failed); fleet-wide changes go through rollouts',
    )
    .requiredOption('--target <id>', 'account id or name, cluster id or alias')
    .addOption(repoOption())
    .option('--rev <rev>', 'git revision to apply; default: the working tree')
    .addOption(approveOption())
    .option('--approvals <file>', 'a YAML list of approvals')
    .addOption(refusedNowOption())
    .option('--timeout <seconds>', 'give up waiting for the target to settle (default: 1800)', seconds)
    .addOption(textJsonOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of `flotilla apply`, as declared. */
export type ApplyOptions = OptionsOf<typeof declareApply>

/** `flotilla rollout`: the parent of the rollout commands. */
export function declareRollout(parent: Command) {
  return parent
    .command('rollout')
    .description('staged rollouts of a revision through the stages and waves of rollout.yaml')
}

/** `flotilla rollout start` */
export function declareRolloutStart(parent: Command) {
  return parent
    .command('start')
    .description(
      'plan a commit against the observed fleet and, if allowed, start rolling it out (with --wait: run it here; exit 0 succeeded, 5 waiting for an approval, 3 anything else: halted, rolled back, aborted, paused)',
    )
    .option('--rev <rev>', 'the git revision to roll out (default: HEAD)')
    .addOption(approveOption())
    .option('--approvals <file>', 'a YAML list of approvals')
    .addOption(refusedNowOption())
    .option('--wait', 'run the rollout in this process until it ends or waits for an approval')
    .option(
      '--preview',
      'show what the rollout would do, stage by stage, and start nothing (exit 0 when it could start)',
    )
    .option('--yes', 'start without asking (a terminal asks for a confirmation after the preview)')
    .addOption(metricsPortOption())
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of `flotilla rollout start`, as declared. */
export type RolloutStartOptions = OptionsOf<typeof declareRolloutStart>

/** `flotilla rollout status` */
export function declareRolloutStatus(parent: Command) {
  return parent
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
    .addOption(serverOption())
}

/** The options of `flotilla rollout status`, as declared. */
export type RolloutStatusOptions = OptionsOf<typeof declareRolloutStatus>

/** The operator controls of a rollout, with their help. */
export const ROLLOUT_CONTROLS = [
  ['pause', 'pause a rollout: targets under way finish, no new one starts'],
  ['resume', 'resume a paused rollout (or continue one whose process died); --wait runs it here'],
  ['abort', 'abort a rollout: nothing more is applied, nothing is rolled back'],
  ['approve', "approve the stage a rollout waits for (not by the rollout's author)"],
  ['retry', 'give a failed target another attempt'],
  ['skip', 'skip a failed target'],
] as const

/** `flotilla rollout pause|resume|abort|approve|retry|skip ID [TARGET]` */
export function declareRolloutControl(
  parent: Command,
  action: (typeof ROLLOUT_CONTROLS)[number][0],
  help: string,
) {
  return parent
    .command(action)
    .description(help)
    .argument('<id>', 'rollout id')
    .argument(action === 'retry' || action === 'skip' ? '<target>' : '[target]', 'target id (retry, skip)')
    .option('--wait', 'then run the rollout in this process until it ends or waits')
    .addOption(metricsPortOption())
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of a rollout control, as declared. */
export type RolloutControlOptions = OptionsOf<typeof declareRolloutControl>

/** `flotilla policy`: the parent of the policy commands. */
export function declarePolicy(parent: Command) {
  return parent.command('policy').description('deployment policy (policies/*.yaml)')
}

/** `flotilla stop` */
export function declareStop(parent: Command) {
  return parent
    .command('stop')
    .description('pull the emergency brake: pause every running rollout at once')
    .requiredOption('--reason <text>', 'why (shown with every paused rollout and in the audit log)')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of `flotilla stop`, as declared. */
export type StopOptions = OptionsOf<typeof declareStop>

/** `flotilla unstop` */
export function declareUnstop(parent: Command) {
  return parent
    .command('unstop')
    .description('release the fleet-wide stop; the rollouts it paused resume')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of `flotilla unstop`, as declared. */
export type UnstopOptions = OptionsOf<typeof declareUnstop>

/** `flotilla serve` */
export function declareServe(parent: Command) {
  return parent
    .command('serve')
    .description(
      'serve the API and the portal, and run rollouts in the background, until stopped (SIGINT, SIGTERM)',
    )
    .option('--port <port>', 'the TCP port; 0 picks a free one (default: 8080)', port)
    .option('--host <address>', 'the address to listen on (default: 127.0.0.1)')
    .option('--branch <ref>', 'the branch (or ref) shown and rolled out by default (default: HEAD)')
    .option(
      '--now <time>',
      "an operator-set clock for demos, in ISO 8601: policies see this time instead of the server's clock, and every plan, rollout and audit entry records that the operator set it",
    )
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
      '--test-commits',
      'with --follow: try each allowed commit with `flotilla test` (as an upgrade of the commit before it, in an ephemeral simulated fleet) before its rollout starts; a failing test stops the commit as a denied plan does',
    )
    .option(
      '--revert-drift',
      'undo drift by itself: each drifted target gets a rollout of the revision Flotilla last applied to it, planned, checked by policy and staged like any other',
    )
    .addOption(repoOption())
    .addOption(dataOption())
}

/** The options of `flotilla serve`, as declared. */
export type ServeOptions = OptionsOf<typeof declareServe>

/** `flotilla snapshots` */
export function declareSnapshots(parent: Command) {
  return parent
    .command('snapshots')
    .description('list the snapshots taken before protected stateful resources (DNS zones) were destroyed')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of `flotilla snapshots`, as declared. */
export type SnapshotsOptions = OptionsOf<typeof declareSnapshots>

/** `flotilla restore` */
export function declareRestore(parent: Command) {
  return parent
    .command('restore')
    .description('recreate a destroyed protected resource from a snapshot, with everything it held')
    .argument('<snapshot-id>', 'a snapshot id from "flotilla snapshots"')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of `flotilla restore`, as declared. */
export type RestoreOptions = OptionsOf<typeof declareRestore>

/** `flotilla drill` */
export function declareDrill(parent: Command) {
  return parent
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
}

/** The options of `flotilla drill`, as declared. */
export type DrillOptions = OptionsOf<typeof declareDrill>

/** `flotilla test` */
export function declareTest(parent: Command) {
  return parent
    .command('test')
    .description(
      'try a change as an upgrade before it merges: representative targets of its plan (one per stage for each distinct change) are built at --base in an ephemeral simulated fleet, then --head is rolled out over them through the stages and their gates, and from empty (exit 0 passed, 3 failed); your repository and store are not touched',
    )
    .addOption(repoOption())
    .option('--base <rev>', "the revision the fleet runs now (the pull request's target branch)", 'main')
    .option('--head <rev>', 'the change to test', 'HEAD')
    .option('--now <time>', 'the time policies see as now, in ISO 8601 (e.g. 2026-11-10T10:00:00Z)')
    .addOption(formatOption())
}

/** The options of `flotilla test`, as declared. */
export type TestOptions = OptionsOf<typeof declareTest>

/** `flotilla sim`: the parent of the simulator's commands. */
export function declareSim(parent: Command) {
  return parent
    .command('sim')
    .description('the simulated fleet: accounts, stacks, DNS zones, clusters and services you can break')
}

/** `flotilla sim status` */
export function declareSimStatus(parent: Command) {
  return parent
    .command('status')
    .description('what the simulated fleet holds: targets, stacks by state, zones, services, faults')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of `flotilla sim status` (and of the other sim commands' common part), as declared. */
export type SimStatusOptions = OptionsOf<typeof declareSimStatus>

/** `flotilla sim fault` */
export function declareSimFault(parent: Command) {
  return parent
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
    .addOption(serverOption())
}

/** The options of `flotilla sim fault`, as declared. */
export type SimFaultOptions = OptionsOf<typeof declareSimFault>

/** `flotilla sim reset` */
export function declareSimReset(parent: Command) {
  return parent
    .command('reset')
    .description(
      'forget the simulated fleet: stacks, zones, objects, faults, settings, its snapshots and what Flotilla recorded as applied to it',
    )
    .addOption(repoOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of `flotilla sim reset`, as declared. */
export type SimResetOptions = OptionsOf<typeof declareSimReset>

/** `flotilla sim image` */
export function declareSimImage(parent: Command) {
  return parent
    .command('image')
    .description(
      'push images to the simulated registry (--add REF, repeatable), or list those pushed; pods whose image the registry lacks stay in ImagePullBackOff',
    )
    .option('--add <reference...>', 'image references to push, e.g. registry.example.com/shop/web:1.4.2')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of `flotilla sim image`, as declared. */
export type SimImageOptions = OptionsOf<typeof declareSimImage>

/** `flotilla sim settings` */
export function declareSimSettings(parent: Command) {
  return parent
    .command('settings')
    .description('show or change the simulator settings')
    .option(
      '--latency-scale <x>',
      'multiplies every simulated duration: 1 is the default pace, 0 settles at once',
    )
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of `flotilla sim settings`, as declared. */
export type SimSettingsOptions = OptionsOf<typeof declareSimSettings>

/** `flotilla sim serve` */
export function declareSimServe(parent: Command) {
  return parent
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
    .addOption(serverOption())
}

/** The options of `flotilla sim serve`, as declared. */
export type SimServeOptions = OptionsOf<typeof declareSimServe>

/** `flotilla policy test` */
export function declarePolicyTest(parent: Command) {
  return parent
    .command('test')
    .description(
      'run the policy tests of policies/tests/*.yaml: small plans and the findings expected of them (exit 1 if any fails)',
    )
    .addOption(repoOption())
    .option('--rev <rev>', 'git revision to read; default: the working tree')
    .addOption(new Option('--format <format>', 'output format').choices(POLICY_TEST_FORMATS).default('text'))
}

/** The options of `flotilla policy test`, as declared. */
export type PolicyTestOptions = OptionsOf<typeof declarePolicyTest>

/** `flotilla users`: local recovery, with direct access to the store. */
export function declareUsers(parent: Command) {
  return parent
    .command('users')
    .description(
      "the server's users, managed with direct access to the store (its folder, or FLOTILLA_DATABASE_URL; while a server holds the embedded store, through that server): to recover a lost admin token; whoever can read the store is trusted already",
    )
}

/** `flotilla users list` */
export function declareUsersList(parent: Command) {
  return parent
    .command('list')
    .description('every user: name, role, whether disabled')
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of `flotilla users list` (and of the other users commands' common part), as declared. */
export type UsersListOptions = OptionsOf<typeof declareUsersList>

/** `flotilla users token` */
export function declareUsersToken(parent: Command) {
  return parent
    .command('token')
    .description('mint an API token for a user (the secret is shown once); audited as this command')
    .argument('<user>', 'the user, e.g. admin')
    .option(
      '--label <label>',
      'what the token is for, shown in token lists',
      'minted by flotilla users token',
    )
    .option(
      '--expires-in <days>',
      'days until the token expires (default: never, or FLOTILLA_MAX_TOKEN_DAYS)',
      positiveInt,
    )
    .addOption(repoOption())
    .addOption(textJsonOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of `flotilla users token`, as declared. */
export type UsersTokenOptions = OptionsOf<typeof declareUsersToken>

/** `flotilla users disable` and `flotilla users enable` */
export function declareUsersSwitch(parent: Command, action: 'disable' | 'enable') {
  return parent
    .command(action)
    .description(
      action === 'disable'
        ? 'disable a user: their tokens and sessions stop working at once (not the last enabled admin)'
        : 'enable a disabled user again',
    )
    .argument('<user>', 'the user')
    .addOption(repoOption())
    .addOption(dataOption())
    .addOption(serverOption())
}

/** The options of `flotilla users disable|enable`, as declared. */
export type UsersSwitchOptions = OptionsOf<typeof declareUsersSwitch>
