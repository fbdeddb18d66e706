/**
 * An account's stacks as a person with access to the account sees them, and changed by hand
 * outside Flotilla: for the rollout scenarios, which run with the accounts on the simulated fleet
 * or on the `aws` provider, and check what a rollout did (or did not do) to them.
 */
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation'
import type { Kysely } from 'kysely'
import type { Target } from '../../src/core/model/fleet-model.ts'
import { simDatabase } from '../../src/providers/sim/sim-database.ts'
import type { SimProvider } from '../../src/providers/sim/sim-provider.ts'
import type { Database } from '../../src/store/tables.ts'
import { pollUntil } from './sim-cli.ts'

/** One event of a stack, oldest first. */
export interface StackEventSeen {
  /** The stack's address (`<account>/<region>/<name>`). */
  readonly stack: string
  readonly resourceType: string
  readonly status: string
}

/** What a person with access to an account sees of its stacks, and does to them by hand. */
export interface AccountConsole {
  /** Everything the account shows of its stacks, to compare before and after. */
  stacks(account: Target): Promise<unknown[]>
  /** The events of the account's stacks, oldest first. */
  stackEvents(account: Target): Promise<StackEventSeen[]>
  /** Changes one of the account's deployed stacks outside Flotilla; returns its address. */
  editByHand(account: Target): Promise<string>
}

/** The console of the simulated fleet: its tables, and its `drift` fault for a change by hand. */
export function simConsole(db: Kysely<Database>, sim: SimProvider): AccountConsole {
  return {
    stacks: async (account) =>
      (await simDatabase(db))
        .selectFrom('sim_stacks')
        .selectAll()
        .where('target', '=', account.id)
        .orderBy('address')
        .execute(),
    stackEvents: async (account) =>
      (
        await (
          await simDatabase(db)
        )
          .selectFrom('sim_stack_events')
          .select(['stack', 'resource_type', 'status'])
          .where('target', '=', account.id)
          .orderBy('id')
          .execute()
      ).map((e) => ({ stack: e.stack, resourceType: e.resource_type, status: e.status })),
    editByHand: async (account) => {
      const { drifted } = await sim.addFault({ scope: { kind: 'target', id: account.id }, kind: 'drift' }, [
        account,
      ])
      if (!drifted) throw new Error(`nothing of ${account.id} drifted`)
      return drifted
    },
  }
}

/**
 * The console of AWS: CloudFormation at `endpoint` (the simulated fleet's AWS-compatible one),
 * called with a long-term key of the account itself — a person, not Flotilla's role.
 */
export function awsConsole(endpoint: string): AccountConsole {
  const clients = new Map<string, CloudFormationClient>()
  const client = (account: string, region: string) => {
    const key = `${account} ${region}`
    let made = clients.get(key)
    if (!made) {
      made = new CloudFormationClient({
        endpoint,
        region,
        credentials: { accessKeyId: `AKIA${account}USER`, secretAccessKey: 'any' },
        maxAttempts: 1,
      })
      clients.set(key, made)
    }
    return made
  }
  /** The account's stacks Flotilla manages, with their region and address, by address. */
  const managed = async (account: Target) => {
    const out: { stack: Stack; region: string; address: string }[] = []
    for (const region of account.regions) {
      let token: string | undefined
      do {
        const page = await client(account.account, region).send(
          new DescribeStacksCommand(token ? { NextToken: token } : {}),
        )
        for (const stack of page.Stacks ?? []) {
          const address = stack.Tags?.find((t) => t.Key === 'flotilla:address')?.Value
          if (address) out.push({ stack, region, address })
        }
        token = page.NextToken
      } while (token)
    }
    return out.sort((a, b) => (a.address < b.address ? -1 : 1))
  }
  return {
    stacks: async (account) => {
      const out: unknown[] = []
      for (const { stack, region, address } of await managed(account)) {
        const { TemplateBody } = await client(account.account, region).send(
          new GetTemplateCommand({ StackName: stack.StackName }),
        )
        const { StackId, StackName, StackStatus, LastUpdatedTime, Parameters, Tags } = stack
        out.push({
          address,
          StackId,
          StackName,
          StackStatus,
          LastUpdatedTime,
          Parameters,
          Tags,
          TemplateBody,
        })
      }
      return out
    },
    stackEvents: async (account) => {
      const out: (StackEventSeen & { at: number })[] = []
      for (const { stack, region, address } of await managed(account)) {
        const { StackEvents = [] } = await client(account.account, region).send(
          new DescribeStackEventsCommand({ StackName: stack.StackName }),
        )
        // CloudFormation lists the newest first.
        for (const event of [...StackEvents].reverse())
          out.push({
            stack: address,
            resourceType: event.ResourceType ?? '',
            status: event.ResourceStatus ?? '',
            at: event.Timestamp?.getTime() ?? 0,
          })
      }
      return out.sort((a, b) => a.at - b.at).map(({ at: _, ...event }) => event)
    },
    editByHand: async (account) => {
      // Someone shortens the log bucket's expiry in the console: a stack update of their own.
      const logging = (await managed(account)).find((m) => m.address.endsWith('/logging'))
      if (!logging) throw new Error(`${account.id} has no logging stack to edit`)
      const cfn = client(account.account, logging.region)
      const StackName = logging.stack.StackName
      const { TemplateBody = '' } = await cfn.send(new GetTemplateCommand({ StackName }))
      const edited = TemplateBody.replace(/"ExpirationInDays":\s*"?\d+"?/, '"ExpirationInDays":99')
      if (edited === TemplateBody)
        throw new Error(`the logging stack of ${account.id} has no ExpirationInDays`)
      await cfn.send(
        new CreateChangeSetCommand({
          StackName,
          ChangeSetName: 'by-hand',
          ChangeSetType: 'UPDATE',
          TemplateBody: edited,
          Parameters: (logging.stack.Parameters ?? []).map((p) => ({
            ParameterKey: p.ParameterKey,
            UsePreviousValue: true,
          })),
        }),
      )
      const ready = await pollUntil(
        () => cfn.send(new DescribeChangeSetCommand({ StackName, ChangeSetName: 'by-hand' })),
        (set) => set.Status !== 'CREATE_PENDING' && set.Status !== 'CREATE_IN_PROGRESS',
        20_000,
      )
      if (ready.Status !== 'CREATE_COMPLETE') throw new Error(`the change set by hand: ${ready.StatusReason}`)
      await cfn.send(new ExecuteChangeSetCommand({ StackName, ChangeSetName: 'by-hand' }))
      const done = await pollUntil(
        () => cfn.send(new DescribeStacksCommand({ StackName })),
        (d) => !d.Stacks?.[0]?.StackStatus?.endsWith('_IN_PROGRESS'),
        20_000,
      )
      if (done.Stacks?.[0]?.StackStatus !== 'UPDATE_COMPLETE')
        throw new Error(`the update by hand ended ${done.Stacks?.[0]?.StackStatus}`)
      return logging.address
    },
  }
}
