import { expect } from 'vitest'

/** A request a test server holds open: resolves `closed` when the client gives it up. */
export interface HeldRequest {
  readonly closed: Promise<void>
}

/**
 * Starts `call`, waits until the test server holds its request (`held`), aborts the call's signal
 * and checks what a provider owes its caller: the call rejects with the abort's reason within a
 * second, and the request under way is closed within a second (not left to finish). Returns the
 * held request for the caller's own checks of what it was.
 */
export async function expectAbortsPromptly<R extends HeldRequest>(
  name: string,
  call: (signal: AbortSignal) => Promise<unknown>,
  held: Promise<void>,
  hanging: readonly R[],
): Promise<R> {
  const stop = new AbortController()
  const outcome = call(stop.signal).then(
    () => 'resolved',
    (error: unknown) => error,
  )
  await held
  const reason = new Error(`stopping ${name}`)
  const started = Date.now()
  stop.abort(reason)
  expect(await outcome).toBe(reason)
  expect(Date.now() - started).toBeLessThan(1000)
  const request = hanging.at(-1)!
  await expect(
    Promise.race([
      request.closed.then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('open'), 1000)),
    ]),
  ).resolves.toBe('closed')
  return request
}
