import type { Kysely } from 'kysely'
import { DEFAULT_ROLE_ARN } from '../../src/providers/aws/aws-config.ts'
import { AwsProvider } from '../../src/providers/aws/aws-provider.ts'
import type { Database } from '../../src/store/tables.ts'

/**
 * The aws provider pointed at a simulated AWS endpoint: base credentials of `baseAccount` (one of
 * the simulated fleet's), which assume `roleArn` in each account; fast polling, bounded retries.
 */
export function simAwsProvider(
  endpoint: string,
  db: Kysely<Database>,
  baseAccount: string,
  roleArn = DEFAULT_ROLE_ARN,
): AwsProvider {
  return new AwsProvider(
    {
      roleArn,
      region: 'eu-central-1',
      endpoint,
      credentials: { accessKeyId: `AKIA${baseAccount}BASE`, secretAccessKey: 'any' },
      maxAttempts: 6,
    },
    db,
    { pollMs: 20 },
  )
}
