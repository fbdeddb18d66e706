import { describe, expect, it } from 'vitest'
import { appendAuditEntry, listAuditEntries } from './audit.ts'
import { testBackends, useTestStore } from './test-store.ts'

describe.each(testBackends)('the audit log on %s', (backend) => {
  const test = useTestStore(backend)

  it('lists entries newest first, by subject and up to a limit', async () => {
    const { db } = test.store
    await appendAuditEntry(db, { actor: 'alice', action: 'plan.create', subject: 'plan-1', source: 'cli' })
    const approved = await appendAuditEntry(db, {
      actor: 'bob',
      action: 'rollout.approve',
      subject: 'ro-1',
      source: 'portal',
      detail: { stage: 'production' },
    })
    await appendAuditEntry(db, { actor: 'carol', action: 'rollout.pause', subject: 'ro-1', source: 'api' })

    expect((await listAuditEntries(db)).map((entry) => entry.actor)).toEqual(['carol', 'bob', 'alice'])
    expect((await listAuditEntries(db, { subject: 'ro-1', limit: 1 })).map((entry) => entry.action)).toEqual([
      'rollout.pause',
    ])
    const stored = (await listAuditEntries(db, { subject: 'ro-1' }))[1]
    expect(stored).toEqual(approved)
    expect(stored?.detail).toEqual({ stage: 'production' })
    expect(stored?.at).toBeInstanceOf(Date)
  })
})
