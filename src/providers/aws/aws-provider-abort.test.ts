/**
 * Every call of the aws provider stops when its signal aborts: it rejects with the signal's reason
 * at once, and the SDK request under way is aborted (the endpoint sees its connection closed).
 * The endpoint answers STS (so that a session opens) and never answers CloudFormation.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectAbortsPromptly } from '../../../test/support/abort-promptly.ts'
import type { Target } from '../../core/model/fleet-model.ts'
import type { Database } from '../../store/tables.ts'
import { AwsProvider } from './aws-provider.ts'

const ACCOUNT = '123456789012'
const STS = 'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"'

/** An endpoint that opens sessions and leaves every CloudFormation request hanging. */
class HangingCloud {
  readonly server: Server
  /** CloudFormation requests received and whether the client closed each. */
  readonly hanging: { action: string; closed: Promise<void> }[] = []
  private arrived: (() => void) | undefined

  constructor() {
    this.server = createServer((request, response) => {
      void body(request).then((text) => {
        const action = new URLSearchParams(text).get('Action') ?? 'unknown'
        if (action === 'AssumeRole')
          return response.end(
            `<AssumeRoleResponse ${STS}><AssumeRoleResult><Credentials><AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`,
          )
        if (action === 'GetCallerIdentity')
          return response.end(
            `<GetCallerIdentityResponse ${STS}><GetCallerIdentityResult><Account>${ACCOUNT}</Account><Arn>arn:aws:sts::${ACCOUNT}:assumed-role/flotilla-deployer/flotilla</Arn><UserId>u</UserId></GetCallerIdentityResult></GetCallerIdentityResponse>`,
          )
        this.hanging.push({ action, closed: new Promise((resolve) => response.once('close', resolve)) })
        this.arrived?.()
      })
    })
  }

  /** Resolves once a CloudFormation request hangs. */
  nextHang(): Promise<void> {
    return new Promise((resolve) => {
      this.arrived = resolve
    })
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }
}

function body(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    request.on('data', (chunk) => {
      text += chunk
    })
    request.on('end', () => resolve(text))
  })
}

const target = {
  id: 'acct-1',
  kind: 'account',
  name: 'acct-1',
  account: ACCOUNT,
  regions: ['eu-west-1'],
  provider: 'aws',
} as unknown as Target

describe('the aws provider stops when its signal aborts', () => {
  const cloud = new HangingCloud()
  let provider: AwsProvider

  beforeAll(async () => {
    await new Promise<void>((resolve) => cloud.server.listen(0, '127.0.0.1', resolve))
    provider = new AwsProvider(
      {
        roleArn: 'arn:aws:iam::{account}:role/flotilla-deployer',
        region: 'us-east-1',
        endpoint: cloud.url,
        credentials: { accessKeyId: 'AKIABASE', secretAccessKey: 'any' },
        maxAttempts: 1,
      },
      // Never reached: no snapshot is listed or taken here.
      {} as Kysely<Database>,
      { pollMs: 20 },
    )
  })

  afterAll(async () => {
    cloud.server.closeAllConnections()
    await new Promise((resolve) => cloud.server.close(resolve))
  })

  const calls = {
    observe: (signal: AbortSignal) => provider.observe([target], { signal }),
    settled: (signal: AbortSignal) => provider.settled(target, () => {}, { signal }),
    health: (signal: AbortSignal) => provider.health(target, { signal }),
    apply: (signal: AbortSignal) =>
      provider.apply({
        target,
        desired: { stacks: [], manifests: [] } as never,
        plan: undefined,
        approvedDestruction: new Set(),
        revision: 'test',
        signal,
      }),
  }

  it.each(Object.keys(calls) as (keyof typeof calls)[])(
    '%s: rejects with the reason within a second, and the request under way is aborted',
    async (name) => {
      const request = await expectAbortsPromptly(name, calls[name], cloud.nextHang(), cloud.hanging)
      expect(request.action).toBe('DescribeStacks')
    },
  )

  it('a call with a signal aborted already rejects at once, asking nothing', async () => {
    const before = cloud.hanging.length
    const reason = new Error('stopped before')
    await expect(
      provider.preview(target, {} as never, false, { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason)
    expect(cloud.hanging.length).toBe(before)
  })
})
