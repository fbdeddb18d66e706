/**
 * Errors of the simulated AWS endpoints, in the shapes the AWS SDK parses: a code, a message,
 * who is at fault (`Sender` or `Receiver`) and the HTTP status AWS answers with.
 */
import { InputError } from '../../../core/errors.ts'
import { ProviderError } from '../../../core/provider/port.ts'

/** An error an AWS API answers with. */
export class AwsError extends Error {
  override readonly name = 'AwsError'
  /** The error code the SDK turns into an exception class (`ValidationError`, `Throttling`, …). */
  readonly code: string
  readonly status: number
  /** Route 53's `InvalidChangeBatch` lists every problem of a batch. */
  readonly messages: readonly string[]

  constructor(code: string, message: string, status = 400, messages: readonly string[] = []) {
    super(message)
    this.code = code
    this.status = status
    this.messages = messages
  }

  /** `Sender` for what the caller must fix, `Receiver` for what is the service's fault. */
  get faultType(): 'Sender' | 'Receiver' {
    return this.status >= 500 ? 'Receiver' : 'Sender'
  }
}

/** CloudFormation's and STS's error for a request that is not valid as given. */
export function validationError(message: string): AwsError {
  return new AwsError('ValidationError', message)
}

/**
 * The AWS error for whatever a handler threw: an {@link AwsError} as it is, a simulated fault
 * (throttling, an outage, an internal failure) as AWS reports those, bad input as a validation
 * error; anything else is a bug of the simulator and answers `InternalFailure` (500).
 */
export function toAwsError(error: unknown): AwsError {
  if (error instanceof AwsError) return error
  if (error instanceof ProviderError) {
    if (error.code === 'throttled') return new AwsError('Throttling', 'Rate exceeded', 400)
    // The sim's messages start with the code (`InternalFailure: …`); AWS gives the code on its own.
    if (error.code === 'unavailable')
      return new AwsError('InternalFailure', error.message.replace(/^InternalFailure: /, ''), 500)
  }
  if (error instanceof InputError) return validationError(error.message)
  const message = error instanceof Error ? error.message : String(error)
  return new AwsError('InternalFailure', `the simulated AWS endpoint failed: ${message}`, 500)
}
