/**
 * One session per account: the deployment role assumed with the base credentials, and clients
 * signed with the role's temporary credentials. Before a session is used for anything, the caller
 * identity must be the account the inventory names — a role ARN pattern that points elsewhere, a
 * profile of the wrong organisation, an endpoint of another account all stop here, before any
 * write.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { Route53Client } from '@aws-sdk/client-route-53'
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { ProviderError } from '../../core/provider/port.ts'
import { type AwsConfig, roleArnOf } from './aws-config.ts'
import { providerErrorOf } from './aws-errors.ts'

/** What a session gives: clients in the account's regions, signed as the deployment role. */
export interface AccountSession {
  readonly account: string
  cloudFormation(region: string): CloudFormationClient
  readonly route53: Route53Client
}

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date }

/** Renew temporary credentials this long before they expire. */
const RENEW_BEFORE_MS = 5 * 60_000

/** Sessions by account, assumed and verified once and renewed before they expire. */
export class AccountSessions {
  private readonly config: AwsConfig
  private stsClient: STSClient | undefined
  private readonly sessions = new Map<string, Promise<{ session: AccountSession; expires: number }>>()

  constructor(config: AwsConfig) {
    this.config = config
  }

  /** Made when first needed: a fleet with no aws target never loads or configures the SDK. */
  private get sts(): STSClient {
    this.stsClient ??= new STSClient(this.clientConfig(this.config.region, this.config.credentials))
    return this.stsClient
  }

  /**
   * The session of `account` (the target `target` asks), verified to be that account.
   * @throws {ProviderError} `refused` when the identity is another account's, or the role cannot be assumed
   */
  async forAccount(account: string, target: string): Promise<AccountSession> {
    const cached = this.sessions.get(account)
    if (cached) {
      const { session, expires } = await cached.catch(() => ({ session: undefined, expires: 0 }))
      if (session && expires - RENEW_BEFORE_MS > Date.now()) return session
    }
    const opening = this.open(account, target)
    this.sessions.set(account, opening)
    opening.catch(() => this.sessions.delete(account))
    return (await opening).session
  }

  private async open(account: string, target: string): Promise<{ session: AccountSession; expires: number }> {
    const roleArn = roleArnOf(this.config, account)
    let credentials: Credentials
    try {
      const assumed = await this.sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: 'flotilla',
          DurationSeconds: 3600,
          ...(this.config.externalId ? { ExternalId: this.config.externalId } : {}),
        }),
      )
      const c = assumed.Credentials
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
        throw new ProviderError('refused', target, `AssumeRole of ${roleArn} returned no credentials`)
      credentials = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      }
    } catch (error) {
      throw providerErrorOf(
        error,
        target,
        `cannot assume ${roleArn} for account ${account}; check FLOTILLA_AWS_ROLE_ARN and that the role trusts these credentials`,
      )
    }
    const clients = new Map<string, CloudFormationClient>()
    const session: AccountSession = {
      account,
      cloudFormation: (region) => {
        let client = clients.get(region)
        if (!client) {
          client = new CloudFormationClient(this.clientConfig(region, credentials))
          clients.set(region, client)
        }
        return client
      },
      route53: new Route53Client(this.clientConfig(this.config.region, credentials)),
    }
    // Never act on an account other than the inventory's: the role ARN pattern, the base
    // credentials' organisation or an endpoint may all point elsewhere.
    const identity = await new STSClient(this.clientConfig(this.config.region, credentials))
      .send(new GetCallerIdentityCommand({}))
      .catch((error: unknown) => {
        throw providerErrorOf(error, target, `cannot verify the identity of ${roleArn}`)
      })
    if (identity.Account !== account)
      throw new ProviderError(
        'refused',
        target,
        `the credentials for account ${account} (role ${roleArn}) are those of account ${identity.Account ?? 'unknown'} (${identity.Arn ?? 'no ARN'}): nothing is changed in an account other than the inventory's; fix FLOTILLA_AWS_ROLE_ARN or the account id`,
      )
    return { session, expires: credentials.expiration.getTime() }
  }

  private clientConfig(region: string, credentials: AwsConfig['credentials']) {
    return {
      region,
      maxAttempts: this.config.maxAttempts ?? 8,
      ...(this.config.endpoint ? { endpoint: this.config.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    }
  }
}
