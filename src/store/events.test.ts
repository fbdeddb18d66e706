import { describe, expect, it } from 'vitest'
import { appendRolloutEvent, appendRolloutEvents, listRolloutEvents } from './events.ts'
import { testBackends, useTestStore } from './test-store.ts'

describe.each(testBackends)('rollout events on %s', (backend) => {
  const test = useTestStore(backend)

  async function createRollout(id: string): Promise<void> {
    const { db } = test.store
    await db
      .insertInto('plans')
      .values({ id: `plan-${id}`, base: 'a', head: 'b', verdict: 'safe', document: '{}' })
      .execute()
    await db
      .insertInto('rollouts')
      .values({ id, plan_id: `plan-${id}`, state: 'running', revision: 'b', created_by: 'alice' })
      .execute()
  }

  it('lists the events of one rollout in the order they were appended', async () => {
    const { db } = test.store
    await createRollout('ro-a')
    await createRollout('ro-b')
    await appendRolloutEvent(db, { rolloutId: 'ro-a', type: 'started' })
    await appendRolloutEvent(db, { rolloutId: 'ro-b', type: 'started' })
    const applied = await appendRolloutEvent(db, {
      rolloutId: 'ro-a',
      type: 'target-applied',
      target: 'acct-1',
      detail: { stacks: ['dns', 'vpc'] },
    })
    await appendRolloutEvent(db, {
      rolloutId: 'ro-a',
      type: 'finished',
      at: new Date('2030-01-01T00:00:00Z'),
    })

    const events = await listRolloutEvents(db, 'ro-a')
    expect(events.map((event) => [event.type, event.target])).toEqual([
      ['started', null],
      ['target-applied', 'acct-1'],
      ['finished', null],
    ])
    expect(events[1]).toEqual(applied)
    expect(events[1]?.detail).toEqual({ stacks: ['dns', 'vpc'] })
    expect(events[2]?.at.toISOString()).toBe('2030-01-01T00:00:00.000Z')
    expect((await listRolloutEvents(db, 'ro-a', { afterId: applied.id })).map((event) => event.type)).toEqual(
      ['finished'],
    )
  })

  it('appends a burst of events in one statement, numbered in the order given', async () => {
    const { db } = test.store
    await createRollout('ro-burst')
    await appendRolloutEvent(db, { rolloutId: 'ro-burst', type: 'started' })
    await appendRolloutEvents(db, 'ro-burst', [
      { type: 'provider-event', target: 'acct-1', detail: { address: 'a', n: 1 } },
      { type: 'provider-event', target: 'acct-1', detail: { address: 'b', n: 2 } },
      { type: 'note' },
    ])
    await appendRolloutEvents(db, 'ro-burst', [])
    const events = await listRolloutEvents(db, 'ro-burst')
    expect(events.map((e) => [e.type, e.target, e.detail])).toEqual([
      ['started', null, {}],
      ['provider-event', 'acct-1', { address: 'a', n: 1 }],
      ['provider-event', 'acct-1', { address: 'b', n: 2 }],
      ['note', null, {}],
    ])
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b))
  })

  it('rejects an event of a rollout that does not exist', async () => {
    await expect(
      appendRolloutEvent(test.store.db, { rolloutId: 'ro-missing', type: 'started' }),
    ).rejects.toThrow(/foreign key/)
  })
})
