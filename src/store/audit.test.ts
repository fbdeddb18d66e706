import { describe, expect, it } from 'vitest'
import { type AuditScope, appendAuditEntry, auditScope, listAuditEntries } from './audit.ts'
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
  it("marks the entries the scope's actor makes in an audit scope, and counts them; nobody else's", async () => {
    const { db } = test.store
    const elevated = { reason: 'shop DNS outage', grantedBy: 'admin', until: '2026-11-25T12:00:00.000Z' }
    const scope: AuditScope = { actor: 'mallory', elevated, appended: 0 }
    await auditScope(scope, async () => {
      await appendAuditEntry(db, { actor: 'mallory', action: 'stop', subject: 'fleet', source: 'api' })
      // Work started in the scope but appended later, after an await, is still in it.
      await new Promise((resolve) => setTimeout(resolve, 1))
      await appendAuditEntry(db, { actor: 'mallory', action: 'restore', subject: 's-1', source: 'api' })
      await appendAuditEntry(db, {
        actor: 'controller',
        action: 'drift-revert',
        subject: 'a',
        source: 'controller',
      })
    })
    await appendAuditEntry(db, { actor: 'mallory', action: 'pause', subject: 'ro-2', source: 'api' })
    const entries = await listAuditEntries(db, { limit: 4 })
    expect(entries.map((e) => [e.action, e.elevated])).toEqual([
      ['pause', null],
      ['drift-revert', null],
      ['restore', elevated],
      ['stop', elevated],
    ])
    expect(scope.appended).toBe(2)
  })
})
