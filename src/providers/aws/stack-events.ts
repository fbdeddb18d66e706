/**
 * The CloudFormation events of the stacks a change was started on, reported as they come (by
 * `settled`, for people to follow a change): after the last event seen, oldest first, until the
 * stack rests.
 */
import {
  type CloudFormationClient,
  DescribeStackEventsCommand,
  type DescribeStackEventsCommandOutput,
  type StackEvent,
} from '@aws-sdk/client-cloudformation'
import type { Target } from '../../core/model/fleet-model.ts'
import type { ProviderEvent } from '../../core/provider/port.ts'
import type { AccountSession } from './account-sessions.ts'
import { sendOptions } from './aws-calls.ts'

/** A stack whose events are reported: the ones after `seen` (all, for a new stack). */
interface WatchedStack {
  readonly target: string
  readonly address: string
  readonly region: string
  /** The stack's id (its ARN), which also finds a deleted stack's events. */
  readonly stackId: string
  seen?: string
}

/** At most this many events are read at one look (a stack of hundreds of resources has more). */
const MAX_EVENTS_PER_LOOK = 500

/** The id of a stack's latest event; undefined when it has none or they cannot be read. */
export async function newestEventId(
  client: CloudFormationClient,
  stackName: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const page = await client
    .send(new DescribeStackEventsCommand({ StackName: stackName }), sendOptions(signal))
    .catch(() => undefined)
  return page?.StackEvents?.[0]?.EventId
}

/** The stacks a change was started on whose events are still to be reported, by target and address. */
export class StackEventWatch {
  private readonly watched = new Map<string, WatchedStack>()

  /** Starts reporting the events of a stack a change was just started on, after `seen`. */
  watch(target: Target, address: string, region: string, stackId: string, seen: string | undefined): void {
    this.watched.set(`${target.id}\u0000${address}`, {
      target: target.id,
      address,
      region,
      stackId,
      ...(seen === undefined ? {} : { seen }),
    })
  }

  /**
   * Reports the events of the target's watched stacks that came since the last look, oldest
   * first, and stops watching a stack once it rests. Events are for people to follow: failing to
   * read them never fails a change (`settled` decides that from the stacks' states).
   */
  async report(
    session: AccountSession,
    target: Target,
    onEvent: (event: ProviderEvent) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    for (const [key, watched] of this.watched) {
      if (watched.target !== target.id) continue
      signal?.throwIfAborted()
      const client = session.cloudFormation(watched.region)
      const fresh: StackEvent[] = []
      let token: string | undefined
      let page: DescribeStackEventsCommandOutput | undefined
      let gone = false
      do {
        page = await client
          .send(
            new DescribeStackEventsCommand({
              StackName: watched.stackId,
              ...(token ? { NextToken: token } : {}),
            }),
            sendOptions(signal),
          )
          .catch((error: unknown) => {
            gone = /does not exist/i.test(error instanceof Error ? error.message : String(error))
            return undefined
          })
        const events = page?.StackEvents ?? []
        const end = watched.seen === undefined ? -1 : events.findIndex((e) => e.EventId === watched.seen)
        fresh.push(...(end === -1 ? events : events.slice(0, end)))
        token = end === -1 ? page?.NextToken : undefined
      } while (token && fresh.length < MAX_EVENTS_PER_LOOK)
      if (!page) {
        // Gone (a deleted stack's events expire): stop watching. Not readable now: look again later.
        if (gone) this.watched.delete(key)
        continue
      }
      for (const event of fresh.reverse()) {
        const stackLevel =
          event.ResourceType === 'AWS::CloudFormation::Stack' && event.PhysicalResourceId === event.StackId
        onEvent({
          target: target.id,
          address: stackLevel ? watched.address : `${watched.address}/${event.LogicalResourceId ?? ''}`,
          status: event.ResourceStatus ?? 'UNKNOWN',
          message: `${event.ResourceStatus ?? 'UNKNOWN'} (${event.ResourceType ?? 'unknown type'})${event.ResourceStatusReason ? `: ${event.ResourceStatusReason}` : ''}`,
        })
      }
      const newest = fresh[fresh.length - 1]
      if (newest?.EventId) watched.seen = newest.EventId
      const last = fresh.findLast(
        (e) => e.ResourceType === 'AWS::CloudFormation::Stack' && e.PhysicalResourceId === e.StackId,
      )
      if (last?.ResourceStatus && !last.ResourceStatus.endsWith('_IN_PROGRESS')) this.watched.delete(key)
    }
  }
}
