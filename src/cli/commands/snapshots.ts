import { NotFoundError } from '../../core/errors.ts'
import { withApplication } from '../application.ts'
import type { RestoreOptions, SnapshotsOptions } from '../declarations.ts'
import type { CliIo } from '../io.ts'
import { cliOperator } from '../operator.ts'

/** `flotilla snapshots`: every snapshot of a destroyed protected resource, newest first. */
export async function snapshotsCommand(options: SnapshotsOptions, io: CliIo): Promise<number> {
  return withApplication(options, io, async (app) => {
    const all = await app.snapshots()
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
  })
}

/**
 * `flotilla restore SNAPSHOT_ID`: recreates the resource with everything it held; refused (exit 1)
 * while the fleet-wide stop is pulled or a rollout holds the snapshot's target.
 */
export async function restoreCommand(id: string, options: RestoreOptions, io: CliIo): Promise<number> {
  return withApplication(options, io, async (app) => {
    const snapshot = await app.findSnapshot(id)
    if (!snapshot)
      throw new NotFoundError(`snapshot ${id} does not exist; run "flotilla snapshots" to list them`)
    const report = await app.restoreSnapshot({
      snapshot,
      actor: cliOperator(io).actor,
      source: 'cli',
      audit: (report) => ({
        subject: report.snapshot.target,
        detail: { snapshot: id, address: report.snapshot.address },
      }),
    })
    if (options.format === 'json') io.stdout(`${JSON.stringify(report, null, 2)}\n`)
    else io.stdout(`Restored ${report.snapshot.address} from ${id}: ${report.description}\n`)
    return 0
  })
}
