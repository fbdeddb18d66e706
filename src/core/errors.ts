import { type Diagnostic, formatDiagnostic } from './diagnostics.ts'

/**
 * What kind of error a user met: each face maps it once (the CLI to an exit code, the HTTP API
 * to a status):
 * - `input`: bad input (400; exit 1);
 * - `not-found`: something named does not exist (404; exit 1);
 * - `conflict`: the request clashes with the current state (409; exit 1);
 * - `policy`: a deployment policy forbids it (422; exit 3);
 * - `forbidden`: the one asking may not do this (403; exit 1);
 * - `unavailable`: something outside Flotilla fails for now; the same request may succeed later
 *   (503 with `Retry-After`; exit 6).
 */
export type ErrorKind = 'input' | 'not-found' | 'conflict' | 'policy' | 'forbidden' | 'unavailable'

/**
 * Marks an error as one of the taxonomy, under a key shared by every copy of this module in a
 * process (`Symbol.for`): two copies of the code (a bundle beside the sources, a test runner that
 * loads a module twice) each have their own classes, so `instanceof` alone would miss the
 * other's errors. The value is the kind.
 */
const KIND: unique symbol = Symbol.for('flotilla.error-kind')

/** Marks a {@link ProviderError} the same way (its code). */
const PROVIDER_CODE: unique symbol = Symbol.for('flotilla.provider-error-code')

/**
 * The error taxonomy of the core. Every error a user can cause or meet is one of these; anything
 * else that escapes is a bug. The CLI maps them to exit codes and the HTTP API to statuses, each
 * in exactly one place (by {@link FlotillaError.kind}).
 */
export abstract class FlotillaError extends Error {
  abstract readonly kind: ErrorKind

  /**
   * For an `unavailable` error: after how many seconds trying again makes sense (HTTP's
   * `Retry-After`). @default undefined (not retryable)
   */
  get retryAfterSeconds(): number | undefined {
    return undefined
  }

  /** The brand of {@link isFlotillaError}; a getter, so it follows `kind` whatever sets it. */
  get [KIND](): ErrorKind {
    return this.kind
  }
}

/**
 * Whether `value` is an error of the taxonomy — of this copy of the module or of another one
 * loaded into the same process (see {@link KIND}).
 */
export function isFlotillaError(value: unknown): value is FlotillaError {
  return (
    value instanceof FlotillaError ||
    (value instanceof Error && typeof (value as unknown as Record<symbol, unknown>)[KIND] === 'string')
  )
}

/** Bad input: an invalid repository, a bad argument. Carries every diagnostic found, not just the first. */
export class InputError extends FlotillaError {
  readonly kind = 'input'
  readonly diagnostics: readonly Diagnostic[]

  constructor(message: string, diagnostics: readonly Diagnostic[] = [], options?: ErrorOptions) {
    super(
      diagnostics.length > 0 ? `${message}\n${diagnostics.map(formatDiagnostic).join('\n')}` : message,
      options,
    )
    this.name = 'InputError'
    this.diagnostics = diagnostics
  }
}

/** Something named does not exist: a target id, a revision, a file. */
export class NotFoundError extends FlotillaError {
  readonly kind = 'not-found'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'NotFoundError'
  }
}

/** The request clashes with the current state: a directory that is not empty, a lock held by another run. */
export class ConflictError extends FlotillaError {
  readonly kind = 'conflict'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ConflictError'
  }
}

/** A deployment policy forbids what was asked. */
export class PolicyError extends FlotillaError {
  readonly kind = 'policy'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'PolicyError'
  }
}

/** The one asking may not do this (access control): who they are is known, what they asked is not theirs. */
export class ForbiddenError extends FlotillaError {
  readonly kind = 'forbidden'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ForbiddenError'
  }
}

/** Why a provider call failed, as far as the caller needs to know to react. */
export type ProviderErrorCode =
  /** Too many requests: retry later. */
  | 'throttled'
  /** The API failed or is unreachable (an outage, a 5xx): retry later. */
  | 'unavailable'
  /** Something is still changing (a stack in progress): retry when it settled. */
  | 'busy'
  /** The provider refuses: an unapproved destruction, a protected stack, a wrong account. Do not retry. */
  | 'refused'
  /** The request is wrong for this provider (an unsupported target kind). Do not retry. */
  | 'invalid'

/**
 * The kind of each provider failure in the taxonomy:
 * - `throttled`, `unavailable`, `busy` → `unavailable`: the cloud, not the request, is the
 *   problem, and the same request may succeed later;
 * - `refused` → `conflict`: the request clashes with the state of the target (a protected
 *   resource, a stack that is not Flotilla's to change, credentials of another account). Not
 *   `forbidden`, which says the one asking lacks a right in Flotilla — their role would not help;
 * - `invalid` → `input`: the fleet asks this provider for something it does not do (a cluster
 *   on `aws`, a stack it cannot track): the repository or inventory is to fix.
 */
export const PROVIDER_ERROR_KIND = {
  throttled: 'unavailable',
  unavailable: 'unavailable',
  busy: 'unavailable',
  refused: 'conflict',
  invalid: 'input',
} as const satisfies Record<ProviderErrorCode, ErrorKind>

/**
 * When to try again after a retryable provider failure, in seconds: throttling passes quickly, an
 * outage takes longer, a stack in progress takes minutes.
 */
const RETRY_AFTER_SECONDS: Readonly<Partial<Record<ProviderErrorCode, number>>> = {
  throttled: 10,
  unavailable: 30,
  busy: 60,
}

/**
 * A typed provider failure: says what failed, where, and whether retrying may help. Part of the
 * taxonomy through its {@link ProviderError.kind} (see {@link PROVIDER_ERROR_KIND}).
 */
export class ProviderError extends FlotillaError {
  override readonly name = 'ProviderError'
  readonly code: ProviderErrorCode
  readonly kind: (typeof PROVIDER_ERROR_KIND)[ProviderErrorCode]
  /** The target concerned (`''` when none is: a snapshot of another provider). */
  readonly target: string
  /** The stack or object concerned, when there is one. */
  readonly address: string | undefined

  constructor(
    code: ProviderErrorCode,
    target: string,
    message: string,
    address?: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.code = code
    this.kind = PROVIDER_ERROR_KIND[code]
    this.target = target
    this.address = address
  }

  /** Whether the same call may succeed later (throttling, an outage, a busy stack). */
  get retryable(): boolean {
    return this.kind === 'unavailable'
  }

  override get retryAfterSeconds(): number | undefined {
    return RETRY_AFTER_SECONDS[this.code]
  }

  /** The brand of {@link isProviderError}. */
  get [PROVIDER_CODE](): ProviderErrorCode {
    return this.code
  }
}

/** What to do about each provider failure, for the one-line message of the faces. */
const PROVIDER_ADVICE: Readonly<Record<ProviderErrorCode, string>> = {
  throttled: 'the cloud is throttling these calls: try again in a minute',
  unavailable: "the cloud's API is failing or out of reach: try again later",
  busy: 'something there is still changing: try again once it has settled',
  refused: 'the provider refused, and retrying will not change that: fix what it says first',
  invalid: "retrying will not help: fix the repository, the inventory or the provider's settings",
}

/**
 * A provider failure in one line, as the CLI prints it and the HTTP API answers it: where (the
 * target and the address, unless what the provider said names them already), what the provider
 * said (its first line), and what to do.
 * @example "target 123456789012 (123456789012/eu-west-1/vpc): cannot read the template: Throttling: Rate exceeded; the cloud is throttling these calls: try again in a minute"
 */
export function describeProviderError(error: ProviderError): string {
  const said = error.message.split('\n')[0] ?? ''
  const named = (name: string | undefined) => name === undefined || name === '' || said.includes(name)
  const target = named(error.target) ? '' : `target ${error.target}`
  const address = named(error.address) ? '' : (error.address ?? '')
  const where =
    target && address ? `${target} (${address}): ` : target || address ? `${target || address}: ` : ''
  return `${where}${said}; ${PROVIDER_ADVICE[error.code]}`
}

/**
 * Whether `value` is a {@link ProviderError}, of this copy of the module or another one (see
 * {@link KIND}). Catching by `error.name === 'ProviderError'` also matched any error that merely
 * took the name, with no `code` to react to.
 */
export function isProviderError(value: unknown): value is ProviderError {
  return (
    value instanceof ProviderError ||
    (value instanceof Error &&
      typeof (value as unknown as Record<symbol, unknown>)[PROVIDER_CODE] === 'string')
  )
}
