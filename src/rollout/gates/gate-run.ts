/**
 * What every gate kind shares: the result and the environment of a gate, one gate being run
 * (`GateRun`), the expected way for a check to fail (`GateFailure`), rendering a gate's templates
 * for the target, and the small helpers that word details.
 */
import type { Location } from '../../core/diagnostics.ts'
import type { LoadedGate, Target } from '../../core/model/fleet-model.ts'
import type { Gate } from '../../core/model/rollout.ts'
import type { Provider } from '../../core/provider/port.ts'
import { RenderError, renderNode } from '../../core/render/evaluate.ts'

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
  /**
   * The target's provider: asked by `health` gates, and by `dns` gates for where to look (its
   * `gateEndpoints`: the simulated fleet names its own DNS server; a cloud names none).
   */
  readonly provider: Provider
  /**
   * `host:port` of the DNS servers `dns` gates ask when the target's provider names none: the
   * resolvers an operator configured. @default the machine's resolvers. An empty list fails those
   * `dns` gates.
   */
  readonly dnsServers?: readonly string[]
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

/** What a check found; `runGate` adds the gate, the target and the timing. */
export interface Outcome {
  readonly passed: boolean
  readonly detail: string
  readonly output?: string
}

/** One gate being run for one target. */
export interface GateRun {
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
export class GateFailure extends Error {
  readonly output: string | undefined
  constructor(message: string, output?: string) {
    super(message)
    this.name = 'GateFailure'
    this.output = output
  }
}

export type Check = (run: GateRun) => Promise<Outcome>

export type GateOf<T extends GateType> = Extract<LoadedGate, { type: T }>

export function gateOf<T extends GateType>(run: GateRun, type: T): GateOf<T> {
  if (run.gate.type !== type) throw new Error(`bug: a ${run.gate.type} gate reached the ${type} check`)
  return run.gate as GateOf<T>
}

/** Renders one of the gate's template fields for the target; a render error fails the gate. */
export function renderField(run: GateRun, field: string, raw: unknown): unknown {
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

export function renderText(run: GateRun, field: string, raw: string): string {
  const value = renderField(run, field, raw)
  if (typeof value === 'string' && value.trim() !== '') return value
  throw new GateFailure(
    `its ${field} renders to ${describeValue(value)} for this target, not text; fix the gate in rollout.yaml (${formatLocation(run.gate.at)})`,
  )
}

export function renderUrl(run: GateRun, field: string, raw: string): string {
  const url = renderText(run, field, raw)
  const parsed = URL.canParse(url) ? new URL(url) : undefined
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new GateFailure(
      `its ${field} renders to ${JSON.stringify(url)}, not an http(s) URL; fix the gate in rollout.yaml (${formatLocation(run.gate.at)})`,
    )
  }
  return url
}

/** `fetch failed` says nothing; its cause says what happened (`connect ECONNREFUSED 127.0.0.1:80`). */
export function networkErrorText(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error
  const code = (cause as { code?: unknown }).code
  if (code === 'ECONNREFUSED') return `connection refused (nothing listens there): ${messageOf(cause)}`
  if (code === 'ENOTFOUND') return `the host name does not resolve: ${messageOf(cause)}`
  return messageOf(cause) || String(code ?? 'unknown error')
}

export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') return error.errors.map(messageOf).join('; ')
  return error instanceof Error ? error.message : String(error)
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (typeof value === 'string') return value.trim() === '' ? 'an empty string' : JSON.stringify(value)
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return `${typeof value} ${String(value)}`
}

export function listSome(items: readonly string[], max = 10): string {
  return items.length <= max
    ? items.join(', ')
    : `${items.slice(0, max).join(', ')} and ${items.length - max} more`
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

export function formatLocation(at: Location): string {
  return `${at.file}:${at.line}:${at.col}`
}

/** Milliseconds as a duration of `rollout.yaml` (`1m30s`). */
export function formatDuration(ms: number): string {
  let seconds = Math.round(ms / 1000)
  const hours = Math.floor(seconds / 3600)
  seconds -= hours * 3600
  const minutes = Math.floor(seconds / 60)
  seconds -= minutes * 60
  const text = `${hours ? `${hours}h` : ''}${minutes ? `${minutes}m` : ''}${seconds ? `${seconds}s` : ''}`
  return text || '0s'
}
