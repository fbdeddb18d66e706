/** Inputs several commands take: approvals, `--now`, a target by id or name. */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { InputError, NotFoundError } from '../core/errors.ts'
import type { Fleet, Target } from '../core/model/fleet-model.ts'
import { type Approval, parseApproval } from '../core/policy/approvals.ts'
import { parseApprovalsFile } from '../core/policy/approvals-file.ts'
import { closest } from '../core/suggest.ts'

/** The approvals given on the command line and in `--approvals FILE`. */
export async function readApprovals(
  options: { readonly approve?: readonly string[]; readonly approvals?: string | undefined },
  cwd: string,
): Promise<Approval[]> {
  const given = (options.approve ?? []).map(parseApproval)
  if (options.approvals !== undefined) {
    const path = resolve(cwd, options.approvals)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      throw new InputError(`cannot read the approvals file ${options.approvals}: ${(error as Error).message}`)
    }
    given.push(...parseApprovalsFile(options.approvals, text))
  }
  return given
}

/**
 * Refuses `--now` on a command that changes the fleet (a usage error, exit 1): its policies see
 * this machine's clock. `--now` is for offline `plan` and `drill` only.
 */
export function refuseNow(command: string, now: string | undefined): void {
  if (now !== undefined)
    throw new InputError(
      `"flotilla ${command}" does not take --now: the policies of a change that is applied see this machine's clock (the server's, through the API), never a time the one applying chose. --now is for offline "flotilla plan" and "flotilla drill" only: preview that time with "flotilla plan --now ${now}"`,
    )
}

/** `--now`: an ISO 8601 time with a zone, for freeze windows ("what would happen on Monday"). */
export function parseNow(text: string): Date {
  const date = new Date(text)
  if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(date.getTime())) {
    throw new InputError(
      `--now "${text}" is not a time; write it in ISO 8601 with a zone, e.g. 2026-11-27T09:00:00Z`,
    )
  }
  return date
}

/** Finds a target by id, account name or cluster alias; suggests the closest when there is none. */
export function findTarget(fleet: Fleet, wanted: string): Target {
  const found = fleet.targets.find((t) => t.id === wanted) ?? fleet.targets.find((t) => t.name === wanted)
  if (found) return found
  const names = fleet.targets.flatMap((t) => [t.id, t.name])
  const near = closest(wanted, names)
  throw new NotFoundError(
    `no target "${wanted}" in the fleet${near ? `; did you mean "${near}"?` : ''} (give an account id or name, or a cluster id or alias)`,
  )
}
