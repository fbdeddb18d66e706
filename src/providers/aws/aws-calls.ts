/** How the `aws` provider's modules call the SDK: each request may be cut short by the caller's signal. */

/** The part of the SDK's `send` options the provider sets. */
export interface SendOptions {
  readonly abortSignal?: AbortSignal
}

/**
 * The options of an SDK `send` that `signal` cuts short (the SDK aborts the request); without a
 * signal, none. The SDK then rejects with an error of its own; the provider's methods reject with
 * the signal's reason (`untilAborted`).
 */
export function sendOptions(signal: AbortSignal | undefined): SendOptions {
  return signal ? { abortSignal: signal } : {}
}
