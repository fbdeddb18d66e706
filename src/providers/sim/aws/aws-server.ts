/**
 * The simulated fleet's AWS-compatible endpoint, as LocalStack offers one: one loopback HTTP
 * server answering CloudFormation and STS (query APIs) and Route 53 (REST), so that code built
 * on the AWS SDK — Flotilla's `aws` provider above all — runs end to end against the simulated
 * fleet, where no cloud is reachable. Point a client at it with `endpoint: <url>`.
 *
 * Every call is in one account of the simulated fleet, named by the credentials' access key id
 * (see `credentials.ts`); an account the simulated fleet does not have is refused. The
 * `api-errors`, `throttling` and `region-outage` faults of the account (or its region, or the
 * fleet) make calls fail as AWS's do (`InternalFailure`, `Throttling`), so clients' retries are
 * exercised.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Kysely } from 'kysely'
import type { Database } from '../../../store/tables.ts'
import { failCallUnderFaults } from '../faults.ts'
import { listenHttp, readRequestBody } from '../http-listen.ts'
import { type SimDb, simDatabase } from '../sim-database.ts'
import type { SimProvider } from '../sim-provider.ts'
import { accountTargetId as accountTarget } from '../sim-targets.ts'
import type { AwsCall } from './aws-call.ts'
import { AwsError, toAwsError } from './aws-errors.ts'
import { CLOUDFORMATION_NAMESPACE, cloudFormationActions } from './cloudformation-api.ts'
import { identify, parseAuthorization } from './credentials.ts'
import { handleRoute53, isRoute53Path, ROUTE53_NAMESPACE } from './route53-api.ts'
import { STS_NAMESPACE, stsActions } from './sts-api.ts'
import { newRequestId, queryError, queryResponse, renderXml } from './xml.ts'

/** Options of {@link startAwsServer}. */
export interface AwsServerOptions {
  /** The store the simulated fleet lives in. */
  readonly db: Kysely<Database>
  readonly sim: SimProvider
  /** @default '127.0.0.1' */
  readonly host?: string
  /** TCP port; 0 picks any free port. @default 0 */
  readonly port?: number
  /** @default the current time */
  readonly now?: () => Date
  /** Decides which calls a fault with a rate fails. @default Math.random */
  readonly random?: () => number
}

/** A running endpoint. */
export interface AwsServer {
  /** `http://127.0.0.1:PORT`: the `endpoint` of an AWS SDK client. */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** Request bodies larger than this are refused (a CloudFormation TemplateBody is at most 51,200 bytes). */
const MAX_BODY_BYTES = 1024 * 1024

/** The options as the handlers use them: the store's simulated fleet schema. */
type ServingOptions = Omit<AwsServerOptions, 'db'> & { readonly db: SimDb }

/** Starts the endpoint on `host:port`. */
export async function startAwsServer(given: AwsServerOptions): Promise<AwsServer> {
  const options: ServingOptions = { ...given, db: await simDatabase(given.db) }
  const host = options.host ?? '127.0.0.1'
  const server = createServer((request, response) => {
    void answer(options, request, response)
  })
  const listening = await listenHttp(server, host, options.port ?? 0)
  return { url: listening.origin, port: listening.port, close: listening.close }
}

type Protocol = { kind: 'query'; namespace: string } | { kind: 'route53' }

async function answer(options: ServingOptions, request: IncomingMessage, response: ServerResponse) {
  const requestId = newRequestId()
  const url = new URL(request.url ?? '/', 'http://localhost')
  let protocol: Protocol = isRoute53Path(url.pathname)
    ? { kind: 'route53' }
    : { kind: 'query', namespace: CLOUDFORMATION_NAMESPACE }
  const send = (status: number, body: string) => {
    response.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId })
    response.end(body)
  }
  try {
    const body = await readRequestBody(
      request,
      MAX_BODY_BYTES,
      () =>
        new AwsError('RequestEntityTooLarge', `the request body is larger than ${MAX_BODY_BYTES} bytes`, 413),
    )
    const params =
      protocol.kind === 'route53' || request.method === 'GET' ? url.searchParams : new URLSearchParams(body)
    const action = params.get('Action') ?? ''
    const signed = () => parseAuthorization(request.headers.authorization)
    if (protocol.kind === 'query') {
      // The signing service names the API; an unsigned request is answered in the action's.
      const service = request.headers.authorization ? signed().service : action in stsActions ? 'sts' : ''
      protocol = { kind: 'query', namespace: service === 'sts' ? STS_NAMESPACE : CLOUDFORMATION_NAMESPACE }
    }
    const call = await callOf(options, signed(), request, protocol, params)
    if (protocol.kind === 'route53') {
      const result = await handleRoute53(call, request.method ?? 'GET', url.pathname, body)
      return send(200, renderXml(result.root, ROUTE53_NAMESPACE, result.body))
    }
    const isSts = protocol.namespace === STS_NAMESPACE
    const sts = isSts ? stsActions[action] : undefined
    const cloudFormation = isSts ? undefined : cloudFormationActions[action]
    if (!sts && !cloudFormation)
      throw new AwsError(
        'InvalidAction',
        `The action ${action || '(none)'} is not valid for this web service; the simulated ${isSts ? 'STS' : 'CloudFormation'} answers ${Object.keys(isSts ? stsActions : cloudFormationActions).join(', ')}`,
      )
    const result = sts
      ? await sts(call, (account) =>
          accountTarget(options.db, account).then((target) => target !== undefined),
        )
      : await cloudFormation!(call)
    send(200, queryResponse(action, protocol.namespace, result, requestId))
  } catch (error) {
    const failure = toAwsError(error)
    if (protocol.kind === 'route53') {
      send(
        failure.status,
        renderXml('ErrorResponse', ROUTE53_NAMESPACE, {
          Error: {
            Type: failure.faultType,
            Code: failure.code,
            Message: failure.message,
            ...(failure.messages.length > 0 ? { Messages: { Message: failure.messages } } : {}),
          },
          RequestId: requestId,
        }),
      )
    } else send(failure.status, queryError(failure, protocol.namespace, requestId))
  }
}

/** Who calls, in which account and region — or the AWS error that refuses the call. */
async function callOf(
  options: ServingOptions,
  signed: ReturnType<typeof parseAuthorization>,
  request: IncomingMessage,
  protocol: Protocol,
  params: URLSearchParams,
): Promise<AwsCall> {
  const now = options.now ?? (() => new Date())
  const token = request.headers['x-amz-security-token']
  const identity = identify(signed.accessKeyId, typeof token === 'string' ? token : undefined, now())
  const target = await accountTarget(options.db, identity.account)
  if (target === undefined)
    throw new AwsError(
      'InvalidClientTokenId',
      `The security token included in the request is invalid: account ${identity.account} is not an account of the simulated fleet; use the id of an account in the inventory (flotilla sim status seeds them)`,
      403,
    )
  // Route 53 is global: only faults of the account or the whole fleet reach it, not a region's outage.
  const regions = protocol.kind === 'route53' ? [] : [signed.region]
  failCallUnderFaults(
    await options.sim.faults(),
    { id: target, regions },
    now(),
    options.random ?? Math.random,
  )
  return {
    db: options.db,
    sim: options.sim,
    now,
    account: { id: identity.account, target },
    identity,
    region: signed.region,
    params: new Map(params),
  }
}
