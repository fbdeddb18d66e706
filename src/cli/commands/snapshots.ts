import { NotFoundError } from '../../core/errors.ts'
import { appendAuditEntry } from '../../store/audit.ts'
import { openFleetStore } from '../fleet-store.ts'
import type { CliIo } from '../io.ts'
import { cliActor } from './apply.ts'

export interface SnapshotsOptions {
  readonly repo?: string
  readonly data?: string
  readonly format?: 'text' | 'json'
}

/** `flotilla snapshots`: every snapshot of a destroyed protected resource, newest first. */
export async function snapshotsCommand(options: SnapshotsOptions, io: CliIo): Promise<number> {
  const opened = await openFleetStore(options, io.cwd)
  try {
    const all = (await Promise.all(opened.registry.all().map((p) => p.snapshots()))).flat()
    all.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
    if (options.format === 'json') {
      io.stdout(`${JSON.stringify({ snapshots: all }, null, 2)}\n`)
      return 0
    }
    if (all.length === 0) {
      io.stdout(
        'No snapshots. One is taken before a protected stateful resource (a DNS zone) is destroyed.\n',
      )
      return 0
    }
    for (const s of all) {
      io.stdout(`${s.id}  ${s.createdAt.toISOString()}  ${s.provider}  ${s.address}\n    ${s.description}\n`)
    }
    io.stdout(`Restore one with: flotilla restore SNAPSHOT_ID\n`)
    return 0
  } finally {
    await opened.close()
  }
}

/** `flotilla restore SNAPSHOT_ID`: recreates the resource with everything it held. */
export async function restoreCommand(id: string, options: SnapshotsOptions, io: CliIo): Promise<number> {
  const opened = await openFleetStore(options, io.cwd)
  try {
    const row = await opened.store.db
      .selectFrom('snapshots')
      .select('provider')
      .where('id', '=', id)
      .executeTakeFirst()
    if (!row) throw new NotFoundError(`snapshot ${id} does not exist; run "flotilla snapshots" to list them`)
    const provider = opened.registry.named(row.provider)
    if (!provider)
      throw new NotFoundError(
        `snapshot ${id} was taken by provider "${row.provider}", which is not available here`,
      )
    const report = await provider.restore(id)
    await appendAuditEntry(opened.store.db, {
      actor: cliActor(),
      action: 'restore',
      subject: report.snapshot.target,
      source: 'cli',
      detail: { snapshot: id, address: report.snapshot.address },
    })
    if (options.format === 'json') io.stdout(`${JSON.stringify(report, null, 2)}\n`)
    else io.stdout(`Restored ${report.snapshot.address} from ${id}: ${report.description}\n`)
    return 0
  } finally {
    await opened.close()
  }
}
