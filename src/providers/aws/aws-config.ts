/**
 * How the `aws` provider reaches AWS, from the environment, as the AWS tools themselves are
 * configured: credentials come from the SDK's default chain (`AWS_PROFILE`, `AWS_ACCESS_KEY_ID`,
 * SSO, an instance or pod role…) and are only used to assume the deployment role in each account.
 */
import type { STSClientConfig } from '@aws-sdk/client-sts'
import { InputError } from '../../core/errors.ts'

/** The provider's settings. */
export interface AwsConfig {
  /**
   * The role assumed in each account, with `{account}` for its id.
   * @default arn:aws:iam::{account}:role/flotilla-deployer
   */
  readonly roleArn: string
  /** The region of the STS calls (stacks go to each account's own regions). @default us-east-1 */
  readonly region: string
  /** One endpoint for every AWS API (the simulated fleet's, `flotilla sim serve`'s `aws`). */
  readonly endpoint?: string
  /** `sts:ExternalId` of the role's trust policy, when it asks for one. */
  readonly externalId?: string
  /** The base credentials. @default the SDK's default chain */
  readonly credentials?: STSClientConfig['credentials']
  /** Attempts of one call (the SDK backs off between them, longer when throttled). @default 8 */
  readonly maxAttempts?: number
}

/** The default deployment role. */
export const DEFAULT_ROLE_ARN = 'arn:aws:iam::{account}:role/flotilla-deployer'

/**
 * Reads the settings from the environment:
 * `FLOTILLA_AWS_ROLE_ARN`, `FLOTILLA_AWS_REGION` (else `AWS_REGION`), `FLOTILLA_AWS_ENDPOINT`
 * (else `AWS_ENDPOINT_URL`) and `FLOTILLA_AWS_EXTERNAL_ID`.
 */
export function awsConfigFromEnvironment(env: NodeJS.ProcessEnv = process.env): AwsConfig {
  const roleArn = env.FLOTILLA_AWS_ROLE_ARN ?? DEFAULT_ROLE_ARN
  if (!roleArn.includes('{account}') || !/^arn:aws[\w-]*:iam::\{account\}:role\/[\w+=,.@/-]+$/.test(roleArn))
    throw new InputError(
      `FLOTILLA_AWS_ROLE_ARN "${roleArn}" is not a role ARN with {account} for the account id, e.g. ${DEFAULT_ROLE_ARN}`,
    )
  const endpoint = env.FLOTILLA_AWS_ENDPOINT ?? env.AWS_ENDPOINT_URL
  const externalId = env.FLOTILLA_AWS_EXTERNAL_ID
  return {
    roleArn,
    region: env.FLOTILLA_AWS_REGION ?? env.AWS_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(externalId ? { externalId } : {}),
  }
}

/** The role ARN of one account. */
export function roleArnOf(config: Pick<AwsConfig, 'roleArn'>, account: string): string {
  return config.roleArn.replaceAll('{account}', account)
}
