import type { SimDb } from '../sim-database.ts'
import type { SimProvider } from '../sim-provider.ts'
import type { CallerIdentity } from './credentials.ts'

/** One call of the simulated AWS endpoints, once its caller is known: what every handler gets. */
export interface AwsCall {
  readonly db: SimDb
  readonly sim: SimProvider
  readonly now: () => Date
  /** The account called: its 12-digit id and the simulated fleet's target for it. */
  readonly account: { readonly id: string; readonly target: string }
  readonly identity: CallerIdentity
  /** The region the request was signed for. */
  readonly region: string
  /** The query parameters (CloudFormation, STS) or the URL's search parameters (Route 53). */
  readonly params: ReadonlyMap<string, string>
}
