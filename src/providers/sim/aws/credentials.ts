/**
 * Who calls the simulated AWS endpoints: the `Authorization` header (SigV4, parsed but never
 * verified: any secret is accepted) names an access key id, a region and a service, and the
 * access key id names the account of the simulated fleet the call is in:
 *
 * - a 12-digit access key id is that account id (`111111111111`), as in LocalStack;
 * - `AKIA` + the 12-digit account id + any 4 letters or digits (`AKIA111111111111SIMX`) is a
 *   long-term key of that account, shaped like a real one;
 * - `ASIA` + the 12-digit account id + 4 characters is a temporary key `AssumeRole` issued; its
 *   session token (`X-Amz-Security-Token`) says which role and session it stands for, and until when.
 */
import { randomBytes } from 'node:crypto'
import { AwsError } from './aws-errors.ts'

/** What the `Authorization` header says. */
export interface SignedRequest {
  readonly accessKeyId: string
  readonly region: string
  /** The signing name: `cloudformation`, `route53`, `sts`. */
  readonly service: string
}

/** The identity of a call: an account, and the role assumed in it when there is one. */
export interface CallerIdentity {
  readonly account: string
  readonly accessKeyId: string
  readonly assumedRole?: AssumedRole
}

/** A role session issued by `AssumeRole`, carried in the session token. */
export interface AssumedRole {
  readonly account: string
  /** The role's name, with its path (`deploy`, `ops/deploy`). */
  readonly role: string
  readonly session: string
  readonly expiresAt: Date
}

const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/

/** Parses a SigV4 `Authorization` header; refuses a request without one, as AWS does. */
export function parseAuthorization(header: string | undefined): SignedRequest {
  if (header === undefined || header === '')
    throw new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403)
  const match = CREDENTIAL.exec(header)
  if (!match || !header.startsWith('AWS4-HMAC-SHA256 '))
    throw new AwsError(
      'IncompleteSignature',
      'Authorization header requires an AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request',
      403,
    )
  return { accessKeyId: match[1]!, region: match[2]!, service: match[3]! }
}

const LONG_TERM_KEY = /^(?:(\d{12})|AKIA(\d{12})[A-Z0-9]{4})$/
const TEMPORARY_KEY = /^ASIA(\d{12})[A-Z0-9]{4}$/

/**
 * The account and role an access key id (and session token) stand for; `now` decides whether
 * a temporary key has expired. Whether the account exists is for the caller to check.
 */
export function identify(accessKeyId: string, sessionToken: string | undefined, now: Date): CallerIdentity {
  const temporary = TEMPORARY_KEY.exec(accessKeyId)
  if (temporary) {
    const role = sessionToken === undefined ? undefined : decodeSessionToken(sessionToken)
    if (!role || role.account !== temporary[1])
      throw new AwsError(
        'InvalidClientTokenId',
        `The security token included in the request is invalid: temporary access key ${accessKeyId} needs the session token AssumeRole returned with it`,
        403,
      )
    if (role.expiresAt.getTime() <= now.getTime())
      throw new AwsError('ExpiredToken', 'The security token included in the request is expired', 400)
    return { account: role.account, accessKeyId, assumedRole: role }
  }
  const longTerm = LONG_TERM_KEY.exec(accessKeyId)
  if (!longTerm)
    throw new AwsError(
      'InvalidClientTokenId',
      `The security token included in the request is invalid: access key id ${accessKeyId} names no account; use the 12-digit account id (or AKIA + the account id + 4 characters) as the access key id`,
      403,
    )
  return { account: (longTerm[1] ?? longTerm[2])!, accessKeyId }
}

/** Temporary credentials for a role session: the key names the account, the token the session. */
export function issueCredentials(role: AssumedRole): {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
} {
  return {
    accessKeyId: `ASIA${role.account}${randomSuffix()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: Buffer.from(
      JSON.stringify({ ...role, expiresAt: role.expiresAt.toISOString() }),
      'utf8',
    ).toString('base64url'),
  }
}

function randomSuffix(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  return [...randomBytes(4)].map((byte) => alphabet[byte % alphabet.length]).join('')
}

function decodeSessionToken(token: string): AssumedRole | undefined {
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>
    const { account, role, session, expiresAt } = decoded
    if (typeof account !== 'string' || typeof role !== 'string' || typeof session !== 'string')
      return undefined
    const expires = new Date(String(expiresAt))
    if (Number.isNaN(expires.getTime())) return undefined
    return { account, role, session, expiresAt: expires }
  } catch {
    return undefined
  }
}
