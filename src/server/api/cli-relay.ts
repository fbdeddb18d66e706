/**
 * The CLI through the server: `POST /api/cli` runs a command of the CLI that uses the store in
 * this process, over the server's application, for a CLI elsewhere — one that cannot open the
 * embedded store (it belongs to this process) or was told to go through the server (`--server`).
 * As with Terraform Cloud's remote runs, the command is the very code the CLI runs in its own
 * process, so output, exit codes and errors are the same; they stream back as NDJSON lines:
 * `{"run":ID}` first, then `{"stdout":…}` and `{"stderr":…}` as the command writes, and
 * `{"exit":CODE}` last. `POST /api/cli/runs/{id}/interrupt` is the caller's Ctrl-C; a caller who
 * goes away interrupts the command too.
 *
 * The server does not import the CLI (the faces stay apart): whoever starts the server gives it
 * the runner (`ServerOptions.runCommand`). Only commands of the store are run, always on the
 * server's repository, and who may run which is decided here: reads for everyone signed in,
 * `stop` too (the emergency brake, as `POST /api/stop`), changes for admins (or elevated
 * members), `users` for admins. The local credential of the store folder
 * (`app/local-link.ts`) may run all of them: whoever can read that folder could open the
 * store itself.
 */
import { randomUUID } from 'node:crypto'
import { type Context, Hono } from 'hono'
import { z } from 'zod'
import { effectiveRole, type Principal } from '../../app/access/permissions.ts'
import type { Operator } from '../../app/actors.ts'
import { ForbiddenError, InputError, NotFoundError } from '../../core/errors.ts'
import type { RelayedIo, ServerDeps, ServerEnv } from '../server-deps.ts'
import { changer, jsonBody, RetryLater } from './http-helpers.ts'
import { observingWork } from './rollouts.ts'

/** Who may run a command: everyone signed in, admins or elevated members, or stored admins. */
type CommandAccess = 'signed-in' | 'admin-or-elevated' | 'admin'

/** The commands the server runs, by their words, and who may run each. */
export const RELAYED_COMMANDS: Readonly<Record<string, CommandAccess>> = {
  plan: 'signed-in',
  'rollout status': 'signed-in',
  snapshots: 'signed-in',
  'sim status': 'signed-in',
  stop: 'signed-in',
  apply: 'admin-or-elevated',
  'rollout start': 'admin-or-elevated',
  'rollout pause': 'admin-or-elevated',
  'rollout resume': 'admin-or-elevated',
  'rollout abort': 'admin-or-elevated',
  'rollout approve': 'admin-or-elevated',
  'rollout retry': 'admin-or-elevated',
  'rollout skip': 'admin-or-elevated',
  unstop: 'admin-or-elevated',
  restore: 'admin-or-elevated',
  'sim fault': 'admin-or-elevated',
  'sim reset': 'admin-or-elevated',
  'sim image': 'admin-or-elevated',
  'sim settings': 'admin-or-elevated',
  'sim serve': 'admin-or-elevated',
  'users list': 'admin',
  'users token': 'admin',
  'users disable': 'admin',
  'users enable': 'admin',
}

/** Commands with a second word. */
const GROUPS = new Set(['rollout', 'sim', 'users'])

/** Options that choose another repository or store: through a server, there is only its own. */
const OTHER_STORE_OPTIONS = ['--repo', '--data', '--server']

/** Options naming a file of the machine the command runs on: only for a caller on this machine. */
const FILE_OPTIONS = ['--approvals']

/** The CLI's exit code of "try again later" (`cli/report-error.ts`: the faces do not import each other). */
const EXIT_UNAVAILABLE = 6
/** The CLI's exit code of a bug. */
const EXIT_INTERNAL = 4

/** Relayed commands running at once; long ones (`--follow`, `sim serve`) hold their place. */
const MAX_RELAYED = 16
/** Of them, by one user with a token: one user cannot take every place. */
const MAX_PER_USER = 4

export const cliRelayBody = z.strictObject({
  argv: z.array(z.string().max(4096)).min(1).max(200),
  /** Who runs it, as the caller's CLI names its user; taken only from the local credential. */
  actor: z.string().min(1).max(200).optional(),
})

/** The principal of the local credential: it may run every relayed command. */
const LOCAL: Principal = { name: 'the local credential', role: 'admin', elevation: null, teams: new Set() }

/** The command's words (`rollout status`), or an input error naming what is not relayed. */
export function commandOf(argv: readonly string[]): string {
  const [first = '', second = ''] = argv
  const words = GROUPS.has(first) ? `${first} ${second}` : first
  if (!Object.hasOwn(RELAYED_COMMANDS, words))
    throw new InputError(
      `"flotilla ${words.trim()}" does not run through a server; run it where the repository is (commands of the store: ${Object.keys(RELAYED_COMMANDS).join(', ')})`,
    )
  return words
}

/** Throws when the caller may not run `command` (see the module comment). */
function mayRun(principal: Principal, command: string): void {
  const access = RELAYED_COMMANDS[command]
  const role = access === 'admin' ? principal.role : effectiveRole(principal)
  if (access === 'signed-in' || role === 'admin') return
  throw new ForbiddenError(
    `"flotilla ${command}" through the server takes an admin${access === 'admin' ? '' : ' (or emergency access)'}; ${principal.name} is a ${principal.role}${access === 'admin' ? '' : ' — the portal and the API let members change what their teams own'}`,
  )
}

/** Refuses options that would reach beyond the server's repository and store, or its files. */
function checkOptions(argv: readonly string[], local: boolean): void {
  const named = (option: string) => argv.some((a) => a === option || a.startsWith(`${option}=`))
  for (const option of OTHER_STORE_OPTIONS)
    if (named(option))
      throw new InputError(
        `${option} does not go through a server: the command works on the server's repository and store; leave it out`,
      )
  if (!local)
    for (const option of FILE_OPTIONS)
      if (named(option))
        throw new InputError(
          `${option} names a file, which the server cannot read from your machine; give approvals in the portal or with POST /api/approvals, or run the command where the store is`,
        )
}

/** A relayed command under way: who started it and how to interrupt it. */
interface Run {
  readonly by: string
  readonly interrupt: AbortController
}

/** `/api/cli` and `/api/cli/runs/{id}/interrupt` (see the module comment). */
export function cliRelayRoutes(deps: ServerDeps): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>()
  const runs = new Map<string, Run>()
  const caller = (c: Context<ServerEnv>): Principal => (c.get('localCli') ? LOCAL : changer(c))

  app.post('/cli', async (c) => {
    const principal = caller(c)
    const runner = deps.runCommand
    if (!runner) throw new NotFoundError('this server does not run CLI commands')
    const { argv, actor } = await jsonBody(c, cliRelayBody)
    const local = principal === LOCAL
    const command = commandOf(argv)
    mayRun(principal, command)
    checkOptions(argv, local)
    const operator: Operator = local
      ? { actor: actor ?? 'cli', source: 'cli' }
      : {
          actor: principal.name,
          source: `cli ${c.get('source')}`,
          ...(principal.elevation ? { elevated: true } : {}),
        }
    const id = randomUUID()
    const run: Run = { by: principal.name, interrupt: new AbortController() }
    if (runs.size >= MAX_RELAYED)
      throw new RetryLater(
        503,
        10,
        `${MAX_RELAYED} CLI commands run through this server already (following rollouts, serving the simulated fleet count until stopped); retry in 10 seconds`,
      )
    if (!local && [...runs.values()].filter((r) => r.by === principal.name).length >= MAX_PER_USER)
      throw new RetryLater(
        429,
        10,
        `${principal.name} runs ${MAX_PER_USER} CLI commands through this server already (following rollouts counts until stopped); stop one, or retry in 10 seconds`,
      )
    const encoder = new TextEncoder()
    runs.set(id, run)
    // Closed by the end of the command, or by the caller going away: the command's output then goes nowhere.
    let open = true
    const body = new ReadableStream<Uint8Array>({
      start(stream) {
        const send = (line: object) => {
          if (open) stream.enqueue(encoder.encode(`${JSON.stringify(line)}\n`))
        }
        send({ run: id })
        const io: RelayedIo = {
          stdout: (text) => send({ stdout: text }),
          stderr: (text) => send({ stderr: text }),
          isTTY: false,
          cwd: deps.app.repoDir,
          application: deps.app,
          operator,
          interrupt: run.interrupt.signal,
        }
        // A plan observes the whole fleet: it waits its turn with the portal's and the API's plans.
        const work = () => runner(argv, io)
        void (command === 'plan' ? observingWork(deps, work) : work())
          .then(
            (code) => send({ exit: code }),
            // runCli reports every error of the command itself; what comes here is the wait's.
            (error: unknown) => {
              const busy = error instanceof RetryLater
              send({
                stderr: `${busy ? 'error' : 'internal error'}: ${(error as Error)?.message ?? String(error)}\n`,
              })
              send({ exit: busy ? EXIT_UNAVAILABLE : EXIT_INTERNAL })
            },
          )
          .finally(() => {
            runs.delete(id)
            if (open) {
              open = false
              stream.close()
            }
          })
      },
      // The caller went away (a second Ctrl-C, a lost connection): as its Ctrl-C.
      cancel() {
        open = false
        run.interrupt.abort()
      },
    })
    return new Response(body, {
      headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' },
    })
  })

  app.post('/cli/runs/:id/interrupt', (c) => {
    const principal = caller(c)
    const run = runs.get(c.req.param('id'))
    // Another caller's run is answered as no run at all: ids are not to be guessed at.
    if (!run || (run.by !== principal.name && principal !== LOCAL))
      throw new NotFoundError(`no command ${c.req.param('id')} runs through this server`)
    run.interrupt.abort()
    return c.json({ interrupted: true })
  })
  return app
}
