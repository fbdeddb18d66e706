/**
 * Commands of the store through a running server. The embedded store belongs to one process: while
 * `npm start` or `flotilla serve` holds it, a command that needs it runs in the server instead
 * (`POST /api/cli`, `server/api/cli-relay.ts`) — found by itself through the record the server
 * keeps in the store's folder (`app/local-link.ts`), or named with `--server URL` or
 * `FLOTILLA_SERVER` and a token in `FLOTILLA_TOKEN`. The server runs the same command code, so
 * the output, the exit code and the errors are those of the command run here; Ctrl-C interrupts
 * it there as it would here.
 */
import { isAbsolute, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { readLocalLink } from '../app/local-link.ts'
import { InputError } from '../core/errors.ts'
import { sleep } from '../lib/abortable.ts'
import type { CliIo } from './io.ts'
import { cliOperator } from './operator.ts'
import { EXIT } from './report-error.ts'

/** What a command of the store says about where it runs. */
export interface ServerChoice {
  readonly repo?: string
  readonly data?: string | undefined
  readonly server?: string | undefined
}

/** A server to run a command through. */
export interface ServerLink {
  readonly url: string
  readonly token: string
  /** Found through the store folder's record (its credential), not named by the user. */
  readonly local: boolean
  /** The server, for messages: its URL, and for a found one its process and store. */
  readonly described: string
}

/** Options that take a value and name another repository, store or server: the server has its own. */
const DROPPED = ['--repo', '--data', '--server']
/** Options whose value is a path, made absolute for a server on this machine. */
const PATHS = ['--approvals']

/** How long a server that is still starting is waited for. */
const STARTING_WAIT_MS = 30_000

/**
 * The server to run a command of the store through, if any: the one named (`--server`,
 * `FLOTILLA_SERVER`), else — for the embedded store — the one that holds it. With PostgreSQL and
 * no server named, none: several processes share that store.
 */
export function serverFor(options: ServerChoice, io: CliIo, env = process.env): ServerLink | undefined {
  const named = options.server ?? env.FLOTILLA_SERVER
  const dataDir = resolve(io.cwd, options.data ?? join(options.repo ?? '.', '.flotilla'))
  const found = env.FLOTILLA_DATABASE_URL ? undefined : readLocalLink(dataDir)
  if (named !== undefined) {
    const url = serverUrl(named)
    const token = env.FLOTILLA_TOKEN?.trim()
    if (token) return { url, token, local: false, described: `the server at ${url}` }
    if (found && new URL(found.url).origin === url)
      return { url, token: found.token, local: true, described: `the server at ${url}` }
    throw new InputError(
      `the server at ${url} needs a token: set FLOTILLA_TOKEN to an API token of your user (the portal's Tokens page, POST /api/users/NAME/tokens, or "flotilla users token NAME" where the store is)`,
    )
  }
  return found
    ? {
        url: found.url,
        token: found.token,
        local: true,
        described: `the server that holds the store in ${dataDir} (process ${found.pid}, ${found.url})`,
      }
    : undefined
}

/** The origin of a server's URL, or an input error saying what a URL must look like. */
function serverUrl(given: string): string {
  try {
    const url = new URL(given)
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.origin
  } catch {
    // said below
  }
  throw new InputError(
    `--server (or FLOTILLA_SERVER) "${given}" is not a server's URL; write it as http://HOST:PORT, e.g. http://127.0.0.1:8080`,
  )
}

/** The arguments for the server: without the options of another store, with paths made absolute. */
export function relayedArgv(argv: readonly string[], cwd: string): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [name, inline] = arg.startsWith('--') ? splitOption(arg) : [arg, undefined]
    if (DROPPED.includes(name)) {
      if (inline === undefined) i++
      continue
    }
    const value = PATHS.includes(name) ? (inline ?? argv[i + 1]) : undefined
    if (value !== undefined) {
      if (inline === undefined) i++
      out.push(name, isAbsolute(value) ? value : resolve(cwd, value))
      continue
    }
    out.push(arg)
  }
  return out
}

function splitOption(arg: string): [string, string | undefined] {
  const at = arg.indexOf('=')
  return at < 0 ? [arg, undefined] : [arg.slice(0, at), arg.slice(at + 1)]
}

/**
 * Runs the command through the server (see the module comment) and returns its exit code. A server
 * that cannot be reached, or refuses, is reported as the command's own error would be.
 */
export async function runThroughServer(
  link: ServerLink,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const gone = new AbortController()
  let run: string | undefined
  let interrupts = 0
  const onSignal = () => {
    interrupts++
    // The first Ctrl-C goes to the command, which says what it leaves running; a second stops waiting.
    if (interrupts === 1 && run !== undefined)
      void call(link, `/api/cli/runs/${run}/interrupt`, undefined, AbortSignal.timeout(10_000)).catch(
        () => {},
      )
    else gone.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const response = await send(link, argv, io, gone.signal)
    if (!response.ok || !response.body) return await refused(link, response, io)
    let exit: number | undefined
    const lines = createInterface({
      input: Readable.fromWeb(response.body as WebReadableStream),
      crlfDelay: Infinity,
    })
    for await (const text of lines) {
      const line = JSON.parse(text) as { run?: string; stdout?: string; stderr?: string; exit?: number }
      if (line.run !== undefined) {
        run = line.run
        if (interrupts > 0) onSignal() // Ctrl-C came before the run's id: send it now
      }
      if (line.stdout !== undefined) io.stdout(line.stdout)
      if (line.stderr !== undefined) io.stderr(line.stderr)
      if (line.exit !== undefined) exit = line.exit
    }
    if (exit !== undefined) return exit
    io.stderr(
      `error: the connection to ${link.described} ended before the command did; what it did so far stands (flotilla rollout status, flotilla sim status show where things are)\n`,
    )
    return EXIT.unavailable
  } catch (error) {
    if (gone.signal.aborted) {
      io.stderr(`Stopped waiting for ${link.described}; the command may still be ending there.\n`)
      return 130
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    io.stderr(
      `error: ${link.described} does not answer (${cause?.code ?? cause?.message ?? (error as Error).message}); ${
        link.local
          ? 'if it hangs, stop it and run the command again'
          : 'check the URL (--server, FLOTILLA_SERVER) and that the server runs'
      }\n`,
    )
    return EXIT.unavailable
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/** Sends the command; a server still starting (503 with `Retry-After`) is waited for a while. */
async function send(
  link: ServerLink,
  argv: readonly string[],
  io: CliIo,
  signal: AbortSignal,
): Promise<Response> {
  const body = {
    argv: relayedArgv(argv, io.cwd),
    ...(link.local ? { actor: cliOperator().actor } : {}),
  }
  const deadline = Date.now() + STARTING_WAIT_MS
  for (;;) {
    const response = await call(link, '/api/cli', body, signal)
    const retry = Number(response.headers.get('retry-after'))
    if (response.status !== 503 || !(retry > 0) || Date.now() + retry * 1000 > deadline) return response
    await response.body?.cancel()
    await sleep(retry * 1000, signal)
  }
}

function call(link: ServerLink, path: string, body: unknown, signal: AbortSignal): Promise<Response> {
  return fetch(link.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${link.token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal,
  })
}

/** A refusal of the server, as the command's own error: its message and the exit code of its kind. */
async function refused(link: ServerLink, response: Response, io: CliIo): Promise<number> {
  const text = await response.text()
  let message = text.trim()
  try {
    message = (JSON.parse(text) as { error?: string }).error ?? message
  } catch {
    // not JSON: the text as it came
  }
  const { status } = response
  if (status === 401)
    io.stderr(
      link.local
        ? `error: ${link.described} did not accept the credential of its record (it may have restarted); run the command again\n`
        : `error: ${link.described} did not accept FLOTILLA_TOKEN: it is unknown, revoked or expired, or its user is disabled; mint another (POST /api/users/NAME/tokens, or "flotilla users token NAME" where the store is)\n`,
    )
  else io.stderr(`error: ${message}\n`)
  if (status === 503 || status === 429) return EXIT.unavailable
  if (status >= 500) return EXIT.internal
  return EXIT.user
}
