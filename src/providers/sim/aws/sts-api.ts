/**
 * The simulated STS query API: `GetCallerIdentity` and `AssumeRole`. Any account of the
 * simulated fleet may assume any role name in any other (the simulator has no IAM); the
 * temporary credentials name the role's account (see `credentials.ts`).
 */
import { createHash } from 'node:crypto'
import type { AwsCall } from './aws-call.ts'
import { AwsError, validationError } from './aws-errors.ts'
import { issueCredentials } from './credentials.ts'
import type { XmlObject } from './xml.ts'

/** The namespace of STS's XML. */
export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/'

type Action = (call: AwsCall, accountExists: (account: string) => Promise<boolean>) => Promise<XmlObject>

/** The actions of the simulated STS, by name. */
export const stsActions: Readonly<Record<string, Action>> = {
  GetCallerIdentity: getCallerIdentity,
  AssumeRole: assumeRole,
}

async function getCallerIdentity(call: AwsCall): Promise<XmlObject> {
  const role = call.identity.assumedRole
  if (role)
    return {
      Arn: `arn:aws:sts::${role.account}:assumed-role/${role.role.slice(role.role.lastIndexOf('/') + 1)}/${role.session}`,
      UserId: `${roleId(role.account, role.role)}:${role.session}`,
      Account: role.account,
    }
  return { Arn: `arn:aws:iam::${call.account.id}:root`, UserId: call.account.id, Account: call.account.id }
}

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64})$/

async function assumeRole(
  call: AwsCall,
  accountExists: (account: string) => Promise<boolean>,
): Promise<XmlObject> {
  const arn = call.params.get('RoleArn') ?? ''
  const session = call.params.get('RoleSessionName') ?? ''
  const match = ROLE_ARN.exec(arn)
  if (!match)
    throw validationError(`${arn || 'RoleArn'} is not a valid role ARN (arn:aws:iam::<account>:role/<name>)`)
  if (!/^[\w+=,.@-]{2,64}$/.test(session))
    throw validationError(
      `1 validation error detected: Value '${session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    )
  const seconds = Number(call.params.get('DurationSeconds') ?? 3600)
  if (!Number.isInteger(seconds) || seconds < 900 || seconds > 43200)
    throw validationError(
      `1 validation error detected: Value '${call.params.get('DurationSeconds')}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`,
    )
  const [, account, role] = match as unknown as [string, string, string]
  if (!(await accountExists(account)))
    throw new AwsError(
      'AccessDenied',
      `User: ${callerArn(call)} is not authorized to perform: sts:AssumeRole on resource: ${arn} (account ${account} is not an account of the simulated fleet)`,
      403,
    )
  const expiresAt = new Date(call.now().getTime() + seconds * 1000)
  const credentials = issueCredentials({ account, role, session, expiresAt })
  const name = role.slice(role.lastIndexOf('/') + 1)
  return {
    Credentials: {
      AccessKeyId: credentials.accessKeyId,
      SecretAccessKey: credentials.secretAccessKey,
      SessionToken: credentials.sessionToken,
      Expiration: expiresAt,
    },
    AssumedRoleUser: {
      AssumedRoleId: `${roleId(account, role)}:${session}`,
      Arn: `arn:aws:sts::${account}:assumed-role/${name}/${session}`,
    },
  }
}

function callerArn(call: AwsCall): string {
  const role = call.identity.assumedRole
  return role
    ? `arn:aws:sts::${role.account}:assumed-role/${role.role}/${role.session}`
    : `arn:aws:iam::${call.account.id}:root`
}

/** A role's unique id (`AROA…`), the same for the same role every time. */
function roleId(account: string, role: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  const hash = createHash('sha256').update(`${account}/${role}`).digest()
  return `AROA${[...hash.subarray(0, 17)].map((byte) => alphabet[byte % alphabet.length]).join('')}`
}
