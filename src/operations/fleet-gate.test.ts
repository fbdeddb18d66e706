import { sql } from 'kysely'
import { beforeEach, describe, expect, it } from 'vitest'
import { ConflictError } from '../core/errors.ts'
import { listAuditEntries } from '../store/audit.ts'
import { testBackends, useTestStore } from '../store/test-store.ts'
import { holdTargets, operationHolding, whileHolding } from './fleet-gate.ts'
import { setFleetStop } from './fleet-stop.ts'
import { THIS_PROCESS } from './process-liveness.ts'
import { lockHolders, serializeLocking } from './target-locks.ts'

const apply = (target: string) => ({
  kind: 'apply',
  actor: 'alice',
  source: 'cli',
  describe: `apply of ${target}`,
})

/** A conflict's message, or a failure of the test when there was none. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(ConflictError)
  return (error as Error).message
}

describe.each(testBackends)('the gate of changes outside rollouts, on %s', (backend) => {
  const test = useTestStore(backend)
  beforeEach(async () => {
    const { db } = test.store
    for (const table of ['locks', 'rollouts', 'plans', 'fleet_controls', 'audit_log'] as const)
      await db.deleteFrom(table).execute()
  })

  /** A rollout in `state` holding `targets`, as the engine records one. */
  async function rolloutHolding(id: string, state: string, targets: readonly string[]) {
    const { db } = test.store
    await db
      .insertInto('plans')
      .values({ id: `p-${id}`, base: 'observed', head: 'abc', verdict: 'allowed', document: '{}' })
      .execute()
    await db
      .insertInto('rollouts')
      .values({ id, plan_id: `p-${id}`, state, revision: 'abc', created_by: 'bob' })
      .execute()
    await db
      .insertInto('locks')
      .values(targets.map((target) => ({ target, rollout_id: id })))
      .execute()
  }

  it('refuses while the fleet-wide stop is on, naming its reason, who pulled it, when, and how to release it; the refusal is audited', async () => {
    const { db } = test.store
    await setFleetStop(db, { reason: 'dns incident', by: 'carol' })
    const message = await refusal(holdTargets(db, ['acc-1'], apply('acc-1')))
    expect(message).toMatch(
      /^apply of acc-1 refused: the fleet-wide stop is on \("dns incident", pulled by carol at \d{4}-\d{2}-\d{2}T[\d:.]+Z\)\. Nothing is applied or restored while it is on; an admin releases it with "flotilla unstop"/,
    )
    expect(await db.selectFrom('locks').selectAll().execute()).toEqual([])
    const [entry] = await listAuditEntries(db)
    expect(entry).toMatchObject({
      actor: 'alice',
      action: 'apply-refused',
      subject: 'acc-1',
      source: 'cli',
      detail: { reason: message },
    })
    // Released, the same operation passes.
    await setFleetStop(db, null)
    const hold = await holdTargets(db, ['acc-1'], apply('acc-1'))
    await hold.release()
  })

  it('refuses a target a rollout holds — paused, halted or waiting for an approval as well as running — naming the rollout and where to see it', async () => {
    const { db } = test.store
    for (const [i, state] of ['running', 'paused', 'halted', 'waiting-approval'].entries()) {
      const id = `r-20261110-00000${i}`
      await rolloutHolding(id, state, [`acc-${i}`, `cl-${i}`])
      // One target of several, given twice: still refused, and nothing of it is held.
      const message = await refusal(holdTargets(db, ['free', `cl-${i}`, `cl-${i}`], apply(`cl-${i}`)))
      expect(message).toBe(
        `apply of cl-${i} refused: target cl-${i} is held by rollout ${id} (${state}), which changes it; see it with "flotilla rollout status ${id}" (GET /api/rollouts/${id}, or /rollouts/${id} in the portal), and try again once it has ended or been aborted`,
      )
    }
    expect(await db.selectFrom('locks').select('target').where('rollout_id', 'is', null).execute()).toEqual(
      [],
    )
  })

  it('holds its targets while it runs: a second operation and a rollout find them held; release lets go of its own rows only', async () => {
    const { db } = test.store
    const hold = await holdTargets(db, ['acc-1', 'cl-1'], apply('acc-1'))
    const message = await refusal(
      holdTargets(db, ['cl-1'], { ...apply('cl-1'), kind: 'restore', describe: 'restore of snap-1' }),
    )
    expect(message).toMatch(
      new RegExp(
        `^restore of snap-1 refused: target cl-1 is being changed by apply of alice \\(cli, process ${THIS_PROCESS}\\) since \\d{4}-.*Z; try again when it has finished$`,
      ),
    )
    // What a starting rollout asks, under the same serialisation.
    await db.transaction().execute(async (trx) => {
      await serializeLocking(trx)
      expect(await operationHolding(trx, ['acc-1'])).toContain('is being changed by apply of alice')
      expect(await lockHolders(trx, ['acc-1'])).toEqual([]) // rollouts' holders are rollouts only
    })
    const other = await holdTargets(db, ['acc-2'], apply('acc-2'))
    await hold.release()
    const left = await db.selectFrom('locks').select('target').execute()
    expect(left.map((r) => r.target)).toEqual(['acc-2'])
    await other.release()
    expect(await db.selectFrom('locks').selectAll().execute()).toEqual([])
  })

  it('lets go when the work fails, and takes over the hold of a process that is gone or whose lease ran out', async () => {
    const { db } = test.store
    const failed = whileHolding(db, ['acc-1'], apply('acc-1'), async () => {
      throw new Error('the provider failed')
    })
    await expect(failed).rejects.toThrow('the provider failed')
    expect(await db.selectFrom('locks').selectAll().execute()).toEqual([])

    // Killed with SIGKILL: its rows stay, with a pid that no longer exists on this host.
    const gone = THIS_PROCESS.replace(/:\d+$/, ':2147483646')
    const stale = (id: string, process: string, leaseMs: number) => ({
      target: `acc-${id}`,
      holder: JSON.stringify({
        id,
        kind: 'apply',
        actor: 'dave',
        source: 'cli',
        process,
        since: new Date().toISOString(),
      }),
      lease_until: new Date(Date.now() + leaseMs),
    })
    await db
      .insertInto('locks')
      .values([stale('dead', gone, 60_000), stale('expired', 'elsewhere.example:42', -1000)])
      .execute()
    expect(
      await whileHolding(db, ['acc-dead', 'acc-expired'], apply('acc-dead'), async () => 'applied'),
    ).toBe('applied')
    // A live holder elsewhere is respected until its lease runs out.
    await db
      .insertInto('locks')
      .values(stale('live', 'elsewhere.example:42', 60_000))
      .execute()
    expect(await refusal(holdTargets(db, ['acc-live'], apply('acc-live')))).toContain(
      'is being changed by apply of dave (cli, process elsewhere.example:42)',
    )
  })

  it('a lock row holds either a rollout or an operation, never both or neither', async () => {
    const { db } = test.store
    await rolloutHolding('r-20261110-aaaaaa', 'running', ['acc-1'])
    const both = db
      .insertInto('locks')
      .values({ target: 'acc-2', rollout_id: 'r-20261110-aaaaaa', holder: '{}' })
      .execute()
    await expect(both).rejects.toThrow(/locks_one_holder/)
    await expect(sql`insert into locks (target) values ('acc-3')`.execute(db)).rejects.toThrow(
      /locks_one_holder/,
    )
  })
})

describe.runIf(testBackends.includes('postgres'))('the gate from two connections at once', () => {
  const test = useTestStore('postgres')

  it('exactly one of two operations racing for a target holds it', async () => {
    const other = await test.openAnother()
    for (let round = 0; round < 5; round++) {
      const results = await Promise.allSettled([
        holdTargets(test.store.db, ['acc-1'], apply('acc-1')),
        holdTargets(other.db, ['acc-1'], apply('acc-1')),
      ])
      const held = results.filter((r) => r.status === 'fulfilled')
      expect(held).toHaveLength(1)
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
      expect(refused.reason).toBeInstanceOf(ConflictError)
      await (held[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release()
    }
  })
})
