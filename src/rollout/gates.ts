/**
 * Rollout gates: whether a target may proceed. A gate from `rollout.yaml` is rendered for one
 * target and checked against the real world — the provider's health view, DNS, a command, an
 * HTTP endpoint, a Prometheus query — and gives one {@link GateResult}.
 *
 * Every gate fails closed: an error, a timeout, an unreachable data source, an answer that cannot
 * be read or a template that cannot be rendered for the target is a `failed` result whose detail
 * says which gate, which target, what happened and what to do. Nothing here throws for the
 * world misbehaving; a throw is a bug.
 */
import { spawn } from 'node:child_process'
import { Resolver } from 'node:dns/promises'
import { stat } from 'node:fs/promises'
import type { Location } from '../core/diagnostics.ts'
import { type CompiledExpression, compileExpression, ExpressionError } from '../core/expr/cel.ts'
import { durationMs } from '../core/model/common.ts'
import type { FleetSettings } from '../core/model/fleet.ts'
import type { LoadedAccount, LoadedGate, Target } from '../core/model/fleet-model.ts'
import type { Gate } from '../core/model/rollout.ts'
import type { Provider } from '../core/provider/port.ts'
import { fleetVariable, targetVariable } from '../core/render/contexts.ts'
import { RenderError, renderNode } from '../core/render/evaluate.ts'
import { gateContext } from '../core/validate/gates.ts'

/** The kinds of gate `rollout.yaml` knows. */
export type GateType = Gate['type']

/** What one gate said about one target. */
export interface GateResult {
  /** The gate's name in `rollout.yaml`. */
  readonly name: string
  /** The gate's type (`health`, `dns`, …), or `unknown` for a name `rollout.yaml` does not define. */
  readonly type: GateType | 'unknown'
  readonly state: 'passed' | 'failed'
  /** One line: the gate, the target, what was found and, when failed, what to do. */
  readonly detail: string
  /** Wall-clock time the gate took, in milliseconds. */
  readonly durationMs: number
  /**
   * What the data source said at length: a command's combined stdout and stderr (its last
   * {@link COMMAND_OUTPUT_LIMIT_BYTES}), or the start of an HTTP answer with an unexpected status.
   */
  readonly output?: string
}

/** What gates need from the world around them. */
export interface GateEnvironment {
  /** The target's provider, asked by `health` gates. */
  readonly provider: Provider
  /**
   * `host:port` of the DNS servers `dns` gates ask (for the simulated fleet: its loopback DNS
   * server; for real clouds, e.g. `dns.getServers()`). An empty list fails every `dns` gate.
   */
  readonly dnsServers: readonly string[]
  /** The directory `command` gates run in (the repository checkout). */
  readonly cwd: string
  /** The environment of `command` gates. @default process.env */
  readonly env?: NodeJS.ProcessEnv
  /** Aborting stops the running gate (a command's process group is killed); it then fails. */
  readonly signal?: AbortSignal
  /**
   * How long a stopped command's process group may clean up after SIGTERM before it gets SIGKILL.
   * @default COMMAND_KILL_GRACE_MS
   */
  readonly commandKillGraceMs?: number
}

/**
 * How long each type of gate may take when `rollout.yaml` sets no `timeout`, in milliseconds.
 * Past it, the gate fails (a command's process group is killed first).
 */
export const DEFAULT_GATE_TIMEOUT_MS: Readonly<Record<GateType, number>> = {
  health: 60_000,
  dns: 30_000,
  command: 5 * 60_000,
  http: 30_000,
  prometheus: 30_000,
}

/** How much of a command's combined output a result keeps: the last 64 KiB. */
export const COMMAND_OUTPUT_LIMIT_BYTES = 64 * 1024

/** How long a stopped command's process group has after SIGTERM before it gets SIGKILL, by default. */
export const COMMAND_KILL_GRACE_MS = 5_000

/**
 * How long to wait, once a command's shell exited, for whatever it left running to let go of
 * its output; then the rest of its process group is killed and the gate finishes regardless.
 */
const COMMAND_DRAIN_MS = 1_000

/** Per-query timeout of the DNS client (it retries {@link DNS_TRIES} times, within the gate's timeout). */
const DNS_QUERY_TIMEOUT_MS = 2_000
const DNS_TRIES = 3

/** How much of an unexpected HTTP answer a result keeps. */
const HTTP_EXCERPT_BYTES = 2_048

/** The gate's own `timeout`, or the default of its type, in milliseconds. */
export function gateTimeoutMs(gate: Pick<Gate, 'type' | 'timeout'>): number {
  return gate.timeout === undefined ? DEFAULT_GATE_TIMEOUT_MS[gate.type] : durationMs(gate.timeout)
}

/** Whether every result passed (no results: no gate was asked, so nothing holds the target back). */
export function allPassed(results: readonly GateResult[]): boolean {
  return results.every((r) => r.state === 'passed')
}

/**
 * Runs one gate for one target and says whether the target may proceed. Never throws for
 * anything the world does (see the module comment); the gate's `timeout` (or
 * {@link DEFAULT_GATE_TIMEOUT_MS}) bounds it.
 *
 * @example
 * const result = await runGate('dns', fleet.rollout.gates.dns!, target, account, fleet.settings, environment)
 * if (result.state === 'failed') halt(result.detail)
 */
export async function runGate(
  name: string,
  gate: LoadedGate,
  target: Target,
  account: LoadedAccount,
  settings: FleetSettings,
  environment: GateEnvironment,
): Promise<GateResult> {
  const started = performance.now()
  const limitMs = gateTimeoutMs(gate)
  const deadline = AbortSignal.timeout(limitMs)
  const signal = environment.signal ? AbortSignal.any([deadline, environment.signal]) : deadline
  const run: GateRun = {
    gate,
    target,
    environment,
    signal,
    context: gateContext(target, account, fleetVariable(settings)),
    stopReason: () =>
      deadline.aborted
        ? `did not finish within ${gate.timeout ?? formatDuration(limitMs)} (its timeout); raise the gate's timeout in rollout.yaml if it needs longer`
        : 'was stopped before it finished (the rollout was aborted or paused)',
  }
  let outcome: Outcome
  if (environment.signal?.aborted) {
    outcome = { passed: false, detail: 'was not run: the rollout was aborted or paused' }
  } else {
    try {
      outcome = await CHECKS[gate.type](run)
    } catch (error) {
      if (!(error instanceof GateFailure)) throw error
      outcome = { passed: false, detail: error.message, ...(error.output ? { output: error.output } : {}) }
    }
  }
  const state = outcome.passed ? 'passed' : 'failed'
  return {
    name,
    type: gate.type,
    state,
    detail: `${gate.type} gate "${name}" ${state} for ${target.kind} ${target.id}: ${outcome.detail}`,
    durationMs: Math.round(performance.now() - started),
    ...(outcome.output !== undefined ? { output: outcome.output } : {}),
  }
}

/**
 * Runs the named gates for one target, one after the other in the given order, and keeps every
 * result: a failed gate does not skip the ones after it, so the operator sees the whole picture.
 * A name that `gates` does not define fails.
 */
export async function runGates(
  names: readonly string[],
  gates: Readonly<Record<string, LoadedGate>>,
  target: Target,
  account: LoadedAccount,
  settings: FleetSettings,
  environment: GateEnvironment,
): Promise<GateResult[]> {
  const results: GateResult[] = []
  for (const name of names) {
    const gate = Object.hasOwn(gates, name) ? gates[name] : undefined
    if (gate === undefined) {
      results.push({
        name,
        type: 'unknown',
        state: 'failed',
        detail: `gate "${name}" failed for ${target.kind} ${target.id}: rollout.yaml defines no gate of that name (defined: ${Object.keys(gates).join(', ') || 'none'}); define it under gates`,
        durationMs: 0,
      })
      continue
    }
    results.push(await runGate(name, gate, target, account, settings, environment))
  }
  return results
}

/** What a check found; `runGate` adds the gate, the target and the timing. */
interface Outcome {
  readonly passed: boolean
  readonly detail: string
  readonly output?: string
}

/** One gate being run for one target. */
interface GateRun {
  readonly gate: LoadedGate
  readonly target: Target
  readonly environment: GateEnvironment
  /** Aborts at the gate's deadline or when the environment's signal aborts. */
  readonly signal: AbortSignal
  /** The variables of the gate's templates for this target. */
  readonly context: Readonly<Record<string, unknown>>
  /** Why the gate stopped early, once `signal` aborted. */
  stopReason(): string
}

/** An expected way for a gate to fail: becomes a `failed` result with this message as its detail. */
class GateFailure extends Error {
  readonly output: string | undefined
  constructor(message: string, output?: string) {
    super(message)
    this.name = 'GateFailure'
    this.output = output
  }
}

type Check = (run: GateRun) => Promise<Outcome>

/** The check of each gate type; a `Record` over the types, so each has exactly one. */
const CHECKS: Readonly<Record<GateType, Check>> = {
  health: checkHealth,
  dns: checkDns,
  command: checkCommand,
  http: checkHttp,
  prometheus: checkPrometheus,
}

type GateOf<T extends GateType> = Extract<LoadedGate, { type: T }>

function gateOf<T extends GateType>(run: GateRun, type: T): GateOf<T> {
  if (run.gate.type !== type) throw new Error(`bug: a ${run.gate.type} gate reached the ${type} check`)
  return run.gate as GateOf<T>
}

// ---------------------------------------------------------------------------------------------
// health

async function checkHealth(run: GateRun): Promise<Outcome> {
  const { provider } = run.environment
  let health: Awaited<ReturnType<Provider['health']>>
  try {
    // The port takes no signal: stop waiting at the deadline (the call may finish unobserved).
    health = await untilAborted(provider.health(run.target), run.signal)
  } catch (error) {
    if (run.signal.aborted)
      throw new GateFailure(`the ${provider.name} provider's health check ${run.stopReason()}`)
    const retryable = (error as { retryable?: unknown }).retryable === true
    throw new GateFailure(
      `the ${provider.name} provider could not report health: ${messageOf(error)}${retryable ? ' (a passing problem: retry the target)' : ''}`,
    )
  }
  const failing = health.checks.filter((c) => !c.healthy)
  if (failing.length > 0) {
    return {
      passed: false,
      detail: `unhealthy: ${failing.map((c) => `${c.name}: ${c.detail}`).join('; ')}; fix these on the target (or wait until it settled) and retry`,
    }
  }
  if (!health.healthy) {
    return {
      passed: false,
      detail: `the ${provider.name} provider reports the target unhealthy without naming a failing check; look at the target in the provider`,
    }
  }
  const names = health.checks.map((c) => c.name)
  return {
    passed: true,
    detail: `healthy (${names.length} ${names.length === 1 ? 'check' : 'checks'}: ${listSome(names)})`,
  }
}

// ---------------------------------------------------------------------------------------------
// dns

interface NameOutcome {
  readonly resolves: boolean
  readonly text: string
}

/**
 * Resolves each name with real DNS queries (type A) at `environment.dnsServers`. A name passes
 * when its server answers NOERROR — with addresses, or without any A record (NODATA: the name
 * exists, as a zone apex does). NXDOMAIN, REFUSED, SERVFAIL, an unreachable server and no answer
 * in time fail. All names are asked at once; the detail lists each one's outcome.
 */
async function checkDns(run: GateRun): Promise<Outcome> {
  const gate = gateOf(run, 'dns')
  const names = renderNames(run, gate.names)
  const servers = run.environment.dnsServers
  if (servers.length === 0)
    throw new GateFailure('there is no DNS server to ask (the gate environment lists none)')
  const resolver = new Resolver({ timeout: DNS_QUERY_TIMEOUT_MS, tries: DNS_TRIES })
  try {
    resolver.setServers(servers)
  } catch (error) {
    throw new GateFailure(`cannot ask the DNS servers ${servers.join(', ')}: ${messageOf(error)}`)
  }
  if (run.signal.aborted) throw new GateFailure(`the DNS queries ${run.stopReason()}`)
  const cancel = () => resolver.cancel()
  run.signal.addEventListener('abort', cancel, { once: true })
  let outcomes: NameOutcome[]
  try {
    outcomes = await Promise.all(names.map((name) => resolveName(resolver, name, servers, run)))
  } finally {
    run.signal.removeEventListener('abort', cancel)
  }
  const failing = outcomes.filter((o) => !o.resolves)
  const list = outcomes.map((o) => o.text).join('; ')
  if (failing.length === 0) {
    return {
      passed: true,
      detail: `${names.length === 1 ? 'the name resolves' : `all ${names.length} names resolve`}: ${list}`,
    }
  }
  return {
    passed: false,
    detail: `${failing.length} of ${names.length} ${names.length === 1 ? 'name does' : 'names do'} not resolve at ${servers.join(', ')}: ${list}; check that the zone exists and serves these names (dig @server -p port name)`,
  }
}

async function resolveName(
  resolver: Resolver,
  name: string,
  servers: readonly string[],
  run: GateRun,
): Promise<NameOutcome> {
  try {
    const addresses = await resolver.resolve4(name)
    return { resolves: true, text: `${name} resolves to ${listSome(addresses)}` }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENODATA') return { resolves: true, text: `${name} exists (NOERROR, no A record)` }
    if (run.signal.aborted || code === 'ECANCELLED')
      return { resolves: false, text: `${name}: ${run.stopReason()}` }
    return { resolves: false, text: `${name}: ${dnsErrorText(code, error, servers)}` }
  }
}

function dnsErrorText(code: string | undefined, error: unknown, servers: readonly string[]): string {
  switch (code) {
    case 'ENOTFOUND':
      return 'does not exist (NXDOMAIN)'
    case 'EREFUSED':
      return 'refused (REFUSED: no server is authoritative for it, e.g. its zone was deleted)'
    case 'ESERVFAIL':
      return 'server failure (SERVFAIL)'
    case 'ECONNREFUSED':
      return `the DNS server (${servers.join(', ')}) is not listening (connection refused)`
    case 'ETIMEOUT':
      return `no answer from ${servers.join(', ')} (DNS timeout)`
    case 'EBADNAME':
    case 'EBADQUERY':
      return 'is not a valid domain name'
    default:
      return `${code ?? 'error'}: ${messageOf(error)}`
  }
}

/** The rendered `names`: a list of domain names (a `{{ }}` entry may render to a list of them). */
function renderNames(run: GateRun, raw: readonly string[]): string[] {
  const rendered = renderField(run, 'names', raw)
  const items = (Array.isArray(rendered) ? rendered : [rendered]).flat()
  const names: string[] = []
  for (const item of items) {
    if (typeof item !== 'string' || item.trim() === '') {
      throw new GateFailure(
        `names renders to ${describeValue(item)} for this target, not a domain name; fix the gate's names in rollout.yaml (${formatLocation(run.gate.at)})`,
      )
    }
    if (!names.includes(item)) names.push(item)
  }
  if (names.length === 0)
    throw new GateFailure(
      `names renders to no name for this target; fix the gate in rollout.yaml (${formatLocation(run.gate.at)})`,
    )
  return names
}

// ---------------------------------------------------------------------------------------------
// command

interface ShellResult {
  readonly exitCode: number | null
  readonly exitSignal: NodeJS.Signals | null
  /** Set when the command was stopped (deadline or abort) before it exited. */
  readonly stopped: boolean
  readonly spawnError: Error | undefined
  readonly output: string
}

/**
 * Runs the rendered command line with `sh -c` in `environment.cwd`, in a process group of its
 * own. Exit 0 passes. At the deadline (or an abort) the whole group gets SIGTERM, then SIGKILL
 * after the grace period ({@link COMMAND_KILL_GRACE_MS} unless the environment says otherwise).
 * Once the shell exits, anything it left running in its group is killed too, so no gate outlives
 * its result. Interpolated values are not shell-quoted: they come from the reviewed repository,
 * and the command line is written as the command needs it.
 */
async function checkCommand(run: GateRun): Promise<Outcome> {
  const gate = gateOf(run, 'command')
  const line = renderText(run, 'run', gate.run)
  const { cwd } = run.environment
  try {
    if (!(await stat(cwd)).isDirectory()) throw new Error('not a directory')
  } catch (error) {
    throw new GateFailure(
      `cannot run \`${line}\` in ${cwd}: ${messageOf(error)}; check the rollout's working directory`,
    )
  }
  const { env = process.env, commandKillGraceMs = COMMAND_KILL_GRACE_MS } = run.environment
  const result = await runShell(line, cwd, env, run.signal, commandKillGraceMs)
  const output = result.output
  const withOutput = output === '' ? {} : { output }
  if (result.spawnError !== undefined) {
    throw new GateFailure(`cannot start \`${line}\`: ${result.spawnError.message}`, output || undefined)
  }
  if (result.stopped) {
    return {
      passed: false,
      detail: `\`${line}\` ${run.stopReason()}; its process group was killed${lastLineText(output)}`,
      ...withOutput,
    }
  }
  if (result.exitCode === 0) return { passed: true, detail: `\`${line}\` exited with 0`, ...withOutput }
  const how =
    result.exitCode !== null
      ? `exited with ${result.exitCode}`
      : `was killed by ${result.exitSignal ?? 'a signal'}`
  return {
    passed: false,
    detail: `\`${line}\` ${how}${lastLineText(output)}; see its output`,
    ...withOutput,
  }
}

function runShell(
  line: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  killGraceMs: number,
): Promise<ShellResult> {
  return new Promise((resolve) => {
    const output = new OutputTail(COMMAND_OUTPUT_LIMIT_BYTES)
    // detached: its own process group, so a timeout kills the command's children as well.
    const child = spawn('sh', ['-c', line], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined
    let stopped = false
    let spawnError: Error | undefined
    let done = false
    const timers: NodeJS.Timeout[] = []

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return
      try {
        process.kill(-child.pid, sig)
      } catch {
        // ESRCH: nothing left in the group.
      }
    }
    const finish = () => {
      if (done) return
      done = true
      for (const timer of timers) clearTimeout(timer)
      signal.removeEventListener('abort', stop)
      resolve({
        exitCode: exited?.code ?? null,
        exitSignal: exited?.signal ?? null,
        stopped,
        spawnError,
        output: output.text(),
      })
    }
    function stop() {
      if (exited !== undefined || done) return
      stopped = true
      killGroup('SIGTERM')
      timers.push(setTimeout(() => killGroup('SIGKILL'), killGraceMs))
    }

    child.stdout.on('data', (chunk: Buffer) => output.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk))
    child.once('error', (error) => {
      spawnError = error
      finish()
    })
    child.once('exit', (code, exitSignal) => {
      exited = { code, signal: exitSignal }
      // What the shell left behind (background jobs) would keep the pipes, and the gate, open.
      killGroup('SIGTERM')
      timers.push(
        setTimeout(() => {
          killGroup('SIGKILL')
          child.stdout.destroy()
          child.stderr.destroy()
          finish()
        }, COMMAND_DRAIN_MS),
      )
    })
    child.once('close', finish)
    if (signal.aborted) stop()
    else signal.addEventListener('abort', stop, { once: true })
  })
}

/** The last `limit` bytes of a stream of chunks, and how many came before them. */
class OutputTail {
  private readonly chunks: Buffer[] = []
  private kept = 0
  private dropped = 0
  private readonly limit: number

  constructor(limit: number) {
    this.limit = limit
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.kept += chunk.length
    while (this.chunks.length > 1 && this.kept - this.chunks[0]!.length >= this.limit) {
      const first = this.chunks.shift()!
      this.kept -= first.length
      this.dropped += first.length
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks)
    const cut = Math.max(0, all.length - this.limit)
    const dropped = this.dropped + cut
    const tail = all.subarray(cut).toString('utf8')
    return dropped > 0 ? `[… ${dropped} earlier bytes of output dropped]\n${tail}` : tail
  }
}

function lastLineText(output: string): string {
  const last = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .at(-1)
  return last === undefined ? ' (no output)' : `; last output: ${truncate(last, 200)}`
}

// ---------------------------------------------------------------------------------------------
// http

/**
 * GETs the rendered URL; passes when the status equals `expectStatus`. Redirects are not
 * followed: the status compared is the URL's own answer (expect 301 to check a redirect).
 */
async function checkHttp(run: GateRun): Promise<Outcome> {
  const gate = gateOf(run, 'http')
  const url = renderUrl(run, 'url', gate.url)
  const expected = gate.expectStatus
  let response: Response
  try {
    response = await fetch(url, { signal: run.signal, redirect: 'manual' })
  } catch (error) {
    throw new GateFailure(
      run.signal.aborted
        ? `GET ${url} ${run.stopReason()}`
        : `GET ${url} failed: ${networkErrorText(error)}; check that the service is up and reachable from here`,
    )
  }
  if (response.status === expected) {
    await response.body?.cancel().catch(() => {})
    return { passed: true, detail: `GET ${url} answered ${response.status}` }
  }
  const excerpt = await bodyExcerpt(response)
  return {
    passed: false,
    detail: `GET ${url} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}, expected ${expected}; check the service at that URL`,
    ...(excerpt ? { output: excerpt } : {}),
  }
}

/** The first {@link HTTP_EXCERPT_BYTES} of a body, or '' when it cannot be read (in time). */
async function bodyExcerpt(response: Response): Promise<string> {
  const reader = response.body?.getReader()
  if (reader === undefined) return ''
  const chunks: Uint8Array[] = []
  let length = 0
  try {
    while (length < HTTP_EXCERPT_BYTES) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      length += value.length
    }
  } catch {
    // The deadline or a broken connection: keep what arrived.
  } finally {
    await reader.cancel().catch(() => {})
  }
  return Buffer.concat(chunks).subarray(0, HTTP_EXCERPT_BYTES).toString('utf8')
}

// ---------------------------------------------------------------------------------------------
// prometheus

/**
 * Runs an instant query (`GET <url>/api/v1/query?query=…`, the Prometheus HTTP API) and judges
 * its value with the gate's condition, where `result` is that value as a double. The query must
 * give exactly one finite number: a scalar, or a vector of one sample. No data (an empty
 * vector), several samples (aggregate them in the query: `sum(…)`, `max(…)`), NaN or ±Inf
 * (usually a division by zero without traffic), a range vector, an error status or an answer
 * that is not the API's JSON all fail.
 */
async function checkPrometheus(run: GateRun): Promise<Outcome> {
  const gate = gateOf(run, 'prometheus')
  const base = renderUrl(run, 'url', gate.url)
  const query = renderText(run, 'query', gate.query)
  const endpoint = new URL(base)
  endpoint.pathname = `${endpoint.pathname.replace(/\/+$/, '')}/api/v1/query`
  endpoint.searchParams.set('query', query)
  const where = `Prometheus at ${base}`
  let status: number
  let text: string
  try {
    const response = await fetch(endpoint, { signal: run.signal, headers: { accept: 'application/json' } })
    status = response.status
    text = await response.text()
  } catch (error) {
    throw new GateFailure(
      run.signal.aborted
        ? `the query to ${where} ${run.stopReason()}`
        : `cannot query ${where}: ${networkErrorText(error)}; a gate without its data source fails — check that Prometheus is up and reachable`,
    )
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new GateFailure(
      `${where} answered ${status} with something that is not the Prometheus API's JSON (${truncate(text.trim(), 120) || 'an empty body'}); check the gate's url`,
    )
  }
  const answer = isRecord(body) ? body : {}
  if (status !== 200 || answer.status !== 'success') {
    const why =
      typeof answer.error === 'string'
        ? `${String(answer.errorType ?? 'error')}: ${answer.error}`
        : `status ${String(answer.status)}`
    throw new GateFailure(
      `${where} answered ${status} to the query \`${query}\`: ${why}; check the query in Prometheus`,
    )
  }
  const value = sampleValue(answer.data, query)
  const warnings =
    Array.isArray(answer.warnings) && answer.warnings.length > 0
      ? ` (Prometheus warns: ${answer.warnings.map(String).join('; ')})`
      : ''
  const condition = conditionOf(gate)
  let verdict: unknown
  try {
    verdict = condition.evaluate({ result: value, target: targetVariable(run.target) })
  } catch (error) {
    throw new GateFailure(
      `the condition \`${condition.source}\` could not be evaluated with result = ${value}: ${messageOf(error)}; fix it in rollout.yaml (${formatLocation(gate.at)})`,
    )
  }
  if (typeof verdict !== 'boolean') {
    throw new GateFailure(
      `the condition \`${condition.source}\` gave ${describeValue(verdict)} with result = ${value}, not true or false; fix it in rollout.yaml (${formatLocation(gate.at)})`,
    )
  }
  return {
    passed: verdict,
    detail: `result = ${value}, so \`${condition.source}\` is ${verdict}${warnings}${verdict ? '' : `; the query was \`${query}\``}`,
  }
}

/** The one finite number an instant query's `data` holds, or a {@link GateFailure} saying why not. */
function sampleValue(data: unknown, query: string): number {
  const d = isRecord(data) ? data : {}
  let raw: unknown
  if (d.resultType === 'scalar') {
    raw = Array.isArray(d.result) ? d.result[1] : undefined
  } else if (d.resultType === 'vector' && Array.isArray(d.result)) {
    const samples: unknown[] = d.result
    if (samples.length === 0) {
      throw new GateFailure(
        `the query \`${query}\` returned no data (an empty vector): the metric may not exist for this target yet, or has no samples; a gate without data fails`,
      )
    }
    if (samples.length > 1) {
      const series = samples.map((s) => JSON.stringify(isRecord(s) ? (s.metric ?? {}) : s))
      throw new GateFailure(
        `the query \`${query}\` returned ${samples.length} series (${listSome(series, 3)}), but the condition judges one number; aggregate it in the query (sum(…), max(…))`,
      )
    }
    const sample = samples[0]
    raw = isRecord(sample) && Array.isArray(sample.value) ? sample.value[1] : undefined
  } else {
    throw new GateFailure(
      `the query \`${query}\` returned ${typeof d.resultType === 'string' ? `a ${d.resultType}` : 'no result type'}, not an instant vector or scalar; write an instant query that gives one number`,
    )
  }
  if (typeof raw !== 'string') {
    throw new GateFailure(`the answer to \`${query}\` has no sample value where the Prometheus API puts it`)
  }
  const value = raw.trim() === '' ? Number.NaN : Number(raw)
  if (!Number.isFinite(value)) {
    throw new GateFailure(
      `the query \`${query}\` returned ${raw}, not a finite number (NaN or ±Inf usually mean a division by zero where there is no traffic)`,
    )
  }
  return value
}

/** The compiled condition; a gate built by hand (not by the loader) gets it compiled here. */
function conditionOf(gate: GateOf<'prometheus'>): CompiledExpression {
  if (gate.compiledCondition) return gate.compiledCondition.expression
  const compiled = compileExpression(gate.condition, 'gate-condition')
  if (compiled instanceof ExpressionError) {
    throw new GateFailure(`the condition \`${gate.condition}\` is not valid CEL: ${compiled.message}`)
  }
  return compiled
}

// ---------------------------------------------------------------------------------------------
// templates and small helpers

/** Renders one of the gate's template fields for the target; a render error fails the gate. */
function renderField(run: GateRun, field: string, raw: unknown): unknown {
  const node = run.gate.templates[field]
  if (node === undefined) return raw
  try {
    return renderNode(node, run.context)
  } catch (error) {
    if (!(error instanceof RenderError)) throw error
    throw new GateFailure(
      `its ${field} cannot be rendered for this target: ${error.message} (${formatLocation(error.at)}); fix the gate or the target's config (flotilla validate renders every gate for the targets of the stages that use it)`,
    )
  }
}

function renderText(run: GateRun, field: string, raw: string): string {
  const value = renderField(run, field, raw)
  if (typeof value === 'string' && value.trim() !== '') return value
  throw new GateFailure(
    `its ${field} renders to ${describeValue(value)} for this target, not text; fix the gate in rollout.yaml (${formatLocation(run.gate.at)})`,
  )
}

function renderUrl(run: GateRun, field: string, raw: string): string {
  const url = renderText(run, field, raw)
  const parsed = URL.canParse(url) ? new URL(url) : undefined
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new GateFailure(
      `its ${field} renders to ${JSON.stringify(url)}, not an http(s) URL; fix the gate in rollout.yaml (${formatLocation(run.gate.at)})`,
    )
  }
  return url
}

/** Resolves like `promise`, or rejects once `signal` aborts, whichever comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/** `fetch failed` says nothing; its cause says what happened (`connect ECONNREFUSED 127.0.0.1:80`). */
function networkErrorText(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error
  const code = (cause as { code?: unknown }).code
  if (code === 'ECONNREFUSED') return `connection refused (nothing listens there): ${messageOf(cause)}`
  if (code === 'ENOTFOUND') return `the host name does not resolve: ${messageOf(cause)}`
  return messageOf(cause) || String(code ?? 'unknown error')
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') return error.errors.map(messageOf).join('; ')
  return error instanceof Error ? error.message : String(error)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (typeof value === 'string') return value.trim() === '' ? 'an empty string' : JSON.stringify(value)
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return `${typeof value} ${String(value)}`
}

function listSome(items: readonly string[], max = 10): string {
  return items.length <= max
    ? items.join(', ')
    : `${items.slice(0, max).join(', ')} and ${items.length - max} more`
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

function formatLocation(at: Location): string {
  return `${at.file}:${at.line}:${at.col}`
}

/** Milliseconds as a duration of `rollout.yaml` (`1m30s`). */
function formatDuration(ms: number): string {
  let seconds = Math.round(ms / 1000)
  const hours = Math.floor(seconds / 3600)
  seconds -= hours * 3600
  const minutes = Math.floor(seconds / 60)
  seconds -= minutes * 60
  const text = `${hours ? `${hours}h` : ''}${minutes ? `${minutes}m` : ''}${seconds ? `${seconds}s` : ''}`
  return text || '0s'
}
