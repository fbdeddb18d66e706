import { type Diagnostic, formatDiagnostic } from './diagnostics.ts'

/**
 * The error taxonomy of the core. Every error a user can cause is one of these; anything else
 * that escapes is a bug. The CLI maps them to exit codes and the HTTP API to statuses, each in
 * exactly one place.
 */
export abstract class FlotillaError extends Error {
  abstract readonly kind: 'input' | 'not-found' | 'conflict' | 'policy' | 'forbidden'
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
