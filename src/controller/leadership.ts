/**
 * Which of several servers on one store leads the controller (follows the repository, decides on
 * commits): the holder of a lease row, renewed every few seconds with a compare-and-set against
 * the database's clock. A leader that dies stops renewing, and another takes over once the lease
 * has run out (`LEASE_MS`). Rollouts themselves need no leader: each is run under a lease of its
 * own by whichever server's worker takes it (see `rollout/engine.ts`).
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { type Kysely, sql } from 'kysely'
import type { Database } from '../store/tables.ts'

/** How long a lease lasts without renewal. */
export const LEASE_MS = 6000

/** One server's part in the election. */
export class Leadership {
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  private readonly db: Kysely<Database>
  private readonly key: string
  private leading = false
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor(db: Kysely<Database>, role = 'controller') {
    this.db = db
    this.key = `leader:${role}`
  }

  /** Whether this server led at its last renewal. */
  isLeader(): boolean {
    return this.leading
  }

  /** The current leader, as stored (it may have died less than a lease ago). */
  async leader(): Promise<string | null> {
    const row = await this.db
      .selectFrom('fleet_controls')
      .select(sql<string | null>`value->>'holder'`.as('holder'))
      .where('key', '=', this.key)
      .where(sql<boolean>`(value->>'until')::timestamptz > now()`)
      .executeTakeFirst()
    return row?.holder ?? null
  }

  /** Takes or renews the lease when it is free, ours, or run out; returns whether we lead. */
  async renew(): Promise<boolean> {
    const value = sql`jsonb_build_object('holder', ${this.holder}::text, 'until', now() + ${`${LEASE_MS} milliseconds`}::interval)`
    const rows = await sql<{ key: string }>`
      insert into fleet_controls (key, value) values (${this.key}, ${value})
      on conflict (key) do update set value = excluded.value, updated_at = now()
      where fleet_controls.value->>'holder' = ${this.holder}
         or (fleet_controls.value->>'until')::timestamptz <= now()
      returning key`.execute(this.db)
    this.leading = rows.rows.length > 0
    return this.leading
  }

  /** Renews every third of a lease until stopped. */
  start(onChange?: (leading: boolean) => void): void {
    const tick = async () => {
      if (this.stopped) return
      const before = this.leading
      try {
        await this.renew()
      } catch {
        this.leading = false // cannot reach the store: do not act as the leader
      }
      if (before !== this.leading) onChange?.(this.leading)
      if (!this.stopped) this.timer = setTimeout(() => void tick(), LEASE_MS / 3)
    }
    void tick()
  }

  /** Stops renewing and hands the lease back, so another server takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    if (!this.leading) return
    this.leading = false
    await this.db
      .deleteFrom('fleet_controls')
      .where('key', '=', this.key)
      .where(sql<boolean>`value->>'holder' = ${this.holder}`)
      .execute()
      .catch(() => {})
  }
}
