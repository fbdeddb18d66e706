import { sql } from 'kysely'
import { describe, expect, test } from 'vitest'
import { retryingDeadlocks, rolledBackForAnother } from './retry-deadlocks.ts'
import { testBackends, useTestStore } from './test-store.ts'

const failure = (code: string) => Object.assign(new Error(`failed with ${code}`), { code })

describe('retryingDeadlocks', () => {
  test('runs a transaction PostgreSQL rolled back for another again; other errors, and the last attempt, are thrown', async () => {
    expect(rolledBackForAnother(failure('40P01'))).toBe(true)
    expect(rolledBackForAnother(failure('40001'))).toBe(true)
    expect(rolledBackForAnother(failure('23505'))).toBe(false)
    expect(rolledBackForAnother(undefined)).toBe(false)
    let runs = 0
    expect(
      await retryingDeadlocks(async () => {
        if (++runs < 3) throw failure('40P01')
        return 'done'
      }),
    ).toBe('done')
    expect(runs).toBe(3)
    runs = 0
    await expect(
      retryingDeadlocks(async () => {
        runs++
        throw failure('23505')
      }),
    ).rejects.toThrow(/23505/)
    expect(runs).toBe(1)
    runs = 0
    await expect(
      retryingDeadlocks(async () => {
        runs++
        throw failure('40P01')
      }, 3),
    ).rejects.toThrow(/40P01/)
    expect(runs).toBe(3)
  })
})

describe.each(testBackends.filter((b) => b === 'postgres'))('a real deadlock, on %s', (backend) => {
  const testStore = useTestStore(backend, { migrate: false })

  test('two transactions locking two rows in opposite orders both end, one of them run twice', async () => {
    const db = testStore.store.db
    await sql`create table crossed (id int primary key, n int not null)`.execute(db)
    await sql`insert into crossed values (1, 0), (2, 0)`.execute(db)
    let attempts = 0
    // Each takes its first row, waits until the other has its own, then asks for the other's.
    let bothHoldOne: () => void = () => {}
    let holding = 0
    const barrier = new Promise<void>((resolve) => {
      bothHoldOne = resolve
    })
    const crossing = (first: number, second: number) =>
      retryingDeadlocks(() =>
        db.transaction().execute(async (trx) => {
          attempts++
          await sql`update crossed set n = n + 1 where id = ${first}`.execute(trx)
          if (++holding === 2) bothHoldOne()
          await Promise.race([barrier, new Promise((r) => setTimeout(r, 2000))])
          await sql`update crossed set n = n + 1 where id = ${second}`.execute(trx)
        }),
      )
    await Promise.all([crossing(1, 2), crossing(2, 1)])
    expect(attempts).toBe(3) // PostgreSQL ended one; it ran again
    const rows = await sql<{ n: number }>`select n from crossed order by id`.execute(db)
    expect(rows.rows.map((r) => r.n)).toEqual([2, 2])
  })
})
